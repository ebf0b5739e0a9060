// The replay window against the kernel's selftest script (src/selftest/counter.c,
// whose REJECT_AFTER_MESSAGES equals our kRejectAfterMessages) and the loops of
// wireguard-go's replay/replay_test.go that differ from it.
#include "noise/replay.h"

#include <gtest/gtest.h>

#include "noise/wire.h"

namespace wgp::noise {
namespace {

constexpr uint64_t kWindow = ReplayWindow::kWindowSize;  // COUNTER_WINDOW_SIZE
constexpr uint64_t kLim = kWindow + 1;                   // T_LIM
constexpr uint64_t kReject = kRejectAfterMessages;       // REJECT_AFTER_MESSAGES

static_assert(kWindow == 8128);
static_assert(kReject == 0xFFFFFFFFFFFFE03Eull);

struct Step {
  int number;
  uint64_t counter;
  bool accepted;
};

// counter.c, tests 1..34, in order, against one window.
constexpr Step kKernelScript[] = {
    {1, 0, true},
    {2, 1, true},
    {3, 1, false},
    {4, 9, true},
    {5, 8, true},
    {6, 7, true},
    {7, 7, false},
    {8, kLim, true},
    {9, kLim - 1, true},
    {10, kLim - 1, false},
    {11, kLim - 2, true},
    {12, 2, true},
    {13, 2, false},
    {14, kLim + 16, true},
    {15, 3, false},
    {16, kLim + 16, false},
    {17, kLim * 4, true},
    {18, kLim * 4 - (kLim - 1), true},
    {19, 10, false},
    {20, kLim * 4 - kLim, false},
    {21, kLim * 4 - (kLim + 1), false},
    {22, kLim * 4 - (kLim - 2), true},
    {23, kLim * 4 + 1 - kLim, false},
    {24, 0, false},
    {25, kReject, false},
    {26, kReject - 1, true},
    {27, kReject, false},
    {28, kReject - 1, false},
    {29, kReject - 2, true},
    {30, kReject + 1, false},
    {31, kReject + 2, false},
    {32, kReject - 2, false},
    {33, kReject - 3, true},
    {34, 0, false},
};

TEST(ReplayWindow, KernelScript) {
  ReplayWindow w;
  for (const Step& s : kKernelScript) {
    EXPECT_EQ(w.check_and_update(s.counter), s.accepted)
        << "counter.c test " << s.number << " (counter " << s.counter << ")";
  }
}

// Runs `counter` expecting `accepted`, naming the loop and position on failure.
void expect(ReplayWindow& w, uint64_t counter, bool accepted, const char* loop) {
  EXPECT_EQ(w.check_and_update(counter), accepted) << loop << ": counter " << counter;
}

// counter.c window-edge loop 1: 1..WINDOW ascending, then 0 is still inside.
TEST(ReplayWindow, KernelLoop1AscendingThenZero) {
  ReplayWindow w;
  for (uint64_t i = 1; i <= kWindow; ++i) expect(w, i, true, "loop1");
  expect(w, 0, true, "loop1");
  expect(w, 0, false, "loop1");
}

// Loop 2: 2..WINDOW+1 ascending; 1 is exactly at the edge, 0 just outside.
TEST(ReplayWindow, KernelLoop2AscendingEdge) {
  ReplayWindow w;
  for (uint64_t i = 2; i <= kWindow + 1; ++i) expect(w, i, true, "loop2");
  expect(w, 1, true, "loop2");
  expect(w, 0, false, "loop2");
}

// Loop 3: WINDOW..0 descending, all accepted.
TEST(ReplayWindow, KernelLoop3DescendingToZero) {
  ReplayWindow w;
  for (uint64_t i = kWindow + 1; i-- > 0;) expect(w, i, true, "loop3");
}

// Loop 4: WINDOW+1..1 descending, then 0 is one past the edge.
TEST(ReplayWindow, KernelLoop4DescendingThenZeroTooOld) {
  ReplayWindow w;
  for (uint64_t i = kWindow + 2; i-- > 1;) expect(w, i, true, "loop4");
  expect(w, 0, false, "loop4");
}

// Loop 5: WINDOW..1 descending, then WINDOW+1 pushes 0 out of the window.
TEST(ReplayWindow, KernelLoop5DescendingThenAdvance) {
  ReplayWindow w;
  for (uint64_t i = kWindow + 1; i-- > 1;) expect(w, i, true, "loop5");
  expect(w, kWindow + 1, true, "loop5");
  expect(w, 0, false, "loop5");
}

// Loop 6: WINDOW..1 descending, 0 while still inside, then WINDOW+1.
TEST(ReplayWindow, KernelLoop6DescendingZeroThenAdvance) {
  ReplayWindow w;
  for (uint64_t i = kWindow + 1; i-- > 1;) expect(w, i, true, "loop6");
  expect(w, 0, true, "loop6");
  expect(w, kWindow + 1, true, "loop6");
}

// wireguard-go bulk test 3 differs from the kernel's loop 3: WINDOW+1..1.
TEST(ReplayWindow, WgGoBulk3DescendingFromWindowPlusOne) {
  ReplayWindow w;
  for (uint64_t i = kWindow + 1; i > 0; --i) expect(w, i, true, "wg-go bulk3");
}

// wireguard-go bulk test 4 differs from the kernel's loop 4: WINDOW+2..2, then 0.
TEST(ReplayWindow, WgGoBulk4DescendingFromWindowPlusTwo) {
  ReplayWindow w;
  for (uint64_t i = kWindow + 2; i > 1; --i) expect(w, i, true, "wg-go bulk4");
  expect(w, 0, false, "wg-go bulk4");
}

TEST(ReplayWindow, ResetForgetsEverything) {
  ReplayWindow w;
  ASSERT_TRUE(w.check_and_update(5));
  ASSERT_TRUE(w.check_and_update(100000));
  ASSERT_FALSE(w.check_and_update(5));
  w.reset();
  EXPECT_TRUE(w.check_and_update(5));
  EXPECT_TRUE(w.check_and_update(0));
  EXPECT_FALSE(w.check_and_update(5));
}

// A jump of more than a whole ring must clear every word, or bits from the
// previous lap would make new counters look replayed.
TEST(ReplayWindow, JumpBeyondRingClearsStaleBits) {
  ReplayWindow w;
  for (uint64_t i = 0; i < 8192; ++i) ASSERT_TRUE(w.check_and_update(i));
  const uint64_t far = 8192 * 5 + 17;
  ASSERT_TRUE(w.check_and_update(far));
  // Every counter inside the new window that maps to the old bits is fresh.
  for (uint64_t i = far - kWindow; i < far; ++i) ASSERT_TRUE(w.check_and_update(i)) << i;
  EXPECT_FALSE(w.check_and_update(far - kWindow - 1));
}

// A jump of exactly one ring lap: the same ring slots, a different lap.
TEST(ReplayWindow, OneLapLaterIsFresh) {
  ReplayWindow w;
  ASSERT_TRUE(w.check_and_update(64));
  ASSERT_TRUE(w.check_and_update(64 + 8192));
  EXPECT_FALSE(w.check_and_update(64));  // now too old
  EXPECT_TRUE(w.check_and_update(64 + 8191));
  EXPECT_FALSE(w.check_and_update(64 + 8192));
}

TEST(ReplayWindow, RejectedCountersDoNotMoveTheWindow) {
  ReplayWindow w;
  ASSERT_TRUE(w.check_and_update(10));
  EXPECT_FALSE(w.check_and_update(UINT64_MAX));
  EXPECT_FALSE(w.check_and_update(kReject));
  // Had the window moved to the top, 11 would be far too old.
  EXPECT_TRUE(w.check_and_update(11));
  EXPECT_TRUE(w.check_and_update(3));
}

TEST(ReplayWindow, OutOfOrderInsideWindowAcceptedOnce) {
  ReplayWindow w;
  // Every counter in 0..20000 in a scrambled but window-respecting order.
  const uint64_t n = 20000;
  for (uint64_t base = 0; base < n; base += 1000) {
    for (uint64_t k = 0; k < 1000; ++k) {
      uint64_t c = base + (k * 617) % 1000;  // 617 is coprime with 1000
      ASSERT_TRUE(w.check_and_update(c)) << c;
    }
  }
  for (uint64_t c = n - 1000; c < n; ++c) EXPECT_FALSE(w.check_and_update(c)) << c;
}

}  // namespace
}  // namespace wgp::noise
