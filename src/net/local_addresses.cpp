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

std::vector<IpAddress> local_candidate_addresses(const std::string& exclude_interface,
                                                 std::span<const IpAddress> exclude) {
  std::vector<IpAddress> out;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return out;
  std::unique_ptr<ifaddrs, decltype(&::freeifaddrs)> owner(list, &::freeifaddrs);
  for (const ifaddrs* i = list; i; i = i->ifa_next) {
    if (!i->ifa_addr || (i->ifa_name && exclude_interface == i->ifa_name)) continue;
    IpAddress a;
    if (i->ifa_addr->sa_family == AF_INET) {
      a = IpAddress::v4(reinterpret_cast<const uint8_t*>(
          &reinterpret_cast<const sockaddr_in*>(i->ifa_addr)->sin_addr));
    } else if (i->ifa_addr->sa_family == AF_INET6) {
      a = IpAddress::v6(reinterpret_cast<const sockaddr_in6*>(i->ifa_addr)->sin6_addr.s6_addr);
    } else {
      continue;
    }
    if (!is_candidate_address(a) || std::find(exclude.begin(), exclude.end(), a) != exclude.end() ||
        std::find(out.begin(), out.end(), a) != out.end())
      continue;
    out.push_back(a);
  }
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
