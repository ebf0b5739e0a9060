// rtnetlink configuration checked from the outside: after each call the
// test asks `ip -j` (run inside the same private namespace) what the kernel
// now holds, and checks that failures throw with the operation, object,
// device and the kernel's errno in the message.
#include "tun/netlink.h"

#include <gtest/gtest.h>
#include <net/if.h>

#include <string>
#include <system_error>

#include "tun/tun_device.h"
#include "unit/tun/netns_helpers.h"

namespace wgp {
namespace {

using testing::iface_address;
using testing::prefix;
using testing::run;

// Expects `fn` to throw std::system_error with errno `code` and a message
// containing `text`.
template <typename Fn>
void expect_system_error(Fn fn, int code, const std::string& text) {
  try {
    fn();
    ADD_FAILURE() << "no exception; expected " << text;
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), code) << e.what();
    EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
  }
}

TEST(Netlink, FormatPrefixes) {
  EXPECT_EQ(Netlink::format(testing::address("10.0.0.0"), 24), "10.0.0.0/24");
  EXPECT_EQ(Netlink::format(testing::address("fd00::1"), 64), "fd00::1/64");
  EXPECT_EQ(Netlink::format(testing::address("0.0.0.0"), 0), "0.0.0.0/0");
}

TEST(Netlink, SetMtuAndReadItBack) {
  REQUIRE_PRIVATE_NETNS();
  TunDevice tun = TunDevice::create("nlmtu0");
  Netlink nl = Netlink::open();
  EXPECT_EQ(nl.get_mtu(tun.ifindex()), 1500u);  // the TUN default
  nl.set_mtu(tun.ifindex(), 1420);
  EXPECT_EQ(nl.get_mtu(tun.ifindex()), 1420u);
  EXPECT_NE(run("ip -j link show dev nlmtu0").find("\"mtu\":1420"), std::string::npos);
  nl.set_mtu(tun.ifindex(), 9000);
  EXPECT_EQ(nl.get_mtu(tun.ifindex()), 9000u);
}

TEST(Netlink, MtuBelowMinimumIsRefusedWithDeviceName) {
  REQUIRE_PRIVATE_NETNS();
  TunDevice tun = TunDevice::create("nlmtu1");
  Netlink nl = Netlink::open();
  expect_system_error([&] { nl.set_mtu(tun.ifindex(), 20); }, EINVAL, "set mtu 20 dev nlmtu1");
  EXPECT_EQ(nl.get_mtu(tun.ifindex()), 1500u);  // unchanged
}

TEST(Netlink, SetLinkUp) {
  REQUIRE_PRIVATE_NETNS();
  TunDevice tun = TunDevice::create("nlup0");
  Netlink nl = Netlink::open();
  EXPECT_EQ(run("ip -j link show dev nlup0").find("\"UP\""), std::string::npos);
  nl.set_link_up(tun.ifindex());
  EXPECT_NE(run("ip -j link show dev nlup0").find("\"UP\""), std::string::npos);
}

TEST(Netlink, UnknownInterfaceIsNamedByIndex) {
  REQUIRE_PRIVATE_NETNS();
  Netlink nl = Netlink::open();
  expect_system_error([&] { nl.set_link_up(987654); }, ENODEV, "set link up ifindex 987654");
  expect_system_error([&] { nl.get_mtu(987654); }, ENODEV, "get mtu ifindex 987654");
  expect_system_error([&] { nl.delete_link(987654); }, ENODEV, "delete link ifindex 987654");
}

TEST(Netlink, AddAddressesBothFamilies) {
  REQUIRE_PRIVATE_NETNS();
  TunDevice tun = TunDevice::create("nladdr0");
  Netlink nl = Netlink::open();
  nl.set_link_up(tun.ifindex());
  EXPECT_TRUE(nl.add_address(tun.ifindex(), iface_address("10.0.0.1", 24)));
  EXPECT_TRUE(nl.add_address(tun.ifindex(), iface_address("fd00::1", 64)));
  std::string out = run("ip -j addr show dev nladdr0");
  EXPECT_NE(out.find("\"local\":\"10.0.0.1\",\"prefixlen\":24"), std::string::npos) << out;
  EXPECT_NE(out.find("\"local\":\"fd00::1\",\"prefixlen\":64"), std::string::npos) << out;
  // NODAD: usable at once, never tentative. (The kernel's own fe80:: address
  // on the link may well be tentative; look at ours only.)
  size_t ours = out.find("\"local\":\"fd00::1\"");
  ASSERT_NE(ours, std::string::npos);
  std::string entry = out.substr(ours, out.find('}', ours) - ours);
  EXPECT_EQ(entry.find("tentative"), std::string::npos) << entry;
  EXPECT_NE(entry.find("\"nodad\":true"), std::string::npos) << entry;
  // Adding again is not an error and changes nothing.
  EXPECT_FALSE(nl.add_address(tun.ifindex(), iface_address("10.0.0.1", 24)));
  EXPECT_FALSE(nl.add_address(tun.ifindex(), iface_address("fd00::1", 64)));
  // The kernel added the IPv4 prefix route for the address itself.
  EXPECT_NE(run("ip -j route show dev nladdr0").find("\"dst\":\"10.0.0.0/24\""), std::string::npos);
}

TEST(Netlink, AddRoutesBothFamilies) {
  REQUIRE_PRIVATE_NETNS();
  TunDevice tun = TunDevice::create("nlrt0");
  Netlink nl = Netlink::open();
  nl.set_link_up(tun.ifindex());
  EXPECT_TRUE(nl.add_route(tun.ifindex(), prefix("10.1.0.0", 16)));
  EXPECT_TRUE(nl.add_route(tun.ifindex(), prefix("192.0.2.7", 32)));
  EXPECT_TRUE(nl.add_route(tun.ifindex(), prefix("fd01::", 48)));
  // -d shows the type and protocol; table main shows the device.
  std::string v4 = run("ip -d -j -4 route show table main");
  EXPECT_NE(v4.find("{\"type\":\"unicast\",\"dst\":\"10.1.0.0/16\",\"dev\":\"nlrt0\","
                    "\"protocol\":\"boot\",\"scope\":\"link\""),
            std::string::npos)
      << v4;
  EXPECT_NE(v4.find("\"dst\":\"192.0.2.7\",\"dev\":\"nlrt0\""), std::string::npos) << v4;
  std::string v6 = run("ip -d -j -6 route show table main");
  EXPECT_NE(v6.find("{\"type\":\"unicast\",\"dst\":\"fd01::/48\",\"dev\":\"nlrt0\","
                    "\"protocol\":\"boot\""),
            std::string::npos)
      << v6;
  // An existing route is reported, not replaced, not an error.
  EXPECT_FALSE(nl.add_route(tun.ifindex(), prefix("10.1.0.0", 16)));
  EXPECT_FALSE(nl.add_route(tun.ifindex(), prefix("fd01::", 48)));
}

TEST(Netlink, RouteHostBitsAreCleared) {
  REQUIRE_PRIVATE_NETNS();
  TunDevice tun = TunDevice::create("nlrt1");
  Netlink nl = Netlink::open();
  nl.set_link_up(tun.ifindex());
  EXPECT_TRUE(nl.add_route(tun.ifindex(), prefix("10.2.3.77", 21)));
  EXPECT_TRUE(nl.add_route(tun.ifindex(), prefix("fd02::1:2:3", 33)));
  EXPECT_NE(run("ip -j route show dev nlrt1").find("\"dst\":\"10.2.0.0/21\""), std::string::npos);
  EXPECT_NE(run("ip -j -6 route show dev nlrt1").find("\"dst\":\"fd02::/33\""), std::string::npos);
}

TEST(Netlink, RouteOnDownLinkFailsWithDescriptiveMessage) {
  REQUIRE_PRIVATE_NETNS();
  TunDevice tun = TunDevice::create("nlrt2");
  Netlink nl = Netlink::open();
  expect_system_error([&] { nl.add_route(tun.ifindex(), prefix("10.3.0.0", 24)); }, ENETDOWN,
                      "add route 10.3.0.0/24 dev nlrt2");
}

TEST(Netlink, DeleteLinkRemovesPersistentDevice) {
  REQUIRE_PRIVATE_NETNS();
  int status = -1;
  run("ip tuntap add nldel0 mode tun", &status);
  ASSERT_EQ(status, 0);
  unsigned index = if_nametoindex("nldel0");
  ASSERT_NE(index, 0u);
  Netlink nl = Netlink::open();
  nl.delete_link(static_cast<int>(index));
  EXPECT_EQ(if_nametoindex("nldel0"), 0u);
}

TEST(Netlink, SocketSurvivesManyRequests) {
  // Sequence numbers advance and stale replies never confuse a later request.
  REQUIRE_PRIVATE_NETNS();
  TunDevice tun = TunDevice::create("nlseq0");
  Netlink nl = Netlink::open();
  for (uint32_t mtu = 1280; mtu < 1280 + 200; ++mtu) {
    nl.set_mtu(tun.ifindex(), mtu);
    ASSERT_EQ(nl.get_mtu(tun.ifindex()), mtu);
  }
}

}  // namespace
}  // namespace wgp
