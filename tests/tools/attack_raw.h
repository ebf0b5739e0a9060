// IPv4 + UDP datagrams with a source address and port of our choosing, for the
// spoofing modes of wgp_attack (spoof-query, forge-srv): an off-path attacker
// who forges another host's address. The packet is built whole (IP header with
// its checksum, UDP header with the pseudo-header checksum, RFC 768/791) and
// sent on a raw socket with IP_HDRINCL, so the kernel takes the headers as
// they are. Needs CAP_NET_RAW (the tests run as root in a namespace). IPv4
// only: the NAT topology the tests forge in is IPv4.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "net/checksum.h"
#include "net/ip.h"
#include "util/bytes.h"
#include "util/unique_fd.h"

namespace wgp::attack {

constexpr size_t kIpv4HeaderSize = 20;
constexpr size_t kUdpHeaderSize = 8;
constexpr size_t kIpUdpHeaders = kIpv4HeaderSize + kUdpHeaderSize;
// Largest payload one unfragmented IPv4 datagram on a 1500-byte link carries.
constexpr size_t kMaxRawPayload = 1500 - kIpUdpHeaders;

// Writes into `out` (resized) an IPv4 packet from `from` to `to` carrying one
// UDP datagram with `payload`: DF set, TTL 64, identification `ip_id`, both
// checksums computed. Both endpoints must be IPv4 and the payload at most
// kMaxRawPayload bytes (throws otherwise).
inline void build_ipv4_udp(const Endpoint& from, const Endpoint& to, ByteView payload,
                           uint16_t ip_id, std::vector<uint8_t>& out) {
  if (!from.address.is_v4() || !to.address.is_v4())
    throw std::invalid_argument("raw sending is IPv4 only");
  if (payload.size() > kMaxRawPayload)
    throw std::invalid_argument("payload too large for raw send");
  const size_t udp_len = kUdpHeaderSize + payload.size();
  out.assign(kIpv4HeaderSize + udp_len, 0);
  uint8_t* ip = out.data();
  ip[0] = 0x45;  // version 4, 5 words of header
  store_be16(ip + 2, uint16_t(out.size()));
  store_be16(ip + 4, ip_id);
  store_be16(ip + 6, 0x4000);  // DF, no fragment offset
  ip[8] = 64;
  ip[9] = kIpProtoUdp;
  std::memcpy(ip + 12, from.address.bytes.data(), 4);
  std::memcpy(ip + 16, to.address.bytes.data(), 4);
  ipv4_set_header_checksum(MutableByteView(out.data(), kIpv4HeaderSize));
  uint8_t* udp = ip + kIpv4HeaderSize;
  store_be16(udp, from.port);
  store_be16(udp + 2, to.port);
  store_be16(udp + 4, uint16_t(udp_len));
  if (!payload.empty()) std::memcpy(udp + kUdpHeaderSize, payload.data(), payload.size());
  uint32_t sum = pseudo_header_sum(from.address, to.address, kIpProtoUdp, uint32_t(udp_len));
  uint16_t check = checksum_finish(checksum_add(ByteView(udp, udp_len), sum));
  store_be16(udp + 6, check == 0 ? 0xffff : check);  // 0 would mean "no checksum"
}

// True when both checksums of a packet from build_ipv4_udp verify: the
// ones'-complement sum over each checksummed region, checksum included, is
// 0xffff. Used as a self-check before anything is sent.
inline bool ipv4_udp_checksums_ok(ByteView packet) {
  if (packet.size() < kIpUdpHeaders || packet[0] != 0x45) return false;
  if (checksum_fold(checksum_add(packet.first(kIpv4HeaderSize))) != 0xffff) return false;
  ByteView udp = packet.subspan(kIpv4HeaderSize);
  if (load_be16(&udp[4]) != udp.size()) return false;
  IpAddress src = IpAddress::v4(&packet[12]), dst = IpAddress::v4(&packet[16]);
  uint32_t sum = pseudo_header_sum(src, dst, kIpProtoUdp, uint32_t(udp.size()));
  return checksum_fold(checksum_add(udp, sum)) == 0xffff;
}

// A raw IPv4 socket that sends packets built by build_ipv4_udp (blocking: a
// full send buffer waits instead of dropping), many per system call.
class RawSender {
 public:
  static constexpr size_t kBatch = 256;

  RawSender() {
    int fd = ::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
    if (fd < 0)
      throw std::system_error(errno, std::generic_category(),
                              "raw socket (needs CAP_NET_RAW, i.e. root)");
    fd_ = UniqueFd(fd);
    int one = 1;
    if (::setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &one, sizeof one) != 0)
      throw std::system_error(errno, std::generic_category(), "IP_HDRINCL");
    msgs_.resize(kBatch);
    iovs_.resize(kBatch);
  }

  // Sends packets[0..n) (n <= kBatch), each to the destination address in its
  // own header. Returns how many the kernel took; the rest count as errors.
  size_t send(const std::vector<std::vector<uint8_t>>& packets, size_t n) {
    n = std::min(n, kBatch);
    for (size_t i = 0; i < n; ++i) {
      sockaddr_in& to = addrs_[i];
      to = {};
      to.sin_family = AF_INET;
      std::memcpy(&to.sin_addr, &packets[i][16], 4);
      iovs_[i] = {const_cast<uint8_t*>(packets[i].data()), packets[i].size()};
      msgs_[i] = {};
      msgs_[i].msg_hdr.msg_name = &to;
      msgs_[i].msg_hdr.msg_namelen = sizeof to;
      msgs_[i].msg_hdr.msg_iov = &iovs_[i];
      msgs_[i].msg_hdr.msg_iovlen = 1;
    }
    size_t done = 0, refused = 0;
    // Bounded: each round either sends something or gives up on one packet.
    while (done < n) {
      int r = ::sendmmsg(fd_.get(), msgs_.data() + done, unsigned(n - done), 0);
      if (r > 0) {
        done += size_t(r);
      } else if (errno == EINTR) {
        continue;
      } else {
        last_error_ = errno;
        ++errors_;
        ++refused;
        ++done;  // skip the packet the kernel refused
      }
    }
    return n - refused;
  }

  uint64_t errors() const { return errors_; }
  int last_error() const { return last_error_; }

 private:
  UniqueFd fd_;
  std::vector<mmsghdr> msgs_;
  std::vector<iovec> iovs_;
  std::array<sockaddr_in, kBatch> addrs_{};
  uint64_t errors_ = 0;
  int last_error_ = 0;
};

}  // namespace wgp::attack
