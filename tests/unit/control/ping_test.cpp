// `wgpunch ping`: its arguments, which peer a key or an address names in a
// status snapshot, and the path it reads there.
#include "control/ping.h"

#include <gtest/gtest.h>

#include <array>
#include <sstream>
#include <stdexcept>

#include "control/network_namespace.h"
#include "crypto/keys.h"
#include "server_fixture.h"

namespace wgp::control {
namespace {

PublicKey key(uint8_t b) {
  PublicKey k{};
  k.fill(b);
  return k;
}

DeviceSnapshot device() {
  DeviceSnapshot d;
  d.peers.resize(3);
  PeerSnapshot& a = d.peers[0];
  a.public_key = key(1);
  a.allowed_ips = {*IpPrefix::parse("10.0.0.2/32"), *IpPrefix::parse("192.168.50.0/24")};
  a.extra = {{"path", "relay via " + key_to_base64(key(9))}};
  PeerSnapshot& b = d.peers[1];
  b.public_key = key(2);
  b.allowed_ips = {*IpPrefix::parse("fd00::3/128")};
  b.extra = {{"path", "direct"}};
  PeerSnapshot& c = d.peers[2];  // no host prefix of its own
  c.public_key = key(3);
  c.allowed_ips = {*IpPrefix::parse("10.9.0.0/16")};
  return d;
}

TEST(Ping, Arguments) {
  std::array<std::string_view, 7> args{"10.0.0.2", "-c", "3", "-i", "0.2", "-I", "wg0"};
  PingOptions o = parse_ping_args(args);
  EXPECT_EQ(o.peer, "10.0.0.2");
  EXPECT_EQ(o.count, 3);
  EXPECT_EQ(o.interval, std::chrono::milliseconds(200));
  EXPECT_EQ(o.interface_name, "wg0");
  std::array<std::string_view, 0> none{};
  EXPECT_THROW(parse_ping_args(none), std::invalid_argument);
  std::array<std::string_view, 2> bad_count{"x", "-c"};
  EXPECT_THROW(parse_ping_args(bad_count), std::invalid_argument);
  std::array<std::string_view, 3> zero{"x", "-c", "0"};
  EXPECT_THROW(parse_ping_args(zero), std::invalid_argument);
  std::array<std::string_view, 2> two{"x", "y"};
  EXPECT_THROW(parse_ping_args(two), std::invalid_argument);
  std::array<std::string_view, 2> unknown{"x", "--fast"};
  EXPECT_THROW(parse_ping_args(unknown), std::invalid_argument);
  // As ping(8) takes them: the value glued to the flag (issue 22).
  std::array<std::string_view, 5> glued{"-c1", "-i0.5", "-W2", "-Iwg1", "10.0.0.2"};
  o = parse_ping_args(glued);
  EXPECT_EQ(o.count, 1);
  EXPECT_EQ(o.interval, std::chrono::milliseconds(500));
  EXPECT_EQ(o.timeout, std::chrono::milliseconds(2000));
  EXPECT_EQ(o.interface_name, "wg1");
  EXPECT_EQ(o.peer, "10.0.0.2");
  std::array<std::string_view, 2> glued_bad{"x", "-c0"};
  EXPECT_THROW(parse_ping_args(glued_bad), std::invalid_argument);
}

// Control sockets of every namespace share one directory: a node says
// where it runs, and ping keeps to its own namespace.
TEST(Ping, OnlyInterfacesOfThisNetworkNamespace) {
  DeviceSnapshot here = device(), there = device(), older = device();
  older.interface_name = "lo";
  here.extra = {{std::string(kNetworkNamespaceField), "net:[4026531840]"}};
  there.extra = {{std::string(kNetworkNamespaceField), "net:[4026532999]"}};
  EXPECT_TRUE(in_network_namespace(here, "net:[4026531840]"));
  EXPECT_FALSE(in_network_namespace(there, "net:[4026531840]"));
  EXPECT_TRUE(in_network_namespace(older, "net:[4026531840]"));  // says nothing: believed
  EXPECT_TRUE(in_network_namespace(there, ""));                  // ours unknown
  // An interface that says nothing is believed only after those that say
  // they are ours (the others may be any namespace's, issue 22: test_relay
  // pinged through another test's interface beside it).
  EXPECT_EQ(network_namespace_match(here, "net:[4026531840]"), NamespaceMatch::kOurs);
  EXPECT_EQ(network_namespace_match(there, "net:[4026531840]"), NamespaceMatch::kOther);
  older.interface_name = "lo";  // a link of its name exists here (as in every namespace)
  EXPECT_EQ(network_namespace_match(older, "net:[4026531840]"), NamespaceMatch::kUnknown);
  older.interface_name = "wgpnosuch0";  // none: it runs elsewhere
  EXPECT_EQ(network_namespace_match(older, "net:[4026531840]"), NamespaceMatch::kOther);
  EXPECT_EQ(current_network_namespace().rfind("net:[", 0), 0u);
}

TEST(Ping, TargetByKeyOrAddress) {
  DeviceSnapshot d = device();
  auto by_key = find_ping_target(d, key_to_base64(key(2)));
  ASSERT_TRUE(by_key);
  EXPECT_EQ(by_key->address, *IpAddress::parse("fd00::3"));
  auto by_address = find_ping_target(d, "192.168.50.7");  // inside a peer's allowed IPs
  ASSERT_TRUE(by_address);
  EXPECT_EQ(by_address->key, key(1));
  EXPECT_EQ(by_address->address, *IpAddress::parse("192.168.50.7"));
  EXPECT_FALSE(find_ping_target(d, key_to_base64(key(3))));  // nothing to ping
  EXPECT_FALSE(find_ping_target(d, key_to_base64(key(7))));  // not a peer
  EXPECT_FALSE(find_ping_target(d, "172.16.0.1"));
  EXPECT_FALSE(find_ping_target(d, "nonsense"));
}

TEST(Ping, PathFromTheSnapshot) {
  DeviceSnapshot d = device();
  EXPECT_EQ(path_in(d, key(1)), "relay via " + key_to_base64(key(9)));
  EXPECT_EQ(path_in(d, key(2)), "direct");
  EXPECT_EQ(path_in(d, key(3)), "none");
  d.peers[1].extra.emplace_back(std::string(kPathNoReplyField), "12");
  EXPECT_EQ(path_in(d, key(2)), "direct (no reply for 12 s)");
}

using PingClientTest = testing::ServerFixture;

// With -I, what is wrong with that interface, in one clear line.
TEST_F(PingClientTest, NamedInterfaceWithoutThePeerSaysSo) {
  on_io([&] {
    device_.add_peer(key(1));
    device_.add_peer_allowed_ip(key(1), *IpPrefix::parse("10.0.0.2/32"));
  });
  start_server("wg7");
  PingOptions o;
  o.socket_directory = dir_;
  o.interface_name = "wg7";
  o.peer = "10.0.0.3";
  std::ostringstream out, err;
  EXPECT_EQ(run_ping(o, out, err), 2);
  EXPECT_EQ(err.str(),
            "wgpunch ping: interface wg7 has no peer '10.0.0.3' (a public key, or an "
            "address in a peer's allowed IPs)\n");
  o.interface_name = "wg8";
  std::ostringstream err2;
  EXPECT_EQ(run_ping(o, out, err2), 2);
  EXPECT_EQ(err2.str().rfind("wgpunch ping: interface wg8 is not running", 0), 0u) << err2.str();
}

// Without -I, an interface of another network namespace is not ours, even
// when it has the peer (its socket is in the same directory).
TEST_F(PingClientTest, AnotherNamespacesInterfaceIsNotPicked) {
  on_io([&] {
    device_.add_peer(key(1));
    device_.add_peer_allowed_ip(key(1), *IpPrefix::parse("10.0.0.2/32"));
    device_.extra() = {{std::string(kNetworkNamespaceField), "net:[1]"}};
  });
  start_server("wg7");
  PingOptions o;
  o.socket_directory = dir_;
  o.peer = "10.0.0.2";
  std::ostringstream out, err;
  EXPECT_EQ(run_ping(o, out, err), 2);
  EXPECT_EQ(err.str(),
            "wgpunch ping: no interface running in this network namespace has a peer '10.0.0.2' "
            "(interface wg7 in another network namespace has one)\n");
  o.interface_name = "wg7";
  std::ostringstream err2;
  EXPECT_EQ(run_ping(o, out, err2), 2);
  EXPECT_EQ(err2.str(),
            "wgpunch ping: interface wg7 runs in another network namespace; run "
            "wgpunch ping there (ip netns exec)\n");
}

}  // namespace
}  // namespace wgp::control
