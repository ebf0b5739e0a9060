// LookupLog (discovery/lookup_log.h): the registry's one record of who asked
// about whom, read by the NOTIFY echo check (issue 22), the remap news
// (issue 22) and the port mapping news (issue 20). Bounded: what leaves the
// table (expired, evicted) leaves every reading.
#include "discovery/lookup_log.h"

#include <gtest/gtest.h>

namespace wgp {
namespace {

using namespace std::chrono_literals;

PublicKey key(uint8_t n) {
  PublicKey k{};
  k[0] = n;
  return k;
}

const Instant t0{1h};

TEST(LookupLog, AQuestionIsReadEveryWay) {
  LookupLog log(16, 10min);
  log.record(key(1), key(2), t0);  // 1 asked about 2
  log.record(key(3), key(2), t0 + 1s);
  log.record(key(1), key(4), t0 + 2s);
  EXPECT_TRUE(log.asked_within(key(1), key(2), t0 + 4s, 5s));
  EXPECT_FALSE(log.asked_within(key(1), key(2), t0 + 5s, 5s));  // the window is open-ended
  EXPECT_FALSE(log.asked_within(key(2), key(1), t0 + 1s, 5s));  // a question has a direction
  EXPECT_EQ(log.askers_of(key(2), t0 + 3s, 10min), (std::vector{key(1), key(3)}));
  EXPECT_EQ(log.asked_by(key(1), t0 + 3s, 10min), (std::vector{key(2), key(4)}));
  // A shorter window (the mapping news: 60 s) sees only the recent ones.
  EXPECT_EQ(log.askers_of(key(2), t0 + 60s + 500ms, 60s), (std::vector{key(3)}));
  EXPECT_TRUE(log.asked_by(key(2), t0 + 3s, 10min).empty());  // 2 asked nobody
}

TEST(LookupLog, TheLatestQuestionOfAPairCounts) {
  LookupLog log(16, 10min);
  log.record(key(1), key(2), t0);
  log.record(key(1), key(2), t0 + 9min);
  EXPECT_EQ(log.size(), 1u);
  EXPECT_EQ(log.askers_of(key(2), t0 + 15min, 10min), (std::vector{key(1)}));
  EXPECT_TRUE(log.asked_within(key(1), key(2), t0 + 9min + 4s, 5s));
}

TEST(LookupLog, QuestionsAreForgottenAfterTheMemory) {
  LookupLog log(16, 10min);
  log.record(key(1), key(2), t0);
  log.record(key(3), key(4), t0 + 1min);
  EXPECT_TRUE(log.askers_of(key(2), t0 + 10min, 1h).empty());  // the memory bounds every window
  log.record(key(5), key(6), t0 + 10min);                      // expiry runs with a question
  EXPECT_EQ(log.size(), 2u);
  EXPECT_TRUE(log.asked_by(key(1), t0 + 10min, 1h).empty());
  EXPECT_EQ(log.asked_by(key(3), t0 + 10min, 1h), (std::vector{key(4)}));
}

TEST(LookupLog, WhenFullTheOldestPairLeavesEveryReading) {
  LookupLog log(3, 10min);
  log.record(key(1), key(9), t0);
  log.record(key(2), key(9), t0 + 1s);
  log.record(key(3), key(9), t0 + 2s);
  log.record(key(1), key(8), t0 + 3s);  // full: (1, 9) goes
  EXPECT_EQ(log.size(), 3u);
  EXPECT_EQ(log.evicted(), 1u);
  EXPECT_EQ(log.askers_of(key(9), t0 + 4s, 10min), (std::vector{key(2), key(3)}));
  EXPECT_EQ(log.asked_by(key(1), t0 + 4s, 10min), (std::vector{key(8)}));
  EXPECT_FALSE(log.asked_within(key(1), key(9), t0 + 4s, 10min));
  // Asked again, the pair is back, and is the newest.
  log.record(key(1), key(9), t0 + 5s);  // (2, 9) goes
  EXPECT_EQ(log.askers_of(key(9), t0 + 6s, 10min), (std::vector{key(1), key(3)}));
}

// One asker filling the table with questions about strangers (each a pair
// of its own) keeps it at its bound, and pushes out only pairs, never more.
TEST(LookupLog, AFloodOfQuestionsStaysWithinTheBound) {
  LookupLog log(1000, 10min);
  log.record(key(1), key(2), t0);
  for (int i = 0; i < 100000; ++i) {
    PublicKey stranger{};
    stranger[1] = uint8_t(i);
    stranger[2] = uint8_t(i >> 8);
    stranger[3] = uint8_t(i >> 16);
    log.record(key(7), stranger, t0 + 1s);
  }
  EXPECT_EQ(log.size(), 1000u);
  EXPECT_TRUE(log.askers_of(key(2), t0 + 2s, 10min).empty());
  EXPECT_EQ(log.asked_by(key(7), t0 + 2s, 10min).size(), 1000u);
}

}  // namespace
}  // namespace wgp
