#include "net/default_gateway.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <system_error>
#include <vector>

namespace wgp {

namespace {

// The kernel answers a dump at once; this only bounds a wedged socket.
constexpr time_t kReplyTimeoutSeconds = 1;
constexpr size_t kBuffer = 32 * 1024;

uint32_t u32_of(const rtattr* rta) {
  uint32_t v = 0;
  if (RTA_PAYLOAD(rta) >= sizeof v) std::memcpy(&v, RTA_DATA(rta), sizeof v);
  return v;
}

}  // namespace

std::optional<DefaultRoute> best_default_route(ByteView dump, int exclude_ifindex) {
  std::optional<DefaultRoute> best;
  // NLMSG_OK/RTA_OK check every length against what is left.
  auto len = static_cast<unsigned>(dump.size());
  for (auto* msg = reinterpret_cast<const nlmsghdr*>(dump.data()); NLMSG_OK(msg, len);
       msg = NLMSG_NEXT(msg, len)) {
    if (msg->nlmsg_type != RTM_NEWROUTE || msg->nlmsg_len < NLMSG_LENGTH(sizeof(rtmsg))) continue;
    const auto* rtm = static_cast<const rtmsg*>(NLMSG_DATA(msg));
    if (rtm->rtm_family != AF_INET || rtm->rtm_dst_len != 0 || rtm->rtm_type != RTN_UNICAST)
      continue;
    uint32_t table = rtm->rtm_table;
    std::optional<IpAddress> gateway;
    int oif = 0;
    uint32_t priority = 0;
    bool multipath = false;
    int attr_len = static_cast<int>(RTM_PAYLOAD(msg));
    for (const rtattr* rta = RTM_RTA(rtm); RTA_OK(rta, attr_len); rta = RTA_NEXT(rta, attr_len)) {
      switch (rta->rta_type) {
        case RTA_TABLE:
          table = u32_of(rta);
          break;
        case RTA_GATEWAY:
          if (RTA_PAYLOAD(rta) == 4)
            gateway = IpAddress::v4(static_cast<const uint8_t*>(RTA_DATA(rta)));
          break;
        case RTA_OIF:
          oif = static_cast<int>(u32_of(rta));
          break;
        case RTA_PRIORITY:
          priority = u32_of(rta);
          break;
        case RTA_MULTIPATH:
          multipath = true;
          break;
      }
    }
    if (table != RT_TABLE_MAIN || !gateway || oif <= 0 || oif == exclude_ifindex || multipath)
      continue;
    if (!best || priority < best->priority) best = DefaultRoute{*gateway, oif, priority};
  }
  return best;
}

std::optional<DefaultRoute> read_default_route(int exclude_ifindex) {
  UniqueFd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
  if (!fd) return std::nullopt;
  timeval timeout{kReplyTimeoutSeconds, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  struct {
    nlmsghdr header;
    rtmsg body;
  } request{};
  request.header.nlmsg_len = sizeof request;
  request.header.nlmsg_type = RTM_GETROUTE;
  request.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  request.header.nlmsg_seq = 1;
  request.body.rtm_family = AF_INET;
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (::sendto(fd.get(), &request, sizeof request, 0, reinterpret_cast<sockaddr*>(&kernel),
               sizeof kernel) < 0)
    return std::nullopt;
  // Collect the whole dump, then pick (a default route may come last).
  std::vector<uint8_t> all, buffer(kBuffer);
  for (int reads = 0; reads < 256; ++reads) {
    ssize_t n = ::recv(fd.get(), buffer.data(), buffer.size(), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return std::nullopt;
    auto len = static_cast<unsigned>(n);
    bool done = false;
    for (auto* msg = reinterpret_cast<const nlmsghdr*>(buffer.data()); NLMSG_OK(msg, len);
         msg = NLMSG_NEXT(msg, len))
      if (msg->nlmsg_type == NLMSG_DONE || msg->nlmsg_type == NLMSG_ERROR) done = true;
    all.insert(all.end(), buffer.begin(), buffer.begin() + n);
    if (done) return best_default_route(all, exclude_ifindex);
  }
  return std::nullopt;
}

std::optional<InterfaceAddress> address_towards(const IpAddress& gateway, int ifindex) {
  char name[IF_NAMESIZE] = {};
  ifaddrs* list = nullptr;
  if (ifindex > 0 && ::if_indextoname(unsigned(ifindex), name) && ::getifaddrs(&list) == 0) {
    std::unique_ptr<ifaddrs, decltype(&::freeifaddrs)> owner(list, &::freeifaddrs);
    for (const ifaddrs* i = list; i; i = i->ifa_next) {
      if (!i->ifa_addr || !i->ifa_netmask || i->ifa_addr->sa_family != AF_INET ||
          std::strcmp(i->ifa_name, name) != 0)
        continue;
      uint32_t mask = ntohl(reinterpret_cast<const sockaddr_in*>(i->ifa_netmask)->sin_addr.s_addr);
      IpAddress a = IpAddress::v4(reinterpret_cast<const uint8_t*>(
          &reinterpret_cast<const sockaddr_in*>(i->ifa_addr)->sin_addr));
      InterfaceAddress candidate{a, uint8_t(__builtin_popcount(mask))};
      auto subnet = IpPrefix::parse(candidate.to_string());
      if (subnet && subnet->contains(gateway)) return candidate;
    }
  }
  // No subnet of that link holds it (an on-link /32 route): ask the kernel.
  UniqueFd probe(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_storage to{};
  socklen_t to_len = Endpoint{gateway, 9}.to_sockaddr(to);
  sockaddr_in local{};
  socklen_t local_len = sizeof local;
  if (!probe || ::connect(probe.get(), reinterpret_cast<sockaddr*>(&to), to_len) != 0 ||
      ::getsockname(probe.get(), reinterpret_cast<sockaddr*>(&local), &local_len) != 0)
    return std::nullopt;
  return InterfaceAddress{IpAddress::v4(reinterpret_cast<const uint8_t*>(&local.sin_addr)), 32};
}

UniqueFd open_route_watch() {
  UniqueFd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE));
  if (!fd) throw std::system_error(errno, std::generic_category(), "netlink socket");
  sockaddr_nl addr{};
  addr.nl_family = AF_NETLINK;
  addr.nl_groups = RTMGRP_IPV4_ROUTE | RTMGRP_IPV4_IFADDR;
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    throw std::system_error(errno, std::generic_category(), "bind netlink route notifications");
  return fd;
}

}  // namespace wgp
