// The stock `wg` tool (wireguard-tools) against our UAPI server: the real
// interop check. `wg` only looks in /var/run/wireguard, so the test uses a
// unique interface name there (wgptest<pid>) and removes the socket after.
// Skipped when `wg` is not installed or we are not root (failed instead
// under scripts/test: support/requirements.h).
#include <gtest/gtest.h>

#include "support/requirements.h"
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

#include "control/uapi_server.h"
#include "server_fixture.h"
#include "test_keys.h"

namespace wgp::control {
namespace {

using namespace wgp::testing;

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

CommandResult run(const std::string& command) {
  CommandResult result;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return result;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), pipe)) > 0) result.output.append(buf, n);
  int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

class WgToolTest : public ServerFixture {
 protected:
  void SetUp() override {
    WGP_REQUIRE_TOOL("wg");
    WGP_REQUIRE_ROOT("the socket directory " << kDefaultSocketDirectory);
    ServerFixture::SetUp();
    created_run_dir_ = !std::filesystem::exists(kDefaultSocketDirectory);
    dir_ = kDefaultSocketDirectory;
    name_ = "wgptest" + std::to_string(::getpid());
    start_server(name_);
  }

  void TearDown() override {
    if (!server_) return;       // skipped
    ServerFixture::TearDown();  // the server removes its socket
    std::error_code ec;
    if (created_run_dir_) std::filesystem::remove(kDefaultSocketDirectory, ec);  // only if empty
  }

  CommandResult wg(const std::string& args) { return run("wg " + args); }

  std::string name_;
  bool created_run_dir_ = false;
};

TEST_F(WgToolTest, ShowPrintsPeersAndAllowedIps) {
  on_io([&] {
    device_.set_private_key(secret(kAlicePriv));
    (void)device_.set_listen_port(51820);
    device_.add_peer(pub(kBobPub));
    device_.add_peer_allowed_ip(pub(kBobPub), prefix("10.0.0.0/24"));
    device_.add_peer_allowed_ip(pub(kBobPub), prefix("fd00::/64"));
    FakePeer* bob = device_.find(pub(kBobPub));
    bob->endpoint = endpoint("[2001:db8::7]:51821");
    bob->rx_bytes = 2048;
    bob->persistent_keepalive = 25;
    bob->preshared_key = secret(kPsk);
    bob->extra = {{"endpoint_source", "dns-sd"}};  // after allowed_ip: wg must ignore it
    device_.extra() = {{"public_endpoint", "203.0.113.1:51820"}};  // wg must ignore it
  });
  auto show = wg("show " + name_);
  ASSERT_EQ(show.exit_code, 0) << show.output;
  EXPECT_NE(show.output.find("interface: " + name_), std::string::npos) << show.output;
  EXPECT_NE(show.output.find("public key: " + kAlicePub64), std::string::npos) << show.output;
  EXPECT_NE(show.output.find("listening port: 51820"), std::string::npos) << show.output;
  EXPECT_NE(show.output.find("peer: " + kBobPub64), std::string::npos) << show.output;
  EXPECT_NE(show.output.find("preshared key: (hidden)"), std::string::npos) << show.output;
  EXPECT_NE(show.output.find("endpoint: [2001:db8::7]:51821"), std::string::npos) << show.output;
  EXPECT_NE(show.output.find("allowed ips: 10.0.0.0/24, fd00::/64"), std::string::npos)
      << show.output;
  EXPECT_NE(show.output.find("transfer: 2.00 KiB received, 0 B sent"), std::string::npos)
      << show.output;
  EXPECT_NE(show.output.find("persistent keepalive: every 25 seconds"), std::string::npos)
      << show.output;

  auto listed = wg("show interfaces");
  EXPECT_NE(listed.output.find(name_), std::string::npos) << listed.output;

  auto dump = wg("show " + name_ + " dump");
  ASSERT_EQ(dump.exit_code, 0) << dump.output;
  EXPECT_NE(dump.output.find(kBobPub64 + "\t"), std::string::npos) << dump.output;
  EXPECT_NE(dump.output.find("\t10.0.0.0/24,fd00::/64\t0\t2048\t0\t25"), std::string::npos)
      << dump.output;
}

TEST_F(WgToolTest, SetReachesTheDevice) {
  auto set = wg("set " + name_ + " peer " + kPeer1B64 + " allowed-ips 10.9.0.0/24");
  ASSERT_EQ(set.exit_code, 0) << set.output;
  auto ips = on_io([&]() -> std::vector<IpPrefix> {
    const FakePeer* p = device_.find(pub(kPeer1));
    return p ? p->allowed_ips : std::vector<IpPrefix>{};
  });
  EXPECT_EQ(ips, std::vector<IpPrefix>{prefix("10.9.0.0/24")});

  set = wg("set " + name_ + " listen-port 4321 fwmark 0x1234 peer " + kPeer1B64 +
           " endpoint 192.0.2.5:51820 persistent-keepalive 15");
  ASSERT_EQ(set.exit_code, 0) << set.output;
  EXPECT_EQ(on_io([&] { return device_.listen_port(); }), 4321);
  EXPECT_EQ(on_io([&] { return device_.fwmark(); }), 0x1234u);
  EXPECT_EQ(on_io([&] { return device_.find(pub(kPeer1))->endpoint; }),
            endpoint("192.0.2.5:51820"));
  EXPECT_EQ(on_io([&] { return device_.find(pub(kPeer1))->persistent_keepalive; }), 15);

  set = wg("set " + name_ + " peer " + kPeer1B64 + " remove");
  ASSERT_EQ(set.exit_code, 0) << set.output;
  EXPECT_FALSE(on_io([&] { return device_.has_peer(pub(kPeer1)); }));
}

TEST_F(WgToolTest, SetErrorIsReportedByWg) {
  on_io([&] { device_.busy_ports = {4444}; });
  auto set = wg("set " + name_ + " listen-port 4444");
  EXPECT_NE(set.exit_code, 0);
  EXPECT_NE(set.output.find("Address already in use"), std::string::npos) << set.output;
}

TEST_F(WgToolTest, PrivateKeyFromFileShowsDerivedPublicKey) {
  std::string key_file = (root_ / "key").string();
  FILE* f = std::fopen(key_file.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fputs("dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=\n", f);  // Alice, base64
  std::fclose(f);
  auto set = wg("set " + name_ + " private-key " + key_file);
  ASSERT_EQ(set.exit_code, 0) << set.output;
  auto pubkey = wg("show " + name_ + " public-key");
  EXPECT_EQ(pubkey.output, kAlicePub64 + "\n");
  auto conf = wg("showconf " + name_);
  EXPECT_NE(conf.output.find("PrivateKey = cAdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LGo="),
            std::string::npos)
      << conf.output;  // clamped on set, as wg-go does
}

}  // namespace
}  // namespace wgp::control
