// parse_get_reply on handshake times that do not fit WallTime. fuzz_uapi found
// `last_handshake_time_sec=2305843009213693952`: sec * 1e9 overflowed int64 (UB,
// caught by UBSan) in the conversion to nanoseconds. The input is kept in
// fuzz/regressions/fuzz_uapi/; these are the same bytes as a unit test.
#include <gtest/gtest.h>

#include <string>

#include "control/uapi_get.h"
#include "control/uapi_reply.h"
#include "test_keys.h"

namespace wgp::control {
namespace {

using namespace wgp::testing;

GetReplyResult parse_times(const std::string& sec, const std::string& nsec, DeviceSnapshot& out) {
  return parse_get_reply("public_key=" + kBobPub + "\nlast_handshake_time_sec=" + sec +
                             "\nlast_handshake_time_nsec=" + nsec + "\nerrno=0\n\n",
                         out);
}

TEST(UapiReplyTime, FuzzerFoundOverflowingSecondsAreRejected) {
  for (const char* sec :
       {"2305843009213693952", "00000000000000000000000000000000000000000002305843009213693952",
        "9223372036854775807", "-9223372036854775808", "9223372036", "-9223372036"}) {
    DeviceSnapshot parsed;
    GetReplyResult r = parse_times(sec, "0", parsed);
    EXPECT_FALSE(r.ok) << sec;
    EXPECT_EQ(r.error, "bad value for last_handshake_time_sec") << sec;
  }
}

TEST(UapiReplyTime, NanosecondsOutsideOneSecondAreRejected) {
  for (const char* nsec : {"1000000000", "-1", "9223372036854775807"}) {
    DeviceSnapshot parsed;
    GetReplyResult r = parse_times("1700000000", nsec, parsed);
    EXPECT_FALSE(r.ok) << nsec;
    EXPECT_EQ(r.error, "bad value for last_handshake_time_nsec") << nsec;
  }
}

TEST(UapiReplyTime, LimitsOfTheRangeAreExact) {
  DeviceSnapshot parsed;
  GetReplyResult r = parse_times("9223372035", "999999999", parsed);
  ASSERT_TRUE(r.ok) << r.error;
  ASSERT_EQ(parsed.peers.size(), 1u);
  EXPECT_EQ(parsed.peers[0].last_handshake->time_since_epoch(),
            std::chrono::nanoseconds(9'223'372'035'999'999'999));

  // Before 1970 the formatter writes a negative second and a positive nsec:
  // what it writes must still parse back.
  DeviceSnapshot device;
  PeerSnapshot& peer = device.peers.emplace_back();
  peer.public_key.fill(7);
  peer.last_handshake = WallTime(std::chrono::nanoseconds(-1'500'000'000));
  DeviceSnapshot back;
  r = parse_get_reply(format_get_reply(device), back);
  ASSERT_TRUE(r.ok) << r.error;
  ASSERT_EQ(back.peers.size(), 1u);
  EXPECT_EQ(back.peers[0].last_handshake, peer.last_handshake);

  DeviceSnapshot low;
  r = parse_times("-9223372035", "0", low);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(low.peers[0].last_handshake->time_since_epoch(),
            std::chrono::nanoseconds(-9'223'372'035'000'000'000));
}

}  // namespace
}  // namespace wgp::control
