// RFC 1982 serial arithmetic and the registry's serial policy (dnssd/serial.h).
#include "dnssd/serial.h"

#include <gtest/gtest.h>

namespace wgp::dnssd {
namespace {

TEST(Serial, Rfc1982Comparison) {
  struct Case {
    uint32_t a, b;
    bool less, greater;
  } cases[] = {
      {1, 2, true, false},
      {2, 1, false, true},
      {7, 7, false, false},
      {0xFFFFFFFF, 0, true, false},  // wraps: 0 is after 2^32 - 1
      {0xFFFFFFF0, 5, true, false},
      {0, 0x7FFFFFFF, true, false},   // 2^31 - 1 ahead: still later
      {0, 0x80000000, false, false},  // exactly 2^31 apart: undefined, neither
      {0x80000000, 0, false, false},
      {0, 0x80000001, false, true},  // more than 2^31 ahead means behind
      {1700000000, 1700000001, true, false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(serial_less(c.a, c.b), c.less) << c.a << " < " << c.b;
    EXPECT_EQ(serial_less(c.b, c.a), c.greater) << c.a << " > " << c.b;
  }
}

TEST(Serial, NextFollowsTheClockAndNeverGoesBack) {
  // The clock ahead: its value.
  EXPECT_EQ(next_serial(100, 5000), 5000u);
  // The clock not ahead (same second, or set back): previous + 1.
  EXPECT_EQ(next_serial(5000, 5000), 5001u);
  EXPECT_EQ(next_serial(5000, 4000), 5001u);
  // Wrap-around of the serial: 2^32 - 1, then 0.
  EXPECT_EQ(next_serial(0xFFFFFFFF, 0xFFFFFFFF), 0u);
  // A Unix time past 2^32 (year 2106) wraps as RFC 1982 does.
  EXPECT_EQ(next_serial(0xFFFFFFF0, (uint64_t(1) << 32) + 3), 3u);
  // Commits one second apart from a start at T: T+1, T+2, ... never ahead.
  uint32_t s = 1700000000;
  for (uint64_t t = 1700000001; t < 1700000100; ++t) {
    uint32_t n = next_serial(s, t);
    EXPECT_TRUE(serial_less(s, n));
    EXPECT_EQ(n, uint32_t(t));
    s = n;
  }
}

}  // namespace
}  // namespace wgp::dnssd
