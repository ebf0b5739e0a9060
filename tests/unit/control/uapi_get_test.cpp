#include "control/uapi_get.h"

#include <gtest/gtest.h>

#include "control/uapi_reply.h"
#include "fake_device.h"
#include "test_keys.h"

namespace wgp::control {
namespace {

using namespace wgp::testing;
using std::chrono::nanoseconds;
using std::chrono::seconds;

WallTime at(int64_t sec, int64_t nsec = 0) {
  return WallTime(std::chrono::duration_cast<WallTime::duration>(seconds(sec) + nanoseconds(nsec)));
}

TEST(UapiGet, EmptyDeviceIsJustErrno) {
  FakeDevice device;
  EXPECT_EQ(format_get_reply(device.snapshot()), "errno=0\n\n");
}

TEST(UapiGet, GoldenReplyInWireguardGoOrder) {
  FakeDevice device;
  device.set_private_key(secret(kAlicePriv));
  ASSERT_FALSE(device.set_listen_port(51820));
  ASSERT_FALSE(device.set_fwmark(0xca6c));
  device.extra() = {{"public_endpoint", "203.0.113.7:51820"}};
  ASSERT_TRUE(device.add_peer(pub(kBobPub)));
  FakePeer* bob = device.find(pub(kBobPub));
  bob->preshared_key = secret(kPeer2);
  bob->endpoint = endpoint("[fd00::2]:51821");
  bob->last_handshake = at(1700000000, 123456789);
  bob->tx_bytes = 148;
  bob->rx_bytes = 92;
  bob->persistent_keepalive = 25;
  bob->allowed_ips = {prefix("10.0.0.2/32"), prefix("fd00::2/128")};
  bob->extra = {{"endpoint_source", "dns-sd"}};
  ASSERT_TRUE(device.add_peer(pub(kPeer1)));

  const std::string expected = "private_key=" + kAlicePriv +
                               "\n"
                               "listen_port=51820\n"
                               "fwmark=51820\n"
                               "wgpunch_public_endpoint=203.0.113.7:51820\n"
                               "public_key=" +
                               kBobPub +
                               "\n"
                               "preshared_key=" +
                               kPeer2 +
                               "\n"
                               "protocol_version=1\n"
                               "endpoint=[fd00::2]:51821\n"
                               "last_handshake_time_sec=1700000000\n"
                               "last_handshake_time_nsec=123456789\n"
                               "tx_bytes=148\n"
                               "rx_bytes=92\n"
                               "persistent_keepalive_interval=25\n"
                               "allowed_ip=10.0.0.2/32\n"
                               "allowed_ip=fd00::2/128\n"
                               "wgpunch_endpoint_source=dns-sd\n"
                               "public_key=" +
                               kPeer1 +
                               "\n"
                               "preshared_key=" +
                               kZeroKey +
                               "\n"
                               "protocol_version=1\n"
                               "last_handshake_time_sec=0\n"
                               "last_handshake_time_nsec=0\n"
                               "tx_bytes=0\n"
                               "rx_bytes=0\n"
                               "persistent_keepalive_interval=0\n"
                               "errno=0\n\n";
  EXPECT_EQ(format_get_reply(device.snapshot()), expected);
}

TEST(UapiGet, OmitsUnsetDeviceFieldsButAlwaysPeerPsk) {
  DeviceSnapshot s;
  s.peers.emplace_back().public_key = pub(kPeer1);
  s.peers.back().endpoint = endpoint("192.0.2.1:1");
  std::string reply = format_get_reply(s);
  EXPECT_EQ(reply.find("private_key="), std::string::npos);
  EXPECT_EQ(reply.find("listen_port="), std::string::npos);
  EXPECT_EQ(reply.find("fwmark="), std::string::npos);
  EXPECT_EQ(reply.rfind("public_key=" + kPeer1 + "\npreshared_key=" + kZeroKey + "\n", 0), 0u);
  EXPECT_NE(reply.find("\nendpoint=192.0.2.1:1\n"), std::string::npos);
}

TEST(UapiGet, AllZeroPrivateKeyIsNotEmitted) {
  DeviceSnapshot s;
  s.private_key = PrivateKey();
  EXPECT_EQ(format_get_reply(s), "errno=0\n\n");
}

TEST(UapiGet, ExtraFieldsCannotBreakTheLineProtocol) {
  DeviceSnapshot s;
  s.extra = {{"Bad Key=x", "line1\nline2\r"}};
  EXPECT_EQ(format_get_reply(s), "wgpunch_bad_key_x=line1 line2 \nerrno=0\n\n");
  EXPECT_EQ(sanitize_extra_key("ok_key_9"), "ok_key_9");
  EXPECT_EQ(sanitize_extra_value("tab\there"), "tab here");
}

TEST(UapiGet, MaximumCountersAndKeepalive) {
  DeviceSnapshot s;
  s.listen_port = 65535;
  s.fwmark = 0xffffffff;
  auto& p = s.peers.emplace_back();
  p.public_key = pub(kPeer1);
  p.rx_bytes = UINT64_MAX;
  p.tx_bytes = UINT64_MAX - 1;
  p.persistent_keepalive = 65535;
  std::string reply = format_get_reply(s);
  EXPECT_NE(reply.find("listen_port=65535\nfwmark=4294967295\n"), std::string::npos);
  EXPECT_NE(reply.find("tx_bytes=18446744073709551614\nrx_bytes=18446744073709551615\n"),
            std::string::npos);
  EXPECT_NE(reply.find("persistent_keepalive_interval=65535\n"), std::string::npos);
}

// The reply parser (the status client's half) reads back what the formatter wrote.
TEST(UapiReply, RoundTripsASnapshot) {
  FakeDevice device;
  device.set_private_key(secret(kAlicePriv));
  ASSERT_FALSE(device.set_listen_port(1234));
  device.extra() = {{"role", "registry"}};
  device.add_peer(pub(kBobPub));
  FakePeer* bob = device.find(pub(kBobPub));
  bob->preshared_key = secret(kPeer2);
  bob->endpoint = endpoint("198.51.100.9:4242");
  bob->last_handshake = at(1700000001, 5);
  bob->rx_bytes = 7;
  bob->tx_bytes = 8;
  bob->persistent_keepalive = 5;
  bob->allowed_ips = {prefix("10.1.0.0/16")};
  bob->extra = {{"discovered", "yes"}};
  device.add_peer(pub(kPeer1));

  DeviceSnapshot parsed;
  auto result = parse_get_reply(format_get_reply(device.snapshot()), parsed);
  ASSERT_TRUE(result.ok) << result.error;
  ASSERT_TRUE(parsed.private_key.has_value());
  EXPECT_EQ(to_hex(parsed.private_key->span()), kAlicePriv);
  EXPECT_EQ(parsed.listen_port, 1234);
  EXPECT_EQ(parsed.extra, (ExtraFields{{"role", "registry"}}));
  ASSERT_EQ(parsed.peers.size(), 2u);
  const PeerSnapshot& p = parsed.peers[0];
  EXPECT_EQ(p.public_key, pub(kBobPub));
  EXPECT_EQ(to_hex(p.preshared_key.span()), kPeer2);
  EXPECT_EQ(p.endpoint, endpoint("198.51.100.9:4242"));
  EXPECT_EQ(p.last_handshake, at(1700000001, 5));
  EXPECT_EQ(p.rx_bytes, 7u);
  EXPECT_EQ(p.tx_bytes, 8u);
  EXPECT_EQ(p.persistent_keepalive, 5);
  EXPECT_EQ(p.allowed_ips, std::vector<IpPrefix>{prefix("10.1.0.0/16")});
  EXPECT_EQ(p.extra, (ExtraFields{{"discovered", "yes"}}));
  EXPECT_FALSE(parsed.peers[1].last_handshake.has_value());
  EXPECT_TRUE(parsed.peers[1].preshared_key.is_zero());
}

TEST(UapiReply, DeviceKeysAfterAPeerAreIgnoredLikeWg) {
  DeviceSnapshot parsed;
  auto result = parse_get_reply("public_key=" + kPeer1 + "\nlisten_port=9\nerrno=0\n\n", parsed);
  ASSERT_TRUE(result.ok);
  EXPECT_EQ(parsed.listen_port, 0);
  EXPECT_EQ(parsed.peers.size(), 1u);
}

TEST(UapiReply, RejectsMalformedReplies) {
  struct Case {
    const char* reply;
    int server_errno;
  } cases[] = {
      {"", 0},                          // nothing
      {"listen_port=1\n", 0},           // no errno
      {"listen_port=1\n\n", 0},         // blank line before errno
      {"listen_port\nerrno=0\n\n", 0},  // no '='
      {"listen_port=70000\nerrno=0\n\n", 0},
      {"public_key=zz\nerrno=0\n\n", 0},
      {"errno=-22\n\n", -22},  // the server's own failure
      {"errno=x\n\n", 0},
      {"errno=0", 0},  // unterminated line
  };
  for (const auto& c : cases) {
    DeviceSnapshot parsed;
    auto result = parse_get_reply(c.reply, parsed);
    EXPECT_FALSE(result.ok) << c.reply;
    EXPECT_FALSE(result.error.empty()) << c.reply;
    EXPECT_EQ(result.server_errno, c.server_errno) << c.reply;
  }
}

TEST(UapiReply, ErrnoReply) {
  EXPECT_EQ(parse_errno_reply("errno=0\n\n"), 0);
  EXPECT_EQ(parse_errno_reply("errno=-98\n\n"), -98);
  EXPECT_EQ(parse_errno_reply("errno=\n\n"), std::nullopt);
  EXPECT_EQ(parse_errno_reply("errn=0\n\n"), std::nullopt);
}

}  // namespace
}  // namespace wgp::control
