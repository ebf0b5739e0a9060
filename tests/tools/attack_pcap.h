// Reads the UDP datagrams out of a capture written by `tcpdump -w`: the
// classic pcap format (not pcapng), either byte order, microsecond or
// nanosecond timestamps; link types Ethernet (1, with 802.1Q tags), Linux
// cooked v1 (113) and v2 (276), raw IP (101, and 12/14 as some systems write
// it) and BSD loopback (0). IPv4 (fragments skipped: they are no whole
// datagram) and IPv6 without extension headers. Every read is bounds
// checked; a truncated last record ends the file quietly, as tcpdump leaves
// it when killed.
#pragma once

#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "net/ip.h"
#include "util/bytes.h"

namespace wgp::attack {

struct CapturedUdp {
  Endpoint source;
  Endpoint destination;
  std::vector<uint8_t> payload;
};

namespace pcap_detail {

constexpr uint32_t kMaxRecords = 1'000'000;
constexpr uint32_t kMaxSnap = 262'144;

inline uint16_t be16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }

// The IP packet inside one link-layer frame; empty when it carries no IP.
inline ByteView ip_of(uint32_t linktype, ByteView f) {
  size_t off = 0;
  uint16_t ethertype = 0;
  switch (linktype) {
    case 1:  // Ethernet II, maybe VLAN-tagged
      if (f.size() < 14) return {};
      ethertype = be16(&f[12]);
      off = 14;
      while ((ethertype == 0x8100 || ethertype == 0x88a8) && f.size() >= off + 4) {
        ethertype = be16(&f[off + 2]);
        off += 4;
      }
      break;
    case 113:  // Linux cooked v1: protocol at 14
      if (f.size() < 16) return {};
      ethertype = be16(&f[14]);
      off = 16;
      break;
    case 276:  // Linux cooked v2: protocol at 0
      if (f.size() < 20) return {};
      ethertype = be16(&f[0]);
      off = 20;
      break;
    case 0:  // BSD loopback: a 4-byte address family in the writer's order
      if (f.size() < 4) return {};
      return f.subspan(4);
    case 12:
    case 14:
    case 101:  // raw IP
      return f;
    default:
      throw std::runtime_error("pcap link type " + std::to_string(linktype) + " not supported");
  }
  if (ethertype != 0x0800 && ethertype != 0x86dd) return {};
  return off <= f.size() ? f.subspan(off) : ByteView{};
}

// One UDP datagram from an IP packet; false if it is not a whole one.
inline bool udp_of(ByteView ip, CapturedUdp& out) {
  if (ip.empty()) return false;
  ByteView udp;
  if ((ip[0] >> 4) == 4) {
    if (ip.size() < 20) return false;
    size_t ihl = size_t(ip[0] & 0x0f) * 4;
    uint16_t total = be16(&ip[2]);
    if (ihl < 20 || total < ihl || total > ip.size() || ip[9] != 17) return false;
    if ((be16(&ip[6]) & 0x3fff) != 0) return false;  // a fragment: not a whole datagram
    out.source.address = IpAddress::v4(&ip[12]);
    out.destination.address = IpAddress::v4(&ip[16]);
    udp = ip.subspan(ihl, total - ihl);
  } else if ((ip[0] >> 4) == 6) {
    if (ip.size() < 40 || ip[6] != 17) return false;
    size_t len = be16(&ip[4]);
    if (40 + len > ip.size()) return false;
    out.source.address = IpAddress::v6(&ip[8]);
    out.destination.address = IpAddress::v6(&ip[24]);
    udp = ip.subspan(40, len);
  } else {
    return false;
  }
  if (udp.size() < 8) return false;
  size_t ulen = be16(&udp[4]);
  if (ulen < 8 || ulen > udp.size()) return false;
  out.source.port = be16(&udp[0]);
  out.destination.port = be16(&udp[2]);
  out.payload.assign(udp.begin() + 8, udp.begin() + long(ulen));
  return true;
}

}  // namespace pcap_detail

// Every UDP datagram of `path`, in capture order. Throws on a file that is
// not a pcap capture (with pcapng named), or an unsupported link type.
inline std::vector<CapturedUdp> read_pcap_udp(const std::string& path) {
  using namespace pcap_detail;
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) throw std::runtime_error("cannot open " + path);
  uint8_t hdr[24];
  if (std::fread(hdr, 1, sizeof hdr, f.get()) != sizeof hdr)
    throw std::runtime_error(path + ": shorter than a pcap header");
  uint32_t magic = load_le32(hdr);
  bool swapped;
  if (magic == 0xa1b2c3d4 || magic == 0xa1b23c4d) {
    swapped = false;
  } else if (magic == 0xd4c3b2a1 || magic == 0x4d3cb2a1) {
    swapped = true;
  } else if (magic == 0x0a0d0d0a) {
    throw std::runtime_error(path + " is pcapng; write it with tcpdump -w (classic pcap)");
  } else {
    throw std::runtime_error(path + ": not a pcap file");
  }
  auto u32 = [swapped](const uint8_t* p) {
    uint32_t v = load_le32(p);
    return swapped ? __builtin_bswap32(v) : v;
  };
  uint32_t linktype = u32(hdr + 20) & 0x0fffffff;  // upper bits: FCS flags
  std::vector<CapturedUdp> out;
  std::vector<uint8_t> frame;
  for (uint32_t n = 0; n < kMaxRecords; ++n) {
    uint8_t rec[16];
    if (std::fread(rec, 1, sizeof rec, f.get()) != sizeof rec) break;
    uint32_t caplen = u32(rec + 8);
    if (caplen > kMaxSnap) throw std::runtime_error(path + ": record larger than 256 KiB");
    frame.resize(caplen);
    if (std::fread(frame.data(), 1, caplen, f.get()) != caplen) break;  // cut short by a kill
    CapturedUdp d;
    if (udp_of(ip_of(linktype, frame), d)) out.push_back(std::move(d));
  }
  return out;
}

}  // namespace wgp::attack
