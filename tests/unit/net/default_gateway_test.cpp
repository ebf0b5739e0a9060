// Picking the default gateway out of an rtnetlink route dump (hand-built
// messages as the kernel lays them out), and the real dump of this host's
// namespace, which must not fail.
#include "net/default_gateway.h"

#include <gtest/gtest.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <cstring>
#include <vector>

namespace wgp {
namespace {

IpAddress ip(const char* text) { return *IpAddress::parse(text); }

struct Route {
  uint8_t dst_len = 0;
  uint8_t table = RT_TABLE_MAIN;
  uint8_t type = RTN_UNICAST;
  std::optional<IpAddress> gateway;
  int oif = 2;
  std::optional<uint32_t> priority;
  bool multipath = false;
  uint8_t family = AF_INET;
};

void add_attr(std::vector<uint8_t>& m, uint16_t type, const void* data, size_t len) {
  rtattr rta{};
  rta.rta_type = type;
  rta.rta_len = uint16_t(RTA_LENGTH(len));
  size_t at = m.size();
  m.resize(at + RTA_SPACE(len), 0);
  std::memcpy(m.data() + at, &rta, sizeof rta);
  std::memcpy(m.data() + at + RTA_LENGTH(0), data, len);
}

// Appends one RTM_NEWROUTE message for `r` to `dump`.
void append(std::vector<uint8_t>& dump, const Route& r) {
  std::vector<uint8_t> m(NLMSG_SPACE(sizeof(rtmsg)), 0);
  rtmsg rtm{};
  rtm.rtm_family = r.family;
  rtm.rtm_dst_len = r.dst_len;
  rtm.rtm_table = r.table;
  rtm.rtm_type = r.type;
  std::memcpy(m.data() + NLMSG_HDRLEN, &rtm, sizeof rtm);
  if (r.gateway) add_attr(m, RTA_GATEWAY, r.gateway->bytes.data(), 4);
  uint32_t oif = uint32_t(r.oif);
  if (r.oif) add_attr(m, RTA_OIF, &oif, 4);
  if (r.priority) add_attr(m, RTA_PRIORITY, &*r.priority, 4);
  if (r.multipath) add_attr(m, RTA_MULTIPATH, &oif, 4);
  nlmsghdr h{};
  h.nlmsg_len = uint32_t(m.size());
  h.nlmsg_type = RTM_NEWROUTE;
  std::memcpy(m.data(), &h, sizeof h);
  dump.insert(dump.end(), m.begin(), m.end());
}

TEST(DefaultGateway, PicksTheLowestMetricDefaultRouteWithAGateway) {
  std::vector<uint8_t> dump;
  append(dump, {.dst_len = 24, .gateway = ip("10.9.0.1")});  // not a default route
  append(dump, {.gateway = std::nullopt, .oif = 5});         // default dev tun, no gateway
  append(dump, {.gateway = ip("10.2.0.1"), .oif = 2, .priority = 100});
  append(dump, {.gateway = ip("10.3.0.1"), .oif = 3, .priority = 50});
  append(dump, {.table = 200, .gateway = ip("10.4.0.1"), .oif = 3});  // another table
  append(dump, {.type = RTN_BLACKHOLE, .gateway = ip("10.5.0.1")});
  append(dump, {.gateway = ip("10.6.0.1"), .oif = 3, .multipath = true});
  auto best = best_default_route(dump, 0);
  ASSERT_TRUE(best);
  EXPECT_EQ(best->gateway, ip("10.3.0.1"));
  EXPECT_EQ(best->ifindex, 3);
  EXPECT_EQ(best->priority, 50u);
  // The TUN's own routes never count.
  best = best_default_route(dump, 3);
  ASSERT_TRUE(best);
  EXPECT_EQ(best->gateway, ip("10.2.0.1"));
}

TEST(DefaultGateway, NoneWithoutADefaultRouteOrOnGarbage) {
  std::vector<uint8_t> dump;
  append(dump, {.dst_len = 8, .gateway = ip("10.0.0.1")});
  EXPECT_FALSE(best_default_route(dump, 0));
  EXPECT_FALSE(best_default_route({}, 0));
  // Cut anywhere, the dump is read only as far as it is whole.
  std::vector<uint8_t> one;
  append(one, {.gateway = ip("10.2.0.1")});
  for (size_t n = 0; n < one.size(); ++n)
    EXPECT_FALSE(best_default_route(ByteView(one.data(), n), 0)) << n;
  EXPECT_TRUE(best_default_route(one, 0));
}

TEST(DefaultGateway, ReadsThisNamespacesRoutes) {
  // Whatever the host has; the call itself must work without privileges.
  auto route = read_default_route(0);
  if (route) {
    EXPECT_TRUE(route->gateway.is_v4());
    EXPECT_GT(route->ifindex, 0);
  }
}

}  // namespace
}  // namespace wgp
