// Reloads tell the truth (issue 17 item 9): what a reload cannot apply
// (Address, MTU, MetricsListen, [Registry], [Discovery] settings) stays
// pending: the next reload of the same file names it again instead of
// "no change", and restart_needed() (what `status` shows as "restart
// needed: ...") lists it until the file stops asking for it. The Reloader
// reads a real file and applies to an in-memory device.
#include "service/reloader.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "crypto/x25519.h"
#include "unit/control/fake_device.h"

namespace wgp::service {
namespace {

std::string key64(uint8_t seed) {
  std::array<uint8_t, 32> raw;
  for (size_t i = 0; i < raw.size(); ++i) raw[i] = uint8_t(seed * 11 + i);
  return key_to_base64(raw);
}
std::string pub64(uint8_t seed) {
  std::array<uint8_t, 32> raw;
  for (size_t i = 0; i < raw.size(); ++i) raw[i] = uint8_t(seed * 11 + i);
  return key_to_base64(derive_public_key(PrivateKey{std::span<const uint8_t, 32>(raw)}));
}

class ReloaderTest : public ::testing::Test {
 protected:
  ReloaderTest()
      : path_(std::filesystem::temp_directory_path() /
              ("wgp-reloader-" + std::to_string(::getpid()) + ".conf")) {}
  ~ReloaderTest() override { std::filesystem::remove(path_); }

  std::string text(const std::string& registry, const std::string& address = "10.0.0.1/24") {
    return "[Interface]\nPrivateKey = " + key64(1) + "\nListenPort = 51820\nAddress = " + address +
           "\n\n[Registry]\nZone = example.net.\n" + registry +
           "\n[Peer]\nPublicKey = " + pub64(2) + "\nAllowedIPs = 10.0.0.2/32\n";
  }
  void write(const std::string& t) {
    std::ofstream f(path_);
    f << t;
    f.close();
    std::filesystem::permissions(
        path_, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  }
  Reloader start(const std::string& t) {
    write(t);
    Config c = load_config(path_.string());
    device_.set_private_key(c.private_key);
    device_.set_listen_port(51820);
    device_.add_peer(c.peers[0].public_key);
    device_.add_peer_allowed_ip(c.peers[0].public_key, c.peers[0].allowed_ips[0]);
    return Reloader(std::move(c), std::nullopt);
  }

  std::filesystem::path path_;
  testing::FakeDevice device_;
};

TEST_F(ReloaderTest, WhatAReloadCannotApplyStaysPendingUntilARestart) {
  Reloader r = start(text("Relay = yes\n"));
  EXPECT_TRUE(r.restart_needed().empty());
  // Relay off, a new address: neither is applied by a reload.
  write(text("Relay = no\n", "10.0.0.1/16"));
  ASSERT_TRUE(r.reload(device_));
  const std::vector<std::string> want = {"Address", "[Registry] Relay"};
  EXPECT_EQ(r.restart_needed(), want);
  // The same file again: still pending, not "no change".
  ASSERT_TRUE(r.reload(device_));
  EXPECT_EQ(r.restart_needed(), want);
  // The file asks for what runs again: nothing waits any more.
  write(text("Relay = yes\n"));
  ASSERT_TRUE(r.reload(device_));
  EXPECT_TRUE(r.restart_needed().empty());
}

TEST_F(ReloaderTest, ARotatedTransferKeyIsNamedNotSilentlyIgnored) {
  const std::string k1 = "TransferKey = hmac-sha256:xfr.example.:" + key64(5) + "\n";
  const std::string k2 = "TransferKey = hmac-sha256:xfr.example.:" + key64(6) + "\n";
  Reloader r = start(text("Secondary = 203.0.113.9\n" + k1));
  write(text("Secondary = 203.0.113.9\n" + k2));
  ASSERT_TRUE(r.reload(device_));
  ASSERT_TRUE(r.reload(device_));
  EXPECT_EQ(r.restart_needed(), std::vector<std::string>{"[Registry] TransferKey"});
  ExtraFields extra;
  add_restart_needed(extra, r.restart_needed());
  ASSERT_EQ(extra.size(), 1u);
  EXPECT_EQ(extra[0].first, "restart_needed");
  EXPECT_EQ(extra[0].second, "[Registry] TransferKey");
  EXPECT_EQ(extra[0].second.find(key64(6)), std::string::npos);  // never a secret
}

// Issue 20: PortMapping is set up at start only.
TEST_F(ReloaderTest, PortMappingWaitsForARestart) {
  Reloader r = start(text("Relay = yes\n"));
  std::string off = text("Relay = yes\n");
  off.insert(off.find("Address ="), "PortMapping = no\n");
  write(off);
  ASSERT_TRUE(r.reload(device_));
  EXPECT_EQ(r.restart_needed(), std::vector<std::string>{"PortMapping"});
}

}  // namespace
}  // namespace wgp::service
