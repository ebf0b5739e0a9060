#include "control/uapi_set.h"

#include <gtest/gtest.h>

#include "fake_device.h"
#include "test_keys.h"

namespace wgp::control {
namespace {

using namespace wgp::testing;

int set(FakeDevice& device, const std::string& body, std::string* why = nullptr) {
  return apply_set_request(device, body, why);
}

TEST(UapiSet, EmptyRequestSucceeds) {
  FakeDevice device;
  EXPECT_EQ(set(device, ""), 0);
  EXPECT_EQ(set(device, "\n"), 0);
}

TEST(UapiSet, PrivateKeyIsClampedAndZeroRemovesIt) {
  FakeDevice device;
  ASSERT_EQ(set(device, "private_key=" + kAlicePriv + "\n"), 0);
  ASSERT_TRUE(device.private_key().has_value());
  EXPECT_EQ(to_hex(device.private_key()->span()), kAlicePrivClamped);
  // Upper-case hex is accepted too.
  std::string upper = kAlicePriv;
  for (char& c : upper) c = static_cast<char>(toupper(c));
  ASSERT_EQ(set(device, "private_key=" + upper + "\n"), 0);
  EXPECT_EQ(to_hex(device.private_key()->span()), kAlicePrivClamped);
  ASSERT_EQ(set(device, "private_key=" + kZeroKey + "\n"), 0);
  EXPECT_FALSE(device.private_key().has_value());
}

TEST(UapiSet, ListenPortAndFwmark) {
  FakeDevice device;
  ASSERT_EQ(set(device, "listen_port=51820\nfwmark=4294967295\n"), 0);
  EXPECT_EQ(device.listen_port(), 51820);
  EXPECT_EQ(device.fwmark(), 0xffffffffu);
  ASSERT_EQ(set(device, "listen_port=0\nfwmark=0\n"), 0);
  EXPECT_EQ(device.listen_port(), FakeDevice::kRandomPort);
  EXPECT_EQ(device.fwmark(), 0u);
  ASSERT_EQ(set(device, "listen_port=00080\n"), 0);  // leading zeros: Go's ParseUint takes them
  EXPECT_EQ(device.listen_port(), 80);
}

TEST(UapiSet, BadDeviceValuesAreEinval) {
  const char* bad[] = {
      "private_key=00",
      "private_key=",
      "private_key=zz07 6d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
      "listen_port=65536",
      "listen_port=-1",
      "listen_port=+1",
      "listen_port= 1",
      "listen_port=",
      "listen_port=0x10",
      "fwmark=4294967296",
      "fwmark=0x1",
      "fwmark=off",
      "replace_peers=false",
      "replace_peers=TRUE",
      "replace_peers=",
      "no_such_key=1",
      "endpoint=1.2.3.4:5",  // a peer key before any public_key
      "allowed_ip=10.0.0.0/8",
      "=",
  };
  for (const char* line : bad) {
    FakeDevice device;
    std::string why;
    EXPECT_EQ(set(device, std::string(line) + "\n", &why), kUapiEinval) << line;
    EXPECT_FALSE(why.empty()) << line;
  }
}

TEST(UapiSet, LineWithoutEqualsIsEproto) {
  FakeDevice device;
  EXPECT_EQ(set(device, "listen_port=1\nlisten_port\nfwmark=5\n"), kUapiEproto);
  EXPECT_EQ(device.listen_port(), 1);  // the line before stayed applied
  EXPECT_EQ(device.fwmark(), 0u);      // the line after was never applied
}

TEST(UapiSet, PortInUseIsEaddrinuseAndKeepsOldPort) {
  FakeDevice device;
  device.busy_ports = {53};
  EXPECT_EQ(set(device, "listen_port=1000\nlisten_port=53\nfwmark=7\n"), kUapiEaddrinuse);
  EXPECT_EQ(device.listen_port(), 1000);
  EXPECT_EQ(device.fwmark(), 0u);
}

TEST(UapiSet, FwmarkFailureIsEaddrinuse) {
  FakeDevice device;
  device.fail_fwmark = true;
  EXPECT_EQ(set(device, "listen_port=2\nfwmark=1\n"), kUapiEaddrinuse);
  EXPECT_EQ(device.listen_port(), 2);
}

TEST(UapiSet, FullPeerBlock) {
  FakeDevice device;
  const std::string body = "public_key=" + kPeer1 +
                           "\n"
                           "preshared_key=" +
                           kPeer2 +
                           "\n"
                           "protocol_version=1\n"
                           "endpoint=[fd00::1]:51820\n"
                           "persistent_keepalive_interval=25\n"
                           "replace_allowed_ips=true\n"
                           "allowed_ip=10.0.0.0/24\n"
                           "allowed_ip=fd00::/64\n"
                           "allowed_ip=10.9.8.7/16\n";
  ASSERT_EQ(set(device, body), 0);
  FakePeer* p = device.find(pub(kPeer1));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(to_hex(p->preshared_key.span()), kPeer2);
  EXPECT_EQ(p->endpoint, endpoint("[fd00::1]:51820"));
  EXPECT_EQ(p->persistent_keepalive, 25);
  EXPECT_EQ(p->keepalives_sent, 1);
  // Host bits are masked, as the allowed-IPs table does.
  EXPECT_EQ(p->allowed_ips, (std::vector<IpPrefix>{prefix("10.0.0.0/24"), prefix("fd00::/64"),
                                                   prefix("10.9.0.0/16")}));
  EXPECT_EQ(p->allowed_ips.back().to_string(), "10.9.0.0/16");
}

TEST(UapiSet, PeerKeysApplyToTheLatestPublicKey) {
  FakeDevice device;
  ASSERT_EQ(set(device, "public_key=" + kPeer1 +
                            "\npersistent_keepalive_interval=1\n"
                            "public_key=" +
                            kPeer2 + "\npersistent_keepalive_interval=2\n"),
            0);
  ASSERT_EQ(device.peers().size(), 2u);
  EXPECT_EQ(device.find(pub(kPeer1))->persistent_keepalive, 1);
  EXPECT_EQ(device.find(pub(kPeer2))->persistent_keepalive, 2);
}

TEST(UapiSet, ZeroPresharedKeyClearsIt) {
  FakeDevice device;
  ASSERT_EQ(set(device, "public_key=" + kPeer1 + "\npreshared_key=" + kPeer2 + "\n"), 0);
  ASSERT_EQ(set(device, "public_key=" + kPeer1 + "\npreshared_key=" + kZeroKey + "\n"), 0);
  EXPECT_TRUE(device.find(pub(kPeer1))->preshared_key.is_zero());
}

TEST(UapiSet, DeviceKeyAfterPublicKeyIsEinval) {
  FakeDevice device;
  std::string why;
  EXPECT_EQ(set(device, "public_key=" + kPeer1 + "\nlisten_port=5\n", &why), kUapiEinval);
  EXPECT_TRUE(device.has_peer(pub(kPeer1)));  // created before the bad line: stays
  EXPECT_EQ(device.listen_port(), 0);
  EXPECT_NE(why.find("listen_port"), std::string::npos);
}

TEST(UapiSet, BadPeerValuesAreEinvalAndEarlierLinesStay) {
  const char* bad[] = {
      "preshared_key=1234",
      "endpoint=1.2.3.4",
      "endpoint=example.com:51820",
      "endpoint=[fd00::1]",
      "endpoint=1.2.3.4:70000",
      "persistent_keepalive_interval=65536",
      "persistent_keepalive_interval=-1",
      "replace_allowed_ips=false",
      "allowed_ip=10.0.0.1",  // the length is required
      "allowed_ip=10.0.0.0/33",
      "allowed_ip=fd00::/129",
      "allowed_ip=-",
      "allowed_ip=",
      "allowed_ip=--10.0.0.0/8",
      "remove=yes",
      "update_only=1",
      "protocol_version=2",
      "protocol_version=",
      "private_key="
      "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
      "bogus=1",
  };
  for (const char* line : bad) {
    FakeDevice device;
    std::string body = "listen_port=7\npublic_key=" + kPeer1 +
                       "\npersistent_keepalive_interval=9\n" + line + "\nallowed_ip=10.1.1.0/24\n";
    EXPECT_EQ(set(device, body), kUapiEinval) << line;
    EXPECT_EQ(device.listen_port(), 7) << line;
    ASSERT_TRUE(device.has_peer(pub(kPeer1))) << line;
    EXPECT_EQ(device.find(pub(kPeer1))->persistent_keepalive, 9) << line;
    EXPECT_TRUE(device.find(pub(kPeer1))->allowed_ips.empty()) << line;
  }
}

TEST(UapiSet, BadPublicKeyIsEinval) {
  for (const std::string& value : {std::string("abc"), kPeer1 + "00", kPeer1.substr(2) + "zz"}) {
    FakeDevice device;
    EXPECT_EQ(set(device, "public_key=" + value + "\n"), kUapiEinval);
    EXPECT_TRUE(device.peers().empty());
  }
}

TEST(UapiSet, ErrorTextsNeverContainKeyMaterial) {
  FakeDevice device;
  std::string why;
  const std::string secret_ish = "00112233445566778899aabbccddeeff00112233445566778899aabbccddee";
  for (const std::string& body : {"private_key=" + secret_ish + "\n",
                                  "public_key=" + kPeer1 + "\npreshared_key=" + secret_ish + "\n",
                                  secret_ish + secret_ish + "=1\n", secret_ish + "\n"}) {
    set(device, body, &why);
    EXPECT_FALSE(why.empty());
    EXPECT_EQ(why.find(secret_ish.substr(0, 32)), std::string::npos) << why;
  }
}

TEST(UapiSet, ReplacePeers) {
  FakeDevice device;
  ASSERT_EQ(set(device, "public_key=" + kPeer1 + "\npublic_key=" + kBobPub + "\n"), 0);
  ASSERT_EQ(device.peers().size(), 2u);
  ASSERT_EQ(set(device, "replace_peers=true\npublic_key=" + kPeer2 + "\n"), 0);
  ASSERT_EQ(device.peers().size(), 1u);
  EXPECT_TRUE(device.has_peer(pub(kPeer2)));
}

TEST(UapiSet, RemovePeerIgnoresTheRestOfItsBlock) {
  FakeDevice device;
  ASSERT_EQ(set(device, "public_key=" + kPeer1 + "\nallowed_ip=10.0.0.0/8\n"), 0);
  ASSERT_EQ(set(device, "public_key=" + kPeer1 +
                            "\nremove=true\nallowed_ip=10.0.0.0/8\n"
                            "persistent_keepalive_interval=5\npublic_key=" +
                            kPeer2 + "\n"),
            0);
  EXPECT_FALSE(device.has_peer(pub(kPeer1)));  // not re-created by the later lines
  EXPECT_TRUE(device.has_peer(pub(kPeer2)));
  // Values in a removed block are still checked, as in wg-go.
  EXPECT_EQ(set(device, "public_key=" + kPeer2 + "\nremove=true\nallowed_ip=x\n"), kUapiEinval);
  EXPECT_FALSE(device.has_peer(pub(kPeer2)));
}

TEST(UapiSet, UpdateOnlyDiscardsANewPeer) {
  FakeDevice device;
  ASSERT_EQ(set(device, "public_key=" + kPeer1 +
                            "\nupdate_only=true\nallowed_ip=10.0.0.0/8\n"
                            "endpoint=192.0.2.1:1\n"),
            0);
  EXPECT_FALSE(device.has_peer(pub(kPeer1)));
  EXPECT_TRUE(device.peers().empty());
}

TEST(UapiSet, UpdateOnlyModifiesAnExistingPeer) {
  FakeDevice device;
  ASSERT_EQ(set(device, "public_key=" + kPeer1 + "\n"), 0);
  ASSERT_EQ(set(device, "public_key=" + kPeer1 + "\nupdate_only=true\nallowed_ip=10.0.0.0/8\n"), 0);
  ASSERT_TRUE(device.has_peer(pub(kPeer1)));
  EXPECT_EQ(device.find(pub(kPeer1))->allowed_ips, std::vector<IpPrefix>{prefix("10.0.0.0/8")});
}

TEST(UapiSet, OwnPublicKeyIsSilentlyIgnored) {
  FakeDevice device;
  ASSERT_EQ(set(device, "private_key=" + kAlicePriv + "\n"), 0);
  ASSERT_EQ(set(device, "public_key=" + kAlicePub +
                            "\nallowed_ip=10.0.0.0/8\nendpoint=1.2.3.4:5\n"
                            "persistent_keepalive_interval=5\npreshared_key=" +
                            kPeer2 +
                            "\n"
                            "replace_allowed_ips=true\nremove=true\n"
                            "public_key=" +
                            kPeer1 + "\nallowed_ip=10.0.0.0/8\n"),
            0);
  ASSERT_EQ(device.peers().size(), 1u);
  EXPECT_EQ(device.find(pub(kPeer1))->allowed_ips, std::vector<IpPrefix>{prefix("10.0.0.0/8")});
  // ... but its values are still validated.
  EXPECT_EQ(set(device, "public_key=" + kAlicePub + "\nendpoint=nonsense\n"), kUapiEinval);
}

TEST(UapiSet, ReplaceAllowedIps) {
  FakeDevice device;
  ASSERT_EQ(set(device, "public_key=" + kPeer1 + "\nallowed_ip=10.0.0.0/8\nallowed_ip=fd00::/8\n"),
            0);
  ASSERT_EQ(set(device, "public_key=" + kPeer1 + "\nallowed_ip=10.1.0.0/16\n"), 0);
  EXPECT_EQ(device.find(pub(kPeer1))->allowed_ips.size(), 3u);  // without replace: added
  ASSERT_EQ(set(device, "public_key=" + kPeer1 +
                            "\nreplace_allowed_ips=true\n"
                            "allowed_ip=192.168.0.0/24\n"),
            0);
  EXPECT_EQ(device.find(pub(kPeer1))->allowed_ips, std::vector<IpPrefix>{prefix("192.168.0.0/24")});
  ASSERT_EQ(set(device, "public_key=" + kPeer1 + "\nreplace_allowed_ips=true\n"), 0);
  EXPECT_TRUE(device.find(pub(kPeer1))->allowed_ips.empty());
}

TEST(UapiSet, AllowedIpRemoval) {
  FakeDevice device;
  ASSERT_EQ(set(device, "public_key=" + kPeer1 +
                            "\nallowed_ip=10.0.0.0/8\nallowed_ip=fd00::/8\n"
                            "allowed_ip=192.0.2.0/24\n"),
            0);
  ASSERT_EQ(set(device, "public_key=" + kPeer1 +
                            "\nallowed_ip=-fd00::/8\n"
                            "allowed_ip=-172.16.0.0/12\n"),  // absent: no error
            0);
  EXPECT_EQ(device.find(pub(kPeer1))->allowed_ips,
            (std::vector<IpPrefix>{prefix("10.0.0.0/8"), prefix("192.0.2.0/24")}));
}

TEST(UapiSet, AllowedIpMovesBetweenPeers) {
  FakeDevice device;
  ASSERT_EQ(set(device, "public_key=" + kPeer1 +
                            "\nallowed_ip=10.0.0.0/8\n"
                            "public_key=" +
                            kPeer2 + "\nallowed_ip=10.0.0.0/8\n"),
            0);
  EXPECT_TRUE(device.find(pub(kPeer1))->allowed_ips.empty());
  EXPECT_EQ(device.find(pub(kPeer2))->allowed_ips.size(), 1u);
}

TEST(UapiSet, KeepaliveOnlySentWhenTurnedOn) {
  FakeDevice device;
  ASSERT_EQ(set(device, "public_key=" + kPeer1 +
                            "\npersistent_keepalive_interval=0\n"
                            "persistent_keepalive_interval=25\npersistent_keepalive_interval=30\n"
                            "persistent_keepalive_interval=65535\n"),
            0);
  EXPECT_EQ(device.find(pub(kPeer1))->persistent_keepalive, 65535);
  EXPECT_EQ(device.find(pub(kPeer1))->keepalives_sent, 1);
}

TEST(UapiSet, WgSetconfStyleRequest) {
  // What `wg setconf` sends: device keys (zeros when absent), replace_peers, then peers.
  FakeDevice device;
  ASSERT_EQ(set(device, "public_key=" + kBobPub + "\n"), 0);
  const std::string body = "private_key=" + kAlicePriv +
                           "\nlisten_port=0\nfwmark=0\n"
                           "replace_peers=true\n"
                           "public_key=" +
                           kPeer1 +
                           "\nreplace_allowed_ips=true\n"
                           "allowed_ip=10.0.0.2/32\n"
                           "\n"
                           "public_key=" +
                           kPeer2 + "\n";  // after the blank line: not part of it
  ASSERT_EQ(set(device, body), 0);
  ASSERT_EQ(device.peers().size(), 1u);
  EXPECT_TRUE(device.has_peer(pub(kPeer1)));
  EXPECT_EQ(device.listen_port(), FakeDevice::kRandomPort);
}

TEST(UapiSet, StickyErrorIgnoresLaterLines) {
  FakeDevice device;
  UapiSetRequest request(device);
  EXPECT_EQ(request.feed_line("listen_port=x"), kUapiEinval);
  EXPECT_EQ(request.feed_line("listen_port=5"), kUapiEinval);
  EXPECT_EQ(request.finish(), kUapiEinval);
  EXPECT_EQ(device.listen_port(), 0);
}

}  // namespace
}  // namespace wgp::control
