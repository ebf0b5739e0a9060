// TAI64N timestamps: the §6.3 value and the 2^24 ns rounding.
#include "crypto/tai64n.h"

#include <gtest/gtest.h>

#include "unit/crypto/test_hex.h"

namespace wgp {
namespace {

using namespace std::chrono;
using testing::hex_of;

WallTime at(int64_t sec, int64_t nsec) {
  return WallTime(duration_cast<WallTime::duration>(seconds(sec) + nanoseconds(nsec)));
}

TEST(Tai64n, TranscriptTimestamp) {
  EXPECT_EQ(hex_of(tai64n(at(1700000000, 0))), "400000006553f10a00000000");
}

TEST(Tai64n, UnixEpochIsTaiLabelWithTenLeapSeconds) {
  EXPECT_EQ(hex_of(tai64n(at(0, 0))), "400000000000000a00000000");
}

TEST(Tai64n, NanosecondsRoundDownToMultipleOf2To24) {
  // 123456789 = 0x075bcd15 -> 0x07000000
  EXPECT_EQ(hex_of(tai64n(at(1700000000, 123456789))), "400000006553f10a07000000");
  // 16777215 = 2^24 - 1 -> 0; 16777216 = 2^24 stays.
  EXPECT_EQ(hex_of(tai64n(at(1700000000, 16777215))), "400000006553f10a00000000");
  EXPECT_EQ(hex_of(tai64n(at(1700000000, 16777216))), "400000006553f10a01000000");
  // 999999999 = 0x3b9ac9ff -> 0x3b000000
  EXPECT_EQ(hex_of(tai64n(at(1700000000, 999999999))), "400000006553f10a3b000000");
}

TEST(Tai64n, OrderingIsStrict) {
  Tai64n a = tai64n(at(1700000000, 0));
  Tai64n b = tai64n(at(1700000000, 20000000));  // 20 ms later: next 2^24 ns step
  Tai64n c = tai64n(at(1700000001, 0));
  EXPECT_TRUE(tai64n_after(b, a));
  EXPECT_TRUE(tai64n_after(c, b));
  EXPECT_FALSE(tai64n_after(a, a));
  EXPECT_FALSE(tai64n_after(a, c));
  // Two initiations within one 16.8 ms step carry the same timestamp.
  EXPECT_FALSE(tai64n_after(tai64n(at(1700000000, 10000000)), a));
}

}  // namespace
}  // namespace wgp
