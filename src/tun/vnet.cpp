#include "tun/vnet.h"

#include <algorithm>
#include <cstring>

#include "net/checksum.h"

namespace wgp {
namespace {

constexpr uint8_t kTcpFin = 0x01;
constexpr uint8_t kTcpPsh = 0x08;
constexpr uint8_t kTcpCwr = 0x80;
constexpr size_t kTcpFlagsAt = 13;
constexpr size_t kMaxIpPacket = 65535;

// What the IP header says about the transport header.
struct L3Info {
  bool v4 = false;
  size_t l4_offset = 0;  // where the TCP/UDP header starts
  uint8_t protocol = 0;  // the upper-layer protocol
};

// Parses the IPv4 or IPv6 header. Skips IPv6 hop-by-hop and destination
// options only: a routing header would change the pseudo-header's destination
// and a fragment header means there is no whole L4 segment to cut.
SplitError parse_l3(ByteView pkt, L3Info& out) {
  if (pkt.empty()) return SplitError::kTooShort;
  if (pkt[0] >> 4 == 4) {
    if (pkt.size() < 20) return SplitError::kTooShort;
    size_t ihl = size_t(pkt[0] & 0x0f) * 4;
    if (ihl < 20) return SplitError::kBadHeader;
    if (ihl > pkt.size()) return SplitError::kTooShort;
    if (load_be16(&pkt[6]) & 0x3fff) return SplitError::kBadHeader;  // MF or an offset
    out = {true, ihl, pkt[9]};
    return SplitError::kNone;
  }
  if (pkt[0] >> 4 != 6) return SplitError::kBadHeader;
  if (pkt.size() < 40) return SplitError::kTooShort;
  uint8_t next = pkt[6];
  size_t off = 40;
  while (next == 0 || next == 60) {  // each step advances >= 8 bytes: bounded
    if (off + 2 > pkt.size()) return SplitError::kTooShort;
    next = pkt[off];
    off += (size_t(pkt[off + 1]) + 1) * 8;
    if (off > pkt.size()) return SplitError::kTooShort;
  }
  out = {false, off, next};
  return SplitError::kNone;
}

// gso_type NONE with NEEDS_CSUM: what skb_checksum_help does. The field holds
// the pseudo-header sum already, so summing from csum_start over it is enough.
SplitError complete_checksum(MutableByteView pkt, const VnetHeader& h) {
  size_t start = h.csum_start;
  size_t field = start + h.csum_offset;
  // An odd offset would straddle two summed words: no TCP/UDP/ICMP does that.
  if (field + 2 > pkt.size() || (h.csum_offset & 1)) return SplitError::kBadChecksumOffsets;
  uint16_t sum = checksum_finish(checksum_add(pkt.subspan(start)));
  store_be16(&pkt[field], sum == 0 ? 0xffff : sum);  // CSUM_MANGLED_0, as the kernel sends
  return SplitError::kNone;
}

// The checked geometry of a GSO super-packet.
struct GsoLayout {
  L3Info l3;
  bool tcp = false;
  size_t headers = 0;   // IP + L4 header bytes, repeated in every segment
  size_t csum_at = 0;   // offset of the L4 checksum field
  size_t gso_size = 0;  // payload bytes per segment
};

SplitError check_gso(ByteView pkt, const VnetHeader& h, GsoLayout& out) {
  uint8_t type = h.gso_type & ~kGsoEcn;
  bool ecn = h.gso_type & kGsoEcn;
  if (type != kGsoTcpV4 && type != kGsoTcpV6 && type != kGsoUdpL4) {
    return SplitError::kUnsupportedGso;
  }
  out.tcp = type != kGsoUdpL4;
  if (ecn && !out.tcp) return SplitError::kUnsupportedGso;
  if (pkt.size() > kMaxIpPacket || h.gso_size == 0) return SplitError::kBadHeader;
  if (SplitError e = parse_l3(pkt, out.l3); e != SplitError::kNone) return e;
  bool version_ok = type == kGsoUdpL4 || out.l3.v4 == (type == kGsoTcpV4);
  if (!version_ok || out.l3.protocol != (out.tcp ? kIpProtoTcp : kIpProtoUdp)) {
    return SplitError::kBadHeader;
  }
  if (h.csum_start != out.l3.l4_offset || h.csum_offset != (out.tcp ? 16 : 6)) {
    return SplitError::kBadChecksumOffsets;
  }
  size_t l4 = out.l3.l4_offset;
  size_t l4_len = 8;
  if (out.tcp) {
    if (l4 + 20 > pkt.size()) return SplitError::kTooShort;
    l4_len = size_t(pkt[l4 + 12] >> 4) * 4;
    if (l4_len < 20) return SplitError::kBadHeader;
  }
  if (l4 + l4_len > pkt.size()) return SplitError::kTooShort;
  out.headers = l4 + l4_len;
  out.csum_at = l4 + h.csum_offset;
  out.gso_size = h.gso_size;
  return SplitError::kNone;
}

// Rewrites the headers of segment `index` (payload `payload_len` bytes) and
// computes its checksums. `saved` is the original header block, which also
// supplies the addresses so nothing depends on what the sink did to earlier
// segments.
void finish_segment(MutableByteView seg, ByteView saved, const GsoLayout& g, size_t index,
                    bool last) {
  const L3Info& l3 = g.l3;
  size_t l4 = l3.l4_offset;
  if (l3.v4) {
    store_be16(&seg[2], static_cast<uint16_t>(seg.size()));
    store_be16(&seg[4], static_cast<uint16_t>(load_be16(&saved[4]) + index));
    ipv4_set_header_checksum(seg);
  } else {
    store_be16(&seg[4], static_cast<uint16_t>(seg.size() - 40));
  }
  if (g.tcp) {
    uint32_t seq = load_be32(&saved[l4 + 4]) + static_cast<uint32_t>(index * g.gso_size);
    store_be32(&seg[l4 + 4], seq);
    if (!last) seg[l4 + kTcpFlagsAt] &= ~(kTcpFin | kTcpPsh);
    if (index > 0) seg[l4 + kTcpFlagsAt] &= ~kTcpCwr;
  } else {
    store_be16(&seg[l4 + 4], static_cast<uint16_t>(seg.size() - l4));
  }
  size_t alen = l3.v4 ? 4 : 16;
  size_t src_at = l3.v4 ? 12 : 8;
  ByteView src = saved.subspan(src_at, alen), dst = saved.subspan(src_at + alen, alen);
  uint8_t proto = g.tcp ? kIpProtoTcp : kIpProtoUdp;
  seg[g.csum_at] = seg[g.csum_at + 1] = 0;
  uint32_t sum = checksum_add(seg.subspan(l4), pseudo_header_sum(src, dst, proto, seg.size() - l4));
  uint16_t check = checksum_finish(sum);
  if (!g.tcp && check == 0) check = 0xffff;  // 0 means "no checksum" in UDP (RFC 768)
  store_be16(&seg[g.csum_at], check);
}

}  // namespace

VnetHeader VnetHeader::parse(ByteView frame) {
  VnetHeader h;
  h.flags = frame[0];
  h.gso_type = frame[1];
  std::memcpy(&h.hdr_len, &frame[2], 2);  // host byte order
  std::memcpy(&h.gso_size, &frame[4], 2);
  std::memcpy(&h.csum_start, &frame[6], 2);
  std::memcpy(&h.csum_offset, &frame[8], 2);
  return h;
}

void VnetHeader::write(MutableByteView out) const {
  out[0] = flags;
  out[1] = gso_type;
  std::memcpy(&out[2], &hdr_len, 2);
  std::memcpy(&out[4], &gso_size, 2);
  std::memcpy(&out[6], &csum_start, 2);
  std::memcpy(&out[8], &csum_offset, 2);
}

SplitError split_tun_frame(MutableByteView frame, MutableByteView scratch, PacketSink& sink) {
  if (frame.size() <= kVnetHeaderSize) return SplitError::kTooShort;
  VnetHeader h = VnetHeader::parse(frame);
  MutableByteView pkt = frame.subspan(kVnetHeaderSize);
  if (h.gso_type == kGsoNone) {
    if (h.flags & kVnetFlagNeedsCsum) {
      if (SplitError e = complete_checksum(pkt, h); e != SplitError::kNone) return e;
    }
    sink.packet(pkt);
    return SplitError::kNone;
  }
  GsoLayout g;
  if (SplitError e = check_gso(pkt, h, g); e != SplitError::kNone) return e;
  if (scratch.size() < g.headers) return SplitError::kTooShort;
  MutableByteView saved = scratch.first(g.headers);
  std::memcpy(saved.data(), pkt.data(), g.headers);

  size_t payload = pkt.size() - g.headers;
  size_t count = payload == 0 ? 1 : (payload + g.gso_size - 1) / g.gso_size;
  for (size_t i = 0; i < count; ++i) {
    size_t begin = i * g.gso_size;  // segment i's headers go just before its payload slice
    size_t len = std::min(g.gso_size, payload - begin);
    MutableByteView seg = pkt.subspan(begin, g.headers + len);
    if (i > 0) std::memcpy(seg.data(), saved.data(), g.headers);
    finish_segment(seg, saved, g, i, i + 1 == count);
    sink.packet(seg);
  }
  return SplitError::kNone;
}

}  // namespace wgp
