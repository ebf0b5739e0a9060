#include "control/uapi_protocol.h"

#include <gtest/gtest.h>

#include "control/uapi_get.h"
#include "fake_device.h"
#include "test_keys.h"

namespace wgp::control {
namespace {

using namespace wgp::testing;
using Status = UapiProtocol::Status;

// Feeds `input` in one piece and collects every reply until input runs out
// or the connection closes. `closed` tells which.
std::string run(UapiProtocol& protocol, std::string_view input, bool* closed = nullptr) {
  protocol.receive(input);
  std::string replies;
  for (int guard = 0; guard < 1000; ++guard) {
    Status status = protocol.step();
    if (status == Status::kReply) {
      replies += protocol.take_reply();
      continue;
    }
    if (closed) *closed = status == Status::kClose;
    break;
  }
  return replies;
}

TEST(UapiProtocol, GetReply) {
  FakeDevice device;
  ASSERT_FALSE(device.set_listen_port(51820));
  UapiProtocol protocol(device, 4096, 1 << 20);
  bool closed = true;
  EXPECT_EQ(run(protocol, "get=1\n\n", &closed), "listen_port=51820\nerrno=0\n\n");
  EXPECT_FALSE(closed);
}

TEST(UapiProtocol, SeveralRequestsOnOneConnection) {
  FakeDevice device;
  UapiProtocol protocol(device, 4096, 1 << 20);
  std::string input =
      "set=1\nlisten_port=1\n\nget=1\n\nset=1\nlisten_port=x\nfwmark=3\n\n"
      "set=1\npublic_key=" +
      kPeer1 + "\n\nget=1\n\n";
  bool closed = true;
  std::string replies = run(protocol, input, &closed);
  EXPECT_FALSE(closed);
  std::string peer_block = format_get_reply(device.snapshot());
  EXPECT_EQ(replies, "errno=0\n\nlisten_port=1\nerrno=0\n\nerrno=-22\n\nerrno=0\n\n" + peer_block);
  EXPECT_EQ(device.fwmark(), 0u);  // skipped after the error, not applied as a new request
  EXPECT_TRUE(device.has_peer(pub(kPeer1)));
}

TEST(UapiProtocol, RequestsSplitAcrossReadsAtEveryByte) {
  FakeDevice device;
  UapiProtocol protocol(device, 4096, 1 << 20);
  std::string input = "set=1\nlisten_port=77\npublic_key=" + kPeer2 +
                      "\nallowed_ip=10.0.0.0/8\n\n"
                      "get=1\n\n";
  std::string replies;
  for (char c : input) replies += run(protocol, std::string_view(&c, 1));
  EXPECT_EQ(replies, "errno=0\n\n" + format_get_reply(device.snapshot()));
  EXPECT_EQ(device.listen_port(), 77);
}

TEST(UapiProtocol, OneReplyPerStep) {
  FakeDevice device;
  UapiProtocol protocol(device, 4096, 1 << 20);
  protocol.receive("get=1\n\nget=1\n\nget=1\n\n");
  int replies = 0;
  while (protocol.step() == Status::kReply) {
    EXPECT_EQ(protocol.take_reply(), "errno=0\n\n");
    ++replies;
  }
  EXPECT_EQ(replies, 3);
}

TEST(UapiProtocol, UnknownOperationCloses) {
  for (const char* input : {"hello\n", "\n", "get=2\n\n", "GET=1\n\n", "set=1 \n\n", "set\n"}) {
    FakeDevice device;
    UapiProtocol protocol(device, 4096, 1 << 20);
    bool closed = false;
    EXPECT_EQ(run(protocol, input, &closed), "") << input;
    EXPECT_TRUE(closed) << input;
    EXPECT_FALSE(protocol.last_error().empty());
  }
}

TEST(UapiProtocol, GetWithTrailingDataIsEinvalThenClose) {
  FakeDevice device;
  UapiProtocol protocol(device, 4096, 1 << 20);
  bool closed = false;
  EXPECT_EQ(run(protocol, "get=1\nlisten_port=5\n\n", &closed), "errno=-22\n\n");
  EXPECT_TRUE(closed);
}

TEST(UapiProtocol, OverlongLineCloses) {
  FakeDevice device;
  UapiProtocol protocol(device, 64, 1 << 20);
  bool closed = false;
  EXPECT_EQ(run(protocol, "set=1\n", &closed), "");
  EXPECT_FALSE(closed);
  // No newline yet, but already longer than any line may be: close without waiting.
  EXPECT_EQ(run(protocol, std::string(65, 'a'), &closed), "");
  EXPECT_TRUE(closed);
}

TEST(UapiProtocol, OverlongCompleteLineCloses) {
  FakeDevice device;
  UapiProtocol protocol(device, 64, 1 << 20);
  bool closed = false;
  run(protocol, "set=1\nlisten_port=1" + std::string(100, '0') + "\n\n", &closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(device.listen_port(), 0);
}

TEST(UapiProtocol, OversizedSetRequestCloses) {
  FakeDevice device;
  UapiProtocol protocol(device, 4096, 1000);
  std::string input = "set=1\n";
  for (int i = 0; i < 100; ++i) input += "listen_port=" + std::to_string(i) + "\n";
  bool closed = false;
  EXPECT_EQ(run(protocol, input + "\n", &closed), "");
  EXPECT_TRUE(closed);
  EXPECT_GT(device.listen_port(), 0);  // lines before the limit were applied, as they arrived
}

TEST(UapiProtocol, NothingHappensAfterClose) {
  FakeDevice device;
  UapiProtocol protocol(device, 4096, 1 << 20);
  bool closed = false;
  run(protocol, "junk\nset=1\nlisten_port=9\n\n", &closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(run(protocol, "set=1\nlisten_port=9\n\n", &closed), "");
  EXPECT_EQ(device.listen_port(), 0);
}

}  // namespace
}  // namespace wgp::control
