// `wgpunch ping`: its arguments, which peer a key or an address names in a
// status snapshot, and the path it reads there.
#include "control/ping.h"

#include <gtest/gtest.h>

#include <array>
#include <stdexcept>

#include "crypto/keys.h"

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
}

}  // namespace
}  // namespace wgp::control
