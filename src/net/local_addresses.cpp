#include "net/local_addresses.h"

#include <ifaddrs.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <system_error>

namespace wgp {

bool is_candidate_address(const IpAddress& a) {
  const uint8_t* b = a.bytes.data();
  if (a.is_v4()) {
    if (b[0] == 0 || b[0] == 127 || (b[0] == 169 && b[1] == 254) || b[0] >= 224) return false;
    return true;
  }
  return (b[0] & 0xE0) == 0x20;  // 2000::/3
}

bool is_peer_destination(const IpAddress& a) {
  const uint8_t* b = a.bytes.data();
  if (a.is_v4()) return b[0] != 0 && b[0] != 127 && b[0] < 224;
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  bool compatible = std::all_of(b, b + 12, [](uint8_t x) { return x == 0; });  // ::/96, ::1
  bool mapped = std::equal(b, b + 12, kMapped);
  bool link_local = b[0] == 0xfe && (b[1] & 0xc0) == 0x80;
  return !compatible && !mapped && !link_local && b[0] != 0xff;
}

namespace {

// Calls fn(interface name, address) for every IPv4 and IPv6 address.
template <typename Fn>
void for_each_interface_address(Fn&& fn) {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return;
  std::unique_ptr<ifaddrs, decltype(&::freeifaddrs)> owner(list, &::freeifaddrs);
  for (const ifaddrs* i = list; i; i = i->ifa_next) {
    if (!i->ifa_addr) continue;
    if (i->ifa_addr->sa_family == AF_INET)
      fn(i->ifa_name, IpAddress::v4(reinterpret_cast<const uint8_t*>(
                          &reinterpret_cast<const sockaddr_in*>(i->ifa_addr)->sin_addr)));
    else if (i->ifa_addr->sa_family == AF_INET6)
      fn(i->ifa_name,
         IpAddress::v6(reinterpret_cast<const sockaddr_in6*>(i->ifa_addr)->sin6_addr.s6_addr));
  }
}

}  // namespace

std::vector<IpAddress> local_candidate_addresses(const std::string& exclude_interface,
                                                 std::span<const IpAddress> exclude) {
  std::vector<IpAddress> out;
  for_each_interface_address([&](const char* name, const IpAddress& a) {
    if ((name && exclude_interface == name) || !is_candidate_address(a) ||
        std::find(exclude.begin(), exclude.end(), a) != exclude.end() ||
        std::find(out.begin(), out.end(), a) != out.end())
      return;
    out.push_back(a);
  });
  return out;
}

std::vector<IpAddress> host_addresses() {
  std::vector<IpAddress> out;
  for_each_interface_address([&](const char*, const IpAddress& a) {
    if (std::find(out.begin(), out.end(), a) == out.end()) out.push_back(a);
  });
  return out;
}

UniqueFd open_address_watch() {
  UniqueFd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE));
  if (!fd) throw std::system_error(errno, std::generic_category(), "netlink socket");
  sockaddr_nl addr{};
  addr.nl_family = AF_NETLINK;
  addr.nl_groups = RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR;
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    throw std::system_error(errno, std::generic_category(), "bind netlink address notifications");
  return fd;
}

bool drain_address_watch(int fd) {
  char buf[8192];
  bool any = false;
  for (int i = 0; i < 64; ++i) {  // bounded: a storm is read again next time
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    any = true;
  }
  return any;
}

}  // namespace wgp
