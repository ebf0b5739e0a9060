// plan_reload and apply_reload on configs parsed by the real parser and a
// device that records every call: what changes, what is left alone (the
// untouched peer sees no call at all, so its session cannot be disturbed),
// and the notes for what needs a restart.
#include "service/reload_plan.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "crypto/x25519.h"
#include "service/reload_apply.h"
#include "unit/control/fake_device.h"

namespace wgp::service {
namespace {

struct Keys {
  std::string priv64, pub64;
  PublicKey pub{};
};

Keys make_keys(uint8_t seed) {
  std::array<uint8_t, 32> raw;
  for (size_t i = 0; i < raw.size(); ++i) raw[i] = uint8_t(seed * 7 + i);
  PrivateKey k{std::span<const uint8_t, 32>(raw)};
  Keys out;
  out.priv64 = key_to_base64(raw);
  out.pub = derive_public_key(k);
  out.pub64 = key_to_base64(out.pub);
  return out;
}

const Keys kSelf = make_keys(1), kSelf2 = make_keys(2), kA = make_keys(3), kB = make_keys(4),
           kC = make_keys(5), kD = make_keys(6);

// Records which peer each call touched ("remove", "psk", "endpoint",
// "allowed", "keepalive", "add") and interface-level calls.
class RecordingDevice : public testing::FakeDevice {
 public:
  std::vector<std::pair<std::string, PublicKey>> calls;
  std::vector<std::string> device_calls;

  size_t calls_for(const PublicKey& k) const {
    return size_t(
        std::count_if(calls.begin(), calls.end(), [&](auto& c) { return c.second == k; }));
  }
  void set_private_key(const PrivateKey& key) override {
    device_calls.push_back("private_key");
    FakeDevice::set_private_key(key);
  }
  std::error_code set_listen_port(uint16_t port) override {
    device_calls.push_back("listen_port");
    return FakeDevice::set_listen_port(port);
  }
  std::error_code set_fwmark(uint32_t mark) override {
    device_calls.push_back("fwmark");
    return FakeDevice::set_fwmark(mark);
  }
  bool add_peer(const PublicKey& k) override {
    calls.emplace_back("add", k);
    return FakeDevice::add_peer(k);
  }
  void remove_peer(const PublicKey& k) override {
    calls.emplace_back("remove", k);
    FakeDevice::remove_peer(k);
  }
  void set_peer_preshared_key(const PublicKey& k, const PresharedKey& psk) override {
    calls.emplace_back("psk", k);
    FakeDevice::set_peer_preshared_key(k, psk);
  }
  void set_peer_endpoint(const PublicKey& k, const Endpoint& e) override {
    calls.emplace_back("endpoint", k);
    FakeDevice::set_peer_endpoint(k, e);
  }
  void set_peer_persistent_keepalive(const PublicKey& k, uint16_t s) override {
    calls.emplace_back("keepalive", k);
    FakeDevice::set_peer_persistent_keepalive(k, s);
  }
  void clear_peer_allowed_ips(const PublicKey& k) override {
    calls.emplace_back("allowed", k);
    FakeDevice::clear_peer_allowed_ips(k);
  }
};

const char* kPsk64 = "5MPi8aXD4vGlw+LxpcPi8aXD4vGlw+LxpcPi8aXD4vE=";

std::string base_text(const Keys& self = kSelf, const std::string& extra_interface = "") {
  return "[Interface]\nPrivateKey = " + self.priv64 +
         "\nListenPort = 51820\nAddress = 10.0.0.1/24\n" + extra_interface +
         "\n[Peer]\nPublicKey = " + kA.pub64 +
         "\nAllowedIPs = 10.0.0.2/32\nEndpoint = 192.0.2.2:51820\nPersistentKeepalive = 25\n" +
         "\n[Peer]\nPublicKey = " + kB.pub64 +
         "\nAllowedIPs = 10.0.0.3/32\nEndpoint = 192.0.2.3:51820\n";
}

Config parse(const std::string& text) { return parse_config(text, "wg0.conf"); }

// A device brought up from `text` the way a reload from nothing would.
void bring_up(RecordingDevice& device, const Config& config) {
  apply_reload(plan_reload(config, config, device.snapshot(), routed_prefixes(config)), device);
  device.calls.clear();
  device.device_calls.clear();
}

class ReloadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    started_ = parse(base_text());
    bring_up(device_, started_);
  }
  ReloadPlan plan(const Config& next) {
    return plan_reload(started_, next, device_.snapshot(), routed_prefixes(started_));
  }
  RecordingDevice device_;
  Config started_;
};

TEST_F(ReloadTest, BringingUpFromNothingMatchesTheConfig) {
  ASSERT_EQ(device_.peers().size(), 2u);
  const testing::FakePeer* a = device_.find(kA.pub);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->endpoint, Endpoint::parse("192.0.2.2:51820"));
  EXPECT_EQ(a->persistent_keepalive, 25);
  EXPECT_EQ(a->allowed_ips, std::vector<IpPrefix>{*IpPrefix::parse("10.0.0.2/32")});
  EXPECT_EQ(device_.listen_port(), 51820);
}

TEST_F(ReloadTest, SameFileChangesNothing) {
  ReloadPlan p = plan(parse(base_text()));
  EXPECT_TRUE(p.empty());
  EXPECT_TRUE(p.notes.empty());
  EXPECT_EQ(summarize(p), "no change");
  EXPECT_TRUE(apply_reload(p, device_).empty());
  EXPECT_TRUE(device_.calls.empty());
  EXPECT_TRUE(device_.device_calls.empty());
}

TEST_F(ReloadTest, AddRemoveAndChangeEndpointLeaveTheOtherPeerAlone) {
  // B removed, C added, A's endpoint changed.
  std::string text =
      "[Interface]\nPrivateKey = " + kSelf.priv64 +
      "\nListenPort = 51820\nAddress = 10.0.0.1/24\n\n[Peer]\nPublicKey = " + kA.pub64 +
      "\nAllowedIPs = 10.0.0.2/32\nEndpoint = 192.0.2.9:51820\nPersistentKeepalive = "
      "25\n\n[Peer]\nPublicKey = " +
      kC.pub64 + "\nAllowedIPs = 10.0.0.4/32\nPresharedKey = " + kPsk64 + "\n";
  ReloadPlan p = plan(parse(text));
  EXPECT_EQ(p.added(), 1u);
  EXPECT_EQ(p.changed(), 1u);
  ASSERT_EQ(p.removed_peers.size(), 1u);
  EXPECT_EQ(p.removed_peers[0], kB.pub);
  EXPECT_EQ(summarize(p), "1 peer(s) added, 1 removed, 1 changed");
  EXPECT_TRUE(p.notes.empty());  // 10.0.0.4 is inside the Address subnet: routed
  EXPECT_TRUE(apply_reload(p, device_).empty());

  EXPECT_FALSE(device_.find(kB.pub));
  const testing::FakePeer* c = device_.find(kC.pub);
  ASSERT_TRUE(c);
  EXPECT_FALSE(c->preshared_key.is_zero());
  EXPECT_EQ(c->allowed_ips, std::vector<IpPrefix>{*IpPrefix::parse("10.0.0.4/32")});
  EXPECT_EQ(device_.find(kA.pub)->endpoint, Endpoint::parse("192.0.2.9:51820"));
  // A got exactly one call (its endpoint); nothing touched the interface.
  EXPECT_EQ(device_.calls_for(kA.pub), 1u);
  EXPECT_TRUE(device_.device_calls.empty());
}

TEST_F(ReloadTest, AnUntouchedPeerGetsNoCallWhileOthersChange) {
  std::string text = base_text();
  // B: keepalive on, PSK set, one more allowed IP; A untouched.
  text += "PersistentKeepalive = 5\nPresharedKey = " + std::string(kPsk64) +
          "\nAllowedIPs = 10.0.0.30/32\n";
  ReloadPlan p = plan(parse(text));
  ASSERT_EQ(p.peers.size(), 1u);
  EXPECT_EQ(p.peers[0].public_key, kB.pub);
  EXPECT_TRUE(p.peers[0].preshared_key && p.peers[0].allowed_ips &&
              p.peers[0].persistent_keepalive);
  EXPECT_FALSE(p.peers[0].endpoint);
  apply_reload(p, device_);
  EXPECT_EQ(device_.calls_for(kA.pub), 0u);
  const testing::FakePeer* b = device_.find(kB.pub);
  EXPECT_EQ(b->persistent_keepalive, 5);
  EXPECT_EQ(b->keepalives_sent, 1);
  EXPECT_EQ(b->allowed_ips.size(), 2u);
}

TEST_F(ReloadTest, AllowedIpsKeepTheFilesOrderAndCompareAsASet) {
  // A registry's TXT lists them in the file's order (DESIGN.md §11).
  std::string text = base_text() + "\n[Peer]\nPublicKey = " + kC.pub64 +
                     "\nAllowedIPs = 10.9.0.0/16, 10.0.0.4/32\n";
  apply_reload(plan(parse(text)), device_);
  const std::vector<IpPrefix> want{*IpPrefix::parse("10.9.0.0/16"),
                                   *IpPrefix::parse("10.0.0.4/32")};
  EXPECT_EQ(device_.find(kC.pub)->allowed_ips, want);
  started_ = parse(text);
  std::string swapped = base_text() + "\n[Peer]\nPublicKey = " + kC.pub64 +
                        "\nAllowedIPs = 10.0.0.4/32, 10.9.0.0/16\n";
  EXPECT_TRUE(plan(parse(swapped)).empty());
}

TEST_F(ReloadTest, ARoamedPeerKeepsItsEndpointWhileTheLineIsUnchanged) {
  device_.find(kA.pub)->endpoint = Endpoint::parse("198.51.100.7:40000");  // roamed
  EXPECT_TRUE(plan(parse(base_text())).empty());
  // Once the line changes, the file wins.
  std::string text = base_text();
  text.replace(text.find("192.0.2.2"), 9, "192.0.2.8");
  ReloadPlan p = plan(parse(text));
  ASSERT_EQ(p.peers.size(), 1u);
  EXPECT_EQ(p.peers[0].endpoint, Endpoint::parse("192.0.2.8:51820"));
}

TEST_F(ReloadTest, APeerAddedWithWgSetIsRemovedAndAPeerRemovedWithWgSetComesBack) {
  device_.add_peer(kD.pub);
  device_.remove_peer(kB.pub);
  device_.calls.clear();
  ReloadPlan p = plan(parse(base_text()));
  EXPECT_EQ(p.removed_peers, std::vector<PublicKey>{kD.pub});
  ASSERT_EQ(p.peers.size(), 1u);
  EXPECT_TRUE(p.peers[0].is_new);
  EXPECT_EQ(p.peers[0].public_key, kB.pub);
}

TEST_F(ReloadTest, AllowedIpMovingBetweenPeersEndsOnTheNewOwner) {
  std::string text = base_text();
  // 10.0.0.2/32 moves from A to B.
  text.replace(text.find("AllowedIPs = 10.0.0.2/32"), 24, "AllowedIPs = 10.0.0.5/32");
  text += "AllowedIPs = 10.0.0.2/32\n";
  apply_reload(plan(parse(text)), device_);
  EXPECT_EQ(device_.find(kA.pub)->allowed_ips,
            std::vector<IpPrefix>{*IpPrefix::parse("10.0.0.5/32")});
  auto b = device_.find(kB.pub)->allowed_ips;
  std::sort(b.begin(), b.end());
  EXPECT_EQ(
      b, (std::vector<IpPrefix>{*IpPrefix::parse("10.0.0.2/32"), *IpPrefix::parse("10.0.0.3/32")}));
}

TEST_F(ReloadTest, NewPrivateKeyIsAppliedAndNamedByItsPublicKeyOnly) {
  ReloadPlan p = plan(parse(base_text(kSelf2)));
  ASSERT_TRUE(p.private_key);
  ASSERT_EQ(p.notes.size(), 1u);
  EXPECT_NE(p.notes[0].find(kSelf2.pub64), std::string::npos) << p.notes[0];
  EXPECT_EQ(p.notes[0].find(kSelf2.priv64), std::string::npos);
  EXPECT_TRUE(p.peers.empty());
  apply_reload(p, device_);
  EXPECT_EQ(device_.device_calls, std::vector<std::string>{"private_key"});
  EXPECT_EQ(derive_public_key(*device_.private_key()), kSelf2.pub);
}

TEST_F(ReloadTest, ListenPortAndFwMark) {
  std::string text = base_text();
  text.replace(text.find("51820\nAddress"), 5, "51999");
  text.replace(text.find("Address"), 0, "FwMark = 0x20\n");
  ReloadPlan p = plan(parse(text));
  EXPECT_EQ(p.listen_port, 51999);
  EXPECT_EQ(p.fwmark, 0x20u);
  device_.fail_fwmark = true;
  auto failures = apply_reload(p, device_);
  EXPECT_EQ(device_.listen_port(), 51999);
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_NE(failures[0].find("FwMark"), std::string::npos);

  // A busy port is reported, the old one kept, and the rest still applies.
  std::string busy = base_text();
  busy.replace(busy.find("51820\nAddress"), 5, "51777");
  busy += "PersistentKeepalive = 9\n";
  device_.busy_ports.insert(51777);
  failures = apply_reload(plan(parse(busy)), device_);
  ASSERT_EQ(failures.size(), 1u);  // the fwmark stayed off, as the file now says
  EXPECT_NE(failures[0].find("ListenPort 51777"), std::string::npos) << failures[0];
  EXPECT_EQ(device_.listen_port(), 51999);
  EXPECT_EQ(device_.find(kB.pub)->persistent_keepalive, 9);
}

TEST_F(ReloadTest, RemovedListenPortKeepsTheCurrentPort) {
  std::string text = base_text();
  text.erase(text.find("ListenPort = 51820\n"), 19);
  ReloadPlan p = plan(parse(text));
  EXPECT_FALSE(p.listen_port);
  ASSERT_EQ(p.notes.size(), 1u);
  EXPECT_EQ(p.notes[0], "ListenPort removed: keeping port 51820");
}

TEST_F(ReloadTest, WhatNeedsARestartIsNotedNotApplied) {
  std::string text = "[Interface]\nPrivateKey = " + kSelf.priv64 +
                     "\nListenPort = 51820\nAddress = 10.0.0.1/16\nMTU = 1380\n" +
                     base_text().substr(base_text().find("\n[Peer]")) +
                     "\n[Registry]\nZone = example.net.\n";
  ReloadPlan p = plan(parse(text));
  EXPECT_TRUE(p.empty());
  std::string all;
  for (const std::string& n : p.notes) all += n + "\n";
  EXPECT_NE(all.find("Address changed"), std::string::npos) << all;
  EXPECT_NE(all.find("MTU changed"), std::string::npos) << all;
  EXPECT_NE(all.find("[Registry] changed"), std::string::npos) << all;
  EXPECT_EQ(all.find("[Discovery]"), std::string::npos) << all;
}

TEST_F(ReloadTest, AllowedIpsWithoutARouteAreNoted) {
  std::string text = base_text() + "AllowedIPs = 10.0.0.3/32, 192.168.7.0/24, fd00:9::/64\n";
  ReloadPlan p = plan(parse(text));
  ASSERT_EQ(p.notes.size(), 1u);
  EXPECT_NE(p.notes[0].find("192.168.7.0/24, fd00:9::/64: no route"), std::string::npos)
      << p.notes[0];
  EXPECT_EQ(p.notes[0].find("10.0.0.3"), std::string::npos);
}

TEST(RoutedPrefixes, AddressSubnetsAndAllowedIpsButNotDefault) {
  Config c = parse("[Interface]\nPrivateKey = " + kSelf.priv64 +
                   "\nAddress = 10.0.0.1/24, fd00::1/64\n[Peer]\nPublicKey = " + kA.pub64 +
                   "\nAllowedIPs = 0.0.0.0/0, 172.16.0.0/12\n");
  std::vector<IpPrefix> want = {*IpPrefix::parse("10.0.0.0/24"), *IpPrefix::parse("172.16.0.0/12"),
                                *IpPrefix::parse("fd00::/64")};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(routed_prefixes(c), want);
}

}  // namespace
}  // namespace wgp::service
