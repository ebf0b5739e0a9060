#include "tun/netlink.h"

#include <arpa/inet.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <system_error>

namespace wgp {
namespace {

constexpr size_t kReceiveBufferSize = 64 * 1024;
// The kernel answers within microseconds; this only bounds a wedged socket.
constexpr time_t kReplyTimeoutSeconds = 5;

[[noreturn]] void throw_errno(int err, const std::string& what) {
  throw std::system_error(err, std::generic_category(), what);
}

// Starts a request: room for the netlink header, then the family header.
template <typename Fixed>
std::vector<uint8_t> start_request(uint16_t type, const Fixed& fixed) {
  std::vector<uint8_t> msg(NLMSG_SPACE(sizeof(Fixed)), 0);
  auto* hdr = reinterpret_cast<nlmsghdr*>(msg.data());
  hdr->nlmsg_type = type;
  std::memcpy(msg.data() + NLMSG_HDRLEN, &fixed, sizeof(Fixed));
  return msg;
}

// Appends one route attribute, padded to RTA_ALIGNTO.
void add_attr(std::vector<uint8_t>& msg, uint16_t type, const void* data, size_t len) {
  rtattr rta{};
  rta.rta_type = type;
  rta.rta_len = static_cast<unsigned short>(RTA_LENGTH(len));
  size_t at = msg.size();
  msg.resize(at + RTA_SPACE(len), 0);
  std::memcpy(msg.data() + at, &rta, sizeof(rta));
  std::memcpy(msg.data() + at + RTA_LENGTH(0), data, len);
}

void add_u32(std::vector<uint8_t>& msg, uint16_t type, uint32_t value) {
  add_attr(msg, type, &value, sizeof(value));
}

ifinfomsg link_header(int ifindex) {
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  ifi.ifi_index = ifindex;
  return ifi;
}

unsigned char family_of(const IpAddress& a) { return a.is_v4() ? AF_INET : AF_INET6; }

// The kernel's extended-ACK text, if the error message carries one.
std::string extack_message(const nlmsghdr& msg) {
  if (!(msg.nlmsg_flags & NLM_F_ACK_TLVS)) return {};
  const auto* err = static_cast<const nlmsgerr*>(NLMSG_DATA(&msg));
  size_t offset = NLMSG_HDRLEN + sizeof(nlmsgerr);
  // Without NLM_F_CAPPED the whole original request is echoed before the TLVs.
  if (!(msg.nlmsg_flags & NLM_F_CAPPED)) offset += err->msg.nlmsg_len - NLMSG_HDRLEN;
  offset = NLMSG_ALIGN(offset);
  const auto* base = reinterpret_cast<const uint8_t*>(&msg);
  while (offset + sizeof(nlattr) <= msg.nlmsg_len) {
    nlattr attr;
    std::memcpy(&attr, base + offset, sizeof(attr));
    if (attr.nla_len < sizeof(nlattr) || offset + attr.nla_len > msg.nlmsg_len) break;
    if ((attr.nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG) {
      const char* text = reinterpret_cast<const char*>(base + offset + NLA_HDRLEN);
      return std::string(text, strnlen(text, attr.nla_len - NLA_HDRLEN));
    }
    offset += NLA_ALIGN(attr.nla_len);
  }
  return {};
}

}  // namespace

Netlink Netlink::open() {
  UniqueFd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
  if (!fd) throw_errno(errno, "open rtnetlink socket");
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;  // nl_pid 0: the kernel assigns a unique port id
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&local), sizeof(local)) < 0) {
    throw_errno(errno, "bind rtnetlink socket");
  }
  // Best effort: error texts from the kernel, and ACKs that do not echo the request.
  int one = 1;
  ::setsockopt(fd.get(), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
  ::setsockopt(fd.get(), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
  timeval timeout{kReplyTimeoutSeconds, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  return Netlink(std::move(fd));
}

std::string Netlink::format(const IpAddress& address, uint8_t length) {
  char text[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(family_of(address), address.bytes.data(), text, sizeof(text));
  return std::string(text) + "/" + std::to_string(length);
}

std::string Netlink::device(int ifindex) {
  char name[IF_NAMESIZE] = {};
  if (ifindex > 0 && ::if_indextoname(static_cast<unsigned>(ifindex), name)) {
    return std::string("dev ") + name;
  }
  return "ifindex " + std::to_string(ifindex);
}

int Netlink::transact(std::vector<uint8_t>& request, uint16_t extra_flags, const std::string& what,
                      const ReplyHandler& on_reply, std::initializer_list<int> tolerated) {
  auto* hdr = reinterpret_cast<nlmsghdr*>(request.data());
  hdr->nlmsg_len = static_cast<uint32_t>(request.size());
  hdr->nlmsg_flags = static_cast<uint16_t>(NLM_F_REQUEST | NLM_F_ACK | extra_flags);
  hdr->nlmsg_seq = ++seq_;
  hdr->nlmsg_pid = 0;

  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (::sendto(fd_.get(), request.data(), request.size(), 0, reinterpret_cast<sockaddr*>(&kernel),
               sizeof(kernel)) < 0) {
    throw_errno(errno, what + " (netlink send)");
  }

  std::vector<uint8_t> buffer(kReceiveBufferSize);
  for (;;) {
    ssize_t n = ::recv(fd_.get(), buffer.data(), buffer.size(), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno(errno == EAGAIN ? ETIMEDOUT : errno, what + " (netlink receive)");
    }
    auto len = static_cast<unsigned>(n);
    for (auto* msg = reinterpret_cast<nlmsghdr*>(buffer.data()); NLMSG_OK(msg, len);
         msg = NLMSG_NEXT(msg, len)) {
      if (msg->nlmsg_seq != seq_) continue;  // a late answer to an earlier request
      if (msg->nlmsg_type == NLMSG_DONE) return 0;
      if (msg->nlmsg_type != NLMSG_ERROR) {
        if (on_reply) on_reply(*msg);
        continue;
      }
      const auto* err = static_cast<const nlmsgerr*>(NLMSG_DATA(msg));
      if (err->error == 0) return 0;  // the ACK
      int code = -err->error;
      for (int ok : tolerated) {
        if (code == ok) return code;
      }
      std::string detail = extack_message(*msg);
      throw_errno(code, detail.empty() ? what : what + " (" + detail + ")");
    }
  }
}

void Netlink::set_link_up(int ifindex) {
  ifinfomsg ifi = link_header(ifindex);
  ifi.ifi_flags = IFF_UP;
  ifi.ifi_change = IFF_UP;
  auto req = start_request(RTM_NEWLINK, ifi);
  transact(req, 0, "set link up " + device(ifindex));
}

void Netlink::set_mtu(int ifindex, uint32_t mtu) {
  auto req = start_request(RTM_NEWLINK, link_header(ifindex));
  add_u32(req, IFLA_MTU, mtu);
  transact(req, 0, "set mtu " + std::to_string(mtu) + " " + device(ifindex));
}

uint32_t Netlink::get_mtu(int ifindex) {
  auto req = start_request(RTM_GETLINK, link_header(ifindex));
  std::optional<uint32_t> mtu;
  const std::string what = "get mtu " + device(ifindex);
  transact(req, 0, what, [&](const nlmsghdr& msg) {
    if (msg.nlmsg_type != RTM_NEWLINK) return;
    const auto* ifi = static_cast<const ifinfomsg*>(NLMSG_DATA(&msg));
    if (ifi->ifi_index != ifindex) return;
    int attr_len = static_cast<int>(IFLA_PAYLOAD(&msg));
    for (const rtattr* rta = IFLA_RTA(ifi); RTA_OK(rta, attr_len); rta = RTA_NEXT(rta, attr_len)) {
      if (rta->rta_type == IFLA_MTU && RTA_PAYLOAD(rta) >= sizeof(uint32_t)) {
        uint32_t value;
        std::memcpy(&value, RTA_DATA(rta), sizeof(value));
        mtu = value;
      }
    }
  });
  if (!mtu) throw_errno(ENODATA, what + " (no IFLA_MTU in reply)");
  return *mtu;
}

void Netlink::delete_link(int ifindex) {
  std::string what = "delete link " + device(ifindex);
  auto req = start_request(RTM_DELLINK, link_header(ifindex));
  transact(req, 0, what);
}

bool Netlink::add_address(int ifindex, const InterfaceAddress& addr) {
  const IpAddress& a = addr.address;
  ifaddrmsg ifa{};
  ifa.ifa_family = family_of(a);
  ifa.ifa_prefixlen = addr.length;
  ifa.ifa_scope = RT_SCOPE_UNIVERSE;
  ifa.ifa_index = static_cast<uint32_t>(ifindex);
  // Skip duplicate address detection: nobody else is on a point-to-point tunnel.
  uint32_t flags = a.is_v4() ? 0 : IFA_F_NODAD;
  ifa.ifa_flags = static_cast<unsigned char>(flags);
  auto req = start_request(RTM_NEWADDR, ifa);
  add_attr(req, IFA_LOCAL, a.bytes.data(), a.size());
  add_attr(req, IFA_ADDRESS, a.bytes.data(), a.size());
  if (flags) add_u32(req, IFA_FLAGS, flags);
  std::string what = "add address " + format(a, addr.length) + " " + device(ifindex);
  return transact(req, NLM_F_CREATE | NLM_F_EXCL, what, {}, {EEXIST}) == 0;
}

bool Netlink::add_route(int ifindex, const IpPrefix& prefix) {
  // Clear host bits (IpPrefix already does; a hand-built one might not), or
  // the kernel refuses an IPv4 route with "Invalid prefix for given prefix length".
  IpAddress dst = prefix.address;
  for (size_t i = 0; i < dst.size(); ++i) {
    int keep = std::clamp(static_cast<int>(prefix.length) - static_cast<int>(i) * 8, 0, 8);
    dst.bytes[i] &= static_cast<uint8_t>(0xff00 >> keep);
  }
  rtmsg rtm{};
  rtm.rtm_family = family_of(dst);
  rtm.rtm_dst_len = prefix.length;
  rtm.rtm_table = RT_TABLE_MAIN;
  rtm.rtm_protocol = RTPROT_BOOT;
  rtm.rtm_scope = dst.is_v4() ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
  rtm.rtm_type = RTN_UNICAST;
  auto req = start_request(RTM_NEWROUTE, rtm);
  if (prefix.length > 0) add_attr(req, RTA_DST, dst.bytes.data(), dst.size());
  add_u32(req, RTA_OIF, static_cast<uint32_t>(ifindex));
  std::string what = "add route " + format(dst, prefix.length) + " " + device(ifindex);
  return transact(req, NLM_F_CREATE | NLM_F_EXCL, what, {}, {EEXIST}) == 0;
}

}  // namespace wgp
