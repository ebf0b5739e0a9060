// LruTable (util/lru_table.h), the bounded table under every table a peer or
// a stranger fills (issue 17): entries expire a fixed time after their last
// touch, the least recently touched goes first when full (or the new key is
// refused), and the next expiry is known without a scan.
#include "util/lru_table.h"

#include <gtest/gtest.h>

#include <functional>

namespace wgp {
namespace {

using namespace std::chrono_literals;
using Table = LruTable<int, int, std::hash<int>>;

TEST(LruTable, EntriesExpireALifetimeAfterTheirLastTouch) {
  Table t(8, 10s);
  Instant now{1h};
  t.insert(1, 100, now);
  t.insert(2, 200, now + 1s);
  ASSERT_NE(t.find(1, now + 9s), nullptr);
  EXPECT_EQ(*t.touch(1, now + 9s), 100);  // now it lives until +19 s
  EXPECT_EQ(t.next_expiry(), now + 11s);  // 2 is the least recently touched
  EXPECT_EQ(t.find(2, now + 11s), nullptr);
  EXPECT_NE(t.find(1, now + 18s), nullptr);
  EXPECT_EQ(t.find(1, now + 19s), nullptr);
  EXPECT_EQ(t.size(), 0u);
}

TEST(LruTable, WhenFullTheLeastRecentlyTouchedGoes) {
  Table t(3, 1h);
  Instant now{1h};
  for (int i = 0; i < 3; ++i) t.insert(i, i, now + i * 1s);
  t.touch(0, now + 10s);
  t.insert(3, 3, now + 11s);  // 1 is the least recently touched now
  EXPECT_EQ(t.size(), 3u);
  EXPECT_EQ(t.evicted(), 1u);
  EXPECT_EQ(t.find(1, now + 11s), nullptr);
  EXPECT_NE(t.find(0, now + 11s), nullptr);
  EXPECT_NE(t.find(3, now + 11s), nullptr);
}

TEST(LruTable, ExpiredEntriesMakeRoomBeforeALiveOneIsEvicted) {
  Table t(2, 10s);
  Instant now{1h};
  t.insert(1, 1, now);
  t.insert(2, 2, now + 5s);
  t.insert(3, 3, now + 12s);  // 1 expired at +10 s: it goes, 2 stays
  EXPECT_EQ(t.evicted(), 0u);
  EXPECT_NE(t.find(2, now + 12s), nullptr);
}

TEST(LruTable, ARefusingTableTurnsNewKeysAwayWhileFull) {
  Table t(2, 10s, Table::WhenFull::kRefuse);
  Instant now{1h};
  auto make = [] { return 7; };
  ASSERT_NE(t.touch_or_insert(1, now, make), nullptr);
  ASSERT_NE(t.touch_or_insert(2, now, make), nullptr);
  EXPECT_EQ(t.touch_or_insert(3, now + 1s, make), nullptr);
  EXPECT_NE(t.touch_or_insert(1, now + 1s, make), nullptr);   // a known key is fine
  EXPECT_NE(t.touch_or_insert(3, now + 10s, make), nullptr);  // 2 expired: room
}

TEST(LruTable, ExpiryTellsWhatLeft) {
  Table t(8, 10s);
  Instant now{1h};
  for (int i = 0; i < 5; ++i) t.insert(i, i, now + i * 1s);
  std::vector<int> gone;
  t.expire(now + 12s, [&](int k, int) { gone.push_back(k); });
  EXPECT_EQ(gone, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(t.size(), 2u);
  EXPECT_EQ(t.next_expiry(), now + 13s);
}

// What leaves to make room for an insert is told too (discovery/lookup_log.h
// keeps indexes in step with the table): the expired first, then the oldest.
TEST(LruTable, AnInsertTellsWhatItPushedOut) {
  Table t(3, 10s);
  Instant now{1h};
  for (int i = 0; i < 3; ++i) t.insert(i, i, now + i * 4s);  // 0 expires at +10 s
  std::vector<int> gone;
  auto dropped = [&](int k, int) { gone.push_back(k); };
  auto make = [] { return 7; };
  t.touch_or_insert(3, now + 10s, make, dropped);
  EXPECT_EQ(gone, (std::vector<int>{0}));
  t.touch_or_insert(4, now + 11s, make, dropped);  // nothing expired: 1 is evicted
  EXPECT_EQ(gone, (std::vector<int>{0, 1}));
  t.touch_or_insert(2, now + 11s, make, dropped);  // known: nothing leaves
  EXPECT_EQ(gone.size(), 2u);
  EXPECT_EQ(t.evicted(), 1u);
}

}  // namespace
}  // namespace wgp
