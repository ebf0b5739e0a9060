// Netlink configures links, addresses and routes through a raw NETLINK_ROUTE
// socket, the way `ip link/addr/route` do, without libnl and without running
// `ip`. Every request asks for an ACK and waits for it, so each call either
// has taken effect when it returns or throws std::system_error whose message
// names the operation, the object and the device, e.g.
//   "add route 10.0.0.0/24 dev wg0: Network is unreachable".
// When the kernel attaches an extended-ACK text it is quoted in the message.
//
// Set-up path only (start-up, `wg set` changes to allowed IPs): it allocates
// freely and blocks on the kernel's answer. Not thread-safe: one owner.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>
#include <vector>

#include "net/ip.h"
#include "util/unique_fd.h"

struct nlmsghdr;

namespace wgp {

class Netlink {
 public:
  // Opens and binds the socket. Throws std::system_error on failure.
  static Netlink open();

  Netlink(Netlink&&) noexcept = default;
  Netlink& operator=(Netlink&&) noexcept = default;

  // Brings the link up (IFF_UP), as `ip link set dev X up`.
  void set_link_up(int ifindex);
  // Sets the link MTU. The kernel refuses values outside the device's range
  // (TUN: 68..65535) with EINVAL.
  void set_mtu(int ifindex, uint32_t mtu);
  // Reads the link's current MTU.
  uint32_t get_mtu(int ifindex);
  // Deletes the link (a TUN made persistent, or any other kind).
  void delete_link(int ifindex);

  // Adds `addr` with its prefix length to the link, scope global. IPv6
  // addresses are added with IFA_F_NODAD so they are usable at once rather
  // than tentative for a second. The kernel adds the prefix route itself.
  // IPv6 needs the link MTU >= 1280 (below it the kernel turns IPv6 off on
  // the link and refuses the address).
  // Returns false (and changes nothing) when the address is already there.
  bool add_address(int ifindex, const InterfaceAddress& addr);

  // Adds a route to `prefix` through the link (no gateway; main table,
  // proto boot as `ip route add` makes; link scope for IPv4). Returns false
  // when an identical route key already exists, which is the normal case for
  // the prefix of the link's own address; it is never replaced, so a route
  // another link owns is left alone. Host bits of `prefix` are cleared.
  // Precondition: the link is up (IPv4 refuses a route via a down link with
  // ENETDOWN, "Device for nexthop is not up").
  bool add_route(int ifindex, const IpPrefix& prefix);

  // Text for messages: "10.0.0.0/24" / "fd00::1/64" (kept here because the
  // tun module does not link the net module's ip.cpp).
  static std::string format(const IpAddress& address, uint8_t length);

 private:
  explicit Netlink(UniqueFd fd) : fd_(std::move(fd)) {}

  using ReplyHandler = std::function<void(const nlmsghdr&)>;
  // Sends `request` (a complete netlink message whose header this fills in
  // with a fresh sequence number and NLM_F_REQUEST|NLM_F_ACK|extra_flags) and
  // reads until the kernel's ACK. Messages other than the ACK go to
  // `on_reply`. Returns 0 on success or the kernel's positive errno when it
  // is listed in `tolerated`; throws for any other failure, prefixed `what`.
  int transact(std::vector<uint8_t>& request, uint16_t extra_flags, const std::string& what,
               const ReplyHandler& on_reply = {}, std::initializer_list<int> tolerated = {});

  // "dev wg0", or "ifindex 7" when the name cannot be found.
  static std::string device(int ifindex);

  UniqueFd fd_;
  uint32_t seq_ = 0;
};

}  // namespace wgp
