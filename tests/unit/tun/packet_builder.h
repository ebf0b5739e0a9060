// Test helpers for the TUN offload tests: builds IPv4/IPv6 TCP and UDP
// packets and kernel-shaped TSO/USO frames, and checks checksums with a
// deliberately naive byte-by-byte sum that shares no code with net/checksum.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include "tun/vnet.h"
#include "util/bytes.h"

namespace wgp::pkt {

constexpr uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kPsh = 0x08, kAck = 0x10, kUrg = 0x20,
                  kEce = 0x40, kCwr = 0x80;

inline uint32_t be32(const uint8_t* p) {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}

// Naive ones'-complement sum, byte by byte, of (pseudo-header +) data.
inline uint32_t naive_sum(const uint8_t* p, size_t n, uint32_t sum = 0) {
  for (size_t i = 0; i < n; ++i) sum += (i % 2 == 0) ? uint32_t(p[i]) << 8 : p[i];
  return sum;
}
inline uint16_t naive_fold(uint64_t s) {
  while (s > 0xffff) s = (s & 0xffff) + (s >> 16);
  return uint16_t(s);
}

struct Spec {
  bool v6 = false;
  bool udp = false;
  uint8_t src_last = 1, dst_last = 2;  // last address byte: 10.0.0.x / fd00::x
  uint16_t sport = 40000, dport = 5201;
  uint32_t seq = 1000, ack = 77;
  uint8_t flags = kAck;
  uint16_t window = 502;
  std::vector<uint8_t> options;  // TCP options, a multiple of 4
  uint16_t id = 0x1234;
  uint8_t ttl = 64, tos = 0;
  bool df = true;
  std::vector<uint8_t> ipv4_options;  // a multiple of 4
  std::vector<uint8_t> payload;
};

inline size_t ip_header_len(const Spec& s) { return s.v6 ? 40 : 20 + s.ipv4_options.size(); }
inline size_t l4_header_len(const Spec& s) { return s.udp ? 8 : 20 + s.options.size(); }

// TCP timestamp option padded with two NOPs (12 bytes), as Linux sends it.
inline std::vector<uint8_t> timestamps(uint32_t tsval, uint32_t tsecr) {
  std::vector<uint8_t> o = {1, 1, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0};
  store_be32(&o[4], tsval);
  store_be32(&o[8], tsecr);
  return o;
}

// The pseudo-header sum of a packet (addresses from its IP header).
inline uint32_t naive_pseudo(const std::vector<uint8_t>& p, size_t ip_len, uint8_t proto) {
  bool v6 = (p[0] >> 4) == 6;
  size_t at = v6 ? 8 : 12, n = v6 ? 32 : 8;
  uint32_t s = naive_sum(&p[at], n);
  size_t len = p.size() - ip_len;
  return s + proto + uint32_t(len >> 16) + uint32_t(len & 0xffff);
}

// A whole packet with correct lengths and checksums.
inline std::vector<uint8_t> build(const Spec& s) {
  size_t ip = ip_header_len(s), l4 = l4_header_len(s);
  std::vector<uint8_t> p(ip + l4 + s.payload.size(), 0);
  uint8_t proto = s.udp ? 17 : 6;
  if (s.v6) {
    p[0] = 0x60 | (s.tos >> 4);
    p[1] = uint8_t(s.tos << 4) | 0x0a;  // some flow label bits
    p[2] = 0xbc;
    p[3] = 0xde;
    store_be16(&p[4], uint16_t(p.size() - 40));
    p[6] = proto;
    p[7] = s.ttl;
    p[8] = 0xfd;
    p[23] = s.src_last;
    p[24] = 0xfd;
    p[39] = s.dst_last;
  } else {
    p[0] = uint8_t(0x40 | (ip / 4));
    p[1] = s.tos;
    store_be16(&p[2], uint16_t(p.size()));
    store_be16(&p[4], s.id);
    p[6] = s.df ? 0x40 : 0;
    p[8] = s.ttl;
    p[9] = proto;
    p[12] = 10;
    p[15] = s.src_last;
    p[16] = 10;
    p[19] = s.dst_last;
    if (!s.ipv4_options.empty()) std::memcpy(&p[20], s.ipv4_options.data(), s.ipv4_options.size());
    store_be16(&p[10], uint16_t(~naive_fold(naive_sum(p.data(), ip))));
  }
  store_be16(&p[ip], s.sport);
  store_be16(&p[ip + 2], s.dport);
  if (s.udp) {
    store_be16(&p[ip + 4], uint16_t(p.size() - ip));
  } else {
    store_be32(&p[ip + 4], s.seq);
    store_be32(&p[ip + 8], s.ack);
    p[ip + 12] = uint8_t((l4 / 4) << 4);
    p[ip + 13] = s.flags;
    store_be16(&p[ip + 14], s.window);
    if (!s.options.empty()) std::memcpy(&p[ip + 20], s.options.data(), s.options.size());
  }
  if (!s.payload.empty()) std::memcpy(&p[ip + l4], s.payload.data(), s.payload.size());
  size_t csum = ip + (s.udp ? 6 : 16);
  uint16_t c = uint16_t(~naive_fold(naive_sum(&p[ip], p.size() - ip, naive_pseudo(p, ip, proto))));
  if (s.udp && c == 0) c = 0xffff;
  store_be16(&p[csum], c);
  return p;
}

// Payload bytes 0,1,2... offset by `seed` so that slices are recognisable.
inline std::vector<uint8_t> pattern(size_t n, uint8_t seed = 0) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = uint8_t(i * 7 + seed + (i >> 8));
  return v;
}

// The frame a TUN read returns for a TSO/USO super-packet: vnet header with
// NEEDS_CSUM, the L4 checksum field holding the folded pseudo-header sum.
inline std::vector<uint8_t> gso_frame(const Spec& s, uint16_t gso_size, uint8_t gso_type = 0) {
  std::vector<uint8_t> p = build(s);
  size_t ip = ip_header_len(s);
  uint8_t proto = s.udp ? 17 : 6;
  store_be16(&p[ip + (s.udp ? 6 : 16)], naive_fold(naive_pseudo(p, ip, proto)));
  VnetHeader h;
  h.flags = kVnetFlagNeedsCsum;
  h.gso_type = gso_type ? gso_type : s.udp ? kGsoUdpL4 : s.v6 ? kGsoTcpV6 : kGsoTcpV4;
  h.hdr_len = uint16_t(ip + l4_header_len(s));
  h.gso_size = gso_size;
  h.csum_start = uint16_t(ip);
  h.csum_offset = s.udp ? 6 : 16;
  std::vector<uint8_t> f(kVnetHeaderSize);
  h.write(f);
  f.insert(f.end(), p.begin(), p.end());
  return f;
}

// True when the TCP/UDP checksum of a whole packet (no extension headers) verifies.
inline bool l4_checksum_ok(const std::vector<uint8_t>& p) {
  bool v6 = (p[0] >> 4) == 6;
  size_t ip = v6 ? 40 : size_t(p[0] & 0x0f) * 4;
  uint8_t proto = v6 ? p[6] : p[9];
  return naive_fold(naive_sum(&p[ip], p.size() - ip, naive_pseudo(p, ip, proto))) == 0xffff;
}
inline bool ipv4_header_ok(const std::vector<uint8_t>& p) {
  return naive_fold(naive_sum(p.data(), size_t(p[0] & 0x0f) * 4)) == 0xffff;
}

// Collects what split_tun_frame hands out.
class CollectSink : public PacketSink {
 public:
  void packet(MutableByteView p) override { packets.emplace_back(p.begin(), p.end()); }
  std::vector<std::vector<uint8_t>> packets;
};

}  // namespace wgp::pkt
