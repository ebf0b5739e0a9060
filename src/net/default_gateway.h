// The default gateway, the one device port mapping may ask (portmap/): the
// IPv4 default route of the main table read over rtnetlink (as `ip route
// show default` does, no privilege needed), our address on its link, and a
// NETLINK_ROUTE socket that wakes up when routes or IPv4 addresses change.
#pragma once

#include <cstdint>
#include <optional>

#include "net/ip.h"
#include "util/bytes.h"
#include "util/unique_fd.h"

namespace wgp {

struct DefaultRoute {
  IpAddress gateway;  // IPv4
  int ifindex = 0;
  uint32_t priority = 0;  // the route's metric; the lowest wins
};

// The best IPv4 default route with a gateway among the RTM_NEWROUTE
// messages in `dump` (the replies to an RTM_GETROUTE dump), skipping routes
// of other tables, without a gateway or output interface, multipath ones,
// and those through `exclude_ifindex` (our own TUN). Pure.
std::optional<DefaultRoute> best_default_route(ByteView dump, int exclude_ifindex);

// Dumps the IPv4 routes and returns best_default_route of them; nullopt
// also when rtnetlink cannot be read.
std::optional<DefaultRoute> read_default_route(int exclude_ifindex);

// Our IPv4 address on interface `ifindex` whose subnet holds `gateway`,
// with its prefix length; else the address the kernel would send to
// `gateway` from, as a /32. nullopt when there is none.
std::optional<InterfaceAddress> address_towards(const IpAddress& gateway, int ifindex);

// A non-blocking NETLINK_ROUTE socket that becomes readable when an IPv4
// route or address changes (drain it with drain_address_watch). Throws
// std::system_error when it cannot be opened.
UniqueFd open_route_watch();

}  // namespace wgp
