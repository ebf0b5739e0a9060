#include "tun/tun_coalescer.h"

#include <algorithm>
#include <cstring>

#include "net/checksum.h"
#include "tun/vnet.h"

namespace wgp {
namespace {

constexpr uint8_t kTcpPsh = 0x08;
constexpr uint8_t kTcpAck = 0x10;
constexpr size_t kMaxIpPacket = 65535;
constexpr size_t kAddrPairBytes = 33;  // version + both addresses: the key's prefix

uint32_t load32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// Full TCP/UDP checksum check: the sum over pseudo-header and segment must fold to 0xFFFF.
bool l4_checksum_ok(ByteView pkt, size_t ip_len, bool v4, uint8_t proto) {
  size_t alen = v4 ? 4 : 16, src_at = v4 ? 12 : 8;
  uint32_t pseudo = pseudo_header_sum(pkt.subspan(src_at, alen), pkt.subspan(src_at + alen, alen),
                                      proto, uint32_t(pkt.size() - ip_len));
  return checksum_fold(checksum_add(pkt.subspan(ip_len), pseudo)) == 0xffff;
}

}  // namespace

// One added packet as far as merging is concerned.
struct TunCoalescer::Segment {
  enum class Kind {
    kOther,    // certainly not a packet of a flow we track
    kUnknown,  // may carry TCP/UDP (fragment, extension headers, odd lengths): flow unknown
    kTcp,      // a whole TCP segment; key, header lengths and seq are valid
    kUdp,      // a whole UDP datagram (only parsed with coalesce_udp); key and lengths valid
  };
  Kind kind = Kind::kOther;
  bool mergeable = false;  // may start or join a super-packet
  bool v4 = false;
  uint16_t ip_len = 0, l4_len = 0, id = 0;
  size_t payload = 0;
  uint32_t seq = 0, hash = 0;
  uint8_t flags = 0;
  FlowKey key{};

  bool flow() const { return kind == Kind::kTcp || kind == Kind::kUdp; }
  // udp: whether UDP is parsed at all (else it is kOther, as before USO).
  void parse(ByteView p, bool udp);
};

void TunCoalescer::Segment::parse(ByteView p, bool udp) {
  if (p.empty()) return;
  uint8_t version = p[0] >> 4;
  size_t l4 = 0;
  uint8_t proto = 0;
  auto tracked = [udp](uint8_t pr) { return pr == kIpProtoTcp || (udp && pr == kIpProtoUdp); };
  if (version == 4 && p.size() >= 20) {
    v4 = true;
    key[0] = 4;
    std::memcpy(&key[1], &p[12], 4);
    std::memcpy(&key[17], &p[16], 4);
    proto = p[9];
    if (!tracked(proto)) return;
    kind = Kind::kUnknown;
    l4 = size_t(p[0] & 0x0f) * 4;
    // A fragment has no whole segment (or no TCP/UDP header at all).
    if (l4 < 20 || load_be16(&p[2]) != p.size() || (load_be16(&p[6]) & 0x3fff)) return;
    id = load_be16(&p[4]);
  } else if (version == 6 && p.size() >= 40) {
    key[0] = 6;
    std::memcpy(&key[1], &p[8], 16);
    std::memcpy(&key[17], &p[24], 16);
    proto = p[6];
    // Hop-by-hop, routing, fragment, destination options: TCP/UDP may hide behind them.
    bool maybe_l4 = proto == 0 || proto == 43 || proto == 44 || proto == 60;
    if (!tracked(proto)) {
      if (maybe_l4) kind = Kind::kUnknown;
      return;
    }
    kind = Kind::kUnknown;
    if (size_t(load_be16(&p[4])) + 40 != p.size()) return;
    l4 = 40;
  } else {
    return;
  }
  size_t thl = 8;
  if (proto == kIpProtoUdp) {
    // The UDP length must be the packet's: a padded datagram is not GRO'd either.
    if (l4 + 8 > p.size() || load_be16(&p[l4 + 4]) != p.size() - l4) return;
  } else {
    if (l4 + 20 > p.size()) return;
    thl = size_t(p[l4 + 12] >> 4) * 4;
    if (thl < 20 || l4 + thl > p.size()) return;
  }
  kind = proto == kIpProtoUdp ? Kind::kUdp : Kind::kTcp;
  ip_len = uint16_t(l4);
  l4_len = uint16_t(thl);
  payload = p.size() - l4 - thl;
  std::memcpy(&key[33], &p[l4], 4);  // both ports
  key[37] = proto;                   // a TCP and a UDP flow on the same ports differ
  hash = load32(&key[33]) ^ (load32(&key[1]) ^ load32(&key[13])) * 0x9e3779b1u ^
         (load32(&key[17]) ^ load32(&key[29])) * 0x85ebca6bu;
  bool l4_ok;
  if (kind == Kind::kUdp) {
    // A zero checksum: "none" over IPv4, invalid over IPv6; not ours to fill in.
    l4_ok = payload > 0 && load_be16(&p[l4 + 6]) != 0;
  } else {
    seq = load_be32(&p[l4 + 4]);
    flags = p[l4 + 13];
    // Only ACK (PSH allowed), and no AE/reserved bits, which GRO would have to preserve per
    // segment.
    l4_ok = (flags & ~kTcpPsh) == kTcpAck && (p[l4 + 12] & 0x0f) == 0 && payload > 0;
  }
  bool ip_ok = !v4 || (l4 == 20 && !(p[6] & 0x80) && ipv4_header_checksum_ok(p));
  mergeable = l4_ok && ip_ok && p.size() <= kMaxIpPacket;
}

TunCoalescer::TunCoalescer(size_t max_frames, size_t arena_bytes, bool coalesce_udp, L4Checksums l4)
    : max_frames_(max_frames),
      coalesce_udp_(coalesce_udp),
      verify_l4_(l4 == L4Checksums::kVerify),
      arena_(arena_bytes) {
  frames_.reserve(max_frames);
  pieces_.resize(max_frames * kMaxPieces);
  piece_lists_.resize(max_frames);
  flat_views_.resize(max_frames);
  open_.reserve(max_frames);
}

bool TunCoalescer::add(ByteView ip_packet) { return add(ip_packet, false); }
bool TunCoalescer::add_borrowed(ByteView ip_packet) { return add(ip_packet, true); }

bool TunCoalescer::add(ByteView ip_packet, bool borrowed) {
  if (ip_packet.empty()) return true;  // e.g. a keepalive: nothing to write
  Segment s;
  s.parse(ip_packet, coalesce_udp_);
  if (s.flow()) {
    if (Frame* f = open_frame_for(s)) {
      if (s.mergeable && can_append(*f, s, ip_packet)) return append(*f, s, ip_packet, borrowed);
      close(*f);  // this packet's frame becomes the flow's newest: nothing may pass it
    }
  } else if (s.kind == Segment::Kind::kUnknown) {
    close_address_pair(s.key);  // might belong to any flow between these hosts
  }
  return start_frame(s, ip_packet, borrowed);
}

uint8_t* TunCoalescer::take(size_t n) {
  if (arena_.size() - used_ < n) return nullptr;
  uint8_t* at = arena_.data() + used_;
  used_ += n;
  return at;
}

TunCoalescer::Frame* TunCoalescer::open_frame_for(const Segment& s) {
  for (uint32_t i : open_) {
    Frame& f = frames_[i];
    if (f.hash == s.hash && f.key == s.key) return &f;
  }
  return nullptr;
}

bool TunCoalescer::can_append(Frame& f, const Segment& s, ByteView pkt) {
  bool udp = s.kind == Segment::Kind::kUdp;
  if (udp != f.udp || s.ip_len != f.ip_len || s.l4_len != f.l4_len) return false;
  if ((!udp && s.seq != f.next_seq) || s.payload > f.gso_size || f.segments >= kMaxSegments)
    return false;
  if (f.length - kVnetHeaderSize + s.payload > kMaxIpPacket) return false;
  const uint8_t* head = head_packet(f);
  const uint8_t* p = pkt.data();
  if (f.v4) {
    // TOS, DF (the rest of bytes 6-7 is zero in both), TTL; ids as TSO would make them.
    if (p[1] != head[1] || p[6] != head[6] || p[8] != head[8]) return false;
    if (s.id != uint16_t(f.last_id + 1)) return false;
  } else if (std::memcmp(p, head, 4) != 0 || p[7] != head[7]) {
    return false;  // version, traffic class, flow label; hop limit
  }
  const uint8_t* t = p + f.ip_len;
  const uint8_t* ht = head + f.ip_len;
  // TCP: ack and data offset byte; window; urgent pointer; options: every
  // segment the kernel cuts from the frame gets the first one's. (UDP: the
  // ports are in the key; length and checksum are per datagram.)
  if (!udp && (std::memcmp(t + 8, ht + 8, 5) != 0 || std::memcmp(t + 14, ht + 14, 2) != 0 ||
               std::memcmp(t + 18, ht + 18, f.l4_len - 18) != 0)) {
    return false;
  }
  if (!verify_l4_) return true;
  return f.first_l4_ok && l4_checksum_ok(pkt, s.ip_len, s.v4, udp ? kIpProtoUdp : kIpProtoTcp);
}

bool TunCoalescer::append(Frame& f, const Segment& s, ByteView pkt, bool borrowed) {
  ByteView payload = pkt.subspan(s.ip_len + s.l4_len, s.payload);
  ByteView* pieces = pieces_of(f);
  if (borrowed) {
    pieces[f.pieces++] = payload;
    f.arena_tail = kNoArenaTail;
  } else {
    uint8_t* at = take(payload.size());
    if (!at) return false;  // the caller flushes and adds it again
    std::memcpy(at, payload.data(), payload.size());
    size_t offset = size_t(at - arena_.data());
    if (f.arena_tail == offset) {  // right after the last piece: that piece grows
      ByteView& last = pieces[f.pieces - 1];
      last = ByteView(last.data(), last.size() + payload.size());
    } else {
      pieces[f.pieces++] = ByteView(at, payload.size());
    }
    f.arena_tail = offset + payload.size();
  }
  f.length += s.payload;
  ++f.segments;
  f.next_seq += uint32_t(s.payload);
  f.last_id = s.id;
  ++coalesced_;
  bool full = f.segments >= kMaxSegments || f.length - kVnetHeaderSize + f.gso_size > kMaxIpPacket;
  if (s.flags & kTcpPsh) head_packet(f)[f.ip_len + 13] |= kTcpPsh;
  if ((s.flags & kTcpPsh) || s.payload < f.gso_size || full) close(f);
  return true;
}

bool TunCoalescer::start_frame(const Segment& s, ByteView pkt, bool borrowed) {
  if (frames_.size() >= max_frames_) return false;
  bool grows = s.mergeable && (s.kind == Segment::Kind::kUdp ||
                               (s.kind == Segment::Kind::kTcp && !(s.flags & kTcpPsh)));
  // The head: the vnet header, then what of the packet lives in the arena:
  // all of it when copied; when borrowed, the headers finalize() may
  // rewrite if the frame may grow, else nothing.
  size_t copied = !borrowed ? pkt.size() : grows ? size_t(s.ip_len) + s.l4_len : 0;
  uint8_t* head = take(kVnetHeaderSize + copied);
  if (!head) return false;
  std::memcpy(head + kVnetHeaderSize, pkt.data(), copied);
  Frame f;
  f.head = size_t(head - arena_.data());
  f.length = kVnetHeaderSize + pkt.size();
  f.arena_tail = borrowed ? kNoArenaTail : f.head + kVnetHeaderSize + copied;
  frames_.push_back(f);
  Frame& added = frames_.back();
  ByteView* pieces = pieces_of(added);
  pieces[added.pieces++] = ByteView(head, kVnetHeaderSize + copied);
  if (copied < pkt.size()) pieces[added.pieces++] = pkt.subspan(copied);
  if (grows) {
    added.open = true;
    added.v4 = s.v4;
    added.udp = s.kind == Segment::Kind::kUdp;
    added.ip_len = s.ip_len;
    added.l4_len = s.l4_len;
    added.gso_size = uint16_t(s.payload);
    added.last_id = s.id;
    added.next_seq = s.seq + uint32_t(s.payload);
    added.hash = s.hash;
    added.key = s.key;
    if (verify_l4_)
      added.first_l4_ok =
          l4_checksum_ok(pkt, s.ip_len, s.v4, added.udp ? kIpProtoUdp : kIpProtoTcp);
    open_.push_back(uint32_t(frames_.size() - 1));
  }
  return true;
}

void TunCoalescer::close(Frame& f) {
  auto it = std::find(open_.begin(), open_.end(), uint32_t(&f - frames_.data()));
  if (it != open_.end()) {
    *it = open_.back();
    open_.pop_back();
  }
  f.open = false;
}

void TunCoalescer::close_address_pair(const FlowKey& key) {
  for (size_t i = open_.size(); i-- > 0;) {
    Frame& f = frames_[open_[i]];
    if (std::memcmp(f.key.data(), key.data(), kAddrPairBytes) == 0) close(f);
  }
}

void TunCoalescer::finalize(Frame& f) {
  uint8_t* frame = arena_.data() + f.head;
  VnetHeader h;
  if (f.segments > 1) {
    uint8_t* p = head_packet(f);
    size_t ip_total = f.length - kVnetHeaderSize;
    size_t l4_total = ip_total - f.ip_len;
    // UDP_L4: gso_size is the payload per datagram, the 8-byte header not
    // included (__udp_gso_segment cuts len - 8 into gso_size pieces).
    h.flags = kVnetFlagNeedsCsum;
    h.gso_type = f.udp ? kGsoUdpL4 : f.v4 ? kGsoTcpV4 : kGsoTcpV6;
    h.hdr_len = uint16_t(f.ip_len + f.l4_len);
    h.gso_size = f.gso_size;
    h.csum_start = f.ip_len;
    h.csum_offset = f.udp ? 6 : 16;
    size_t alen = f.v4 ? 4 : 16, src_at = f.v4 ? 12 : 8;
    if (f.v4) {
      store_be16(p + 2, uint16_t(ip_total));
      ipv4_set_header_checksum(MutableByteView(p, f.ip_len));
    } else {
      store_be16(p + 4, uint16_t(ip_total - 40));
    }
    // The UDP length covers the whole super-packet, as udp_gro_complete sets
    // it: __udp4_lib_rcv trims the skb to it, and __udp_gso_segment moves the
    // checksum from it to each datagram's length.
    if (f.udp) store_be16(p + f.ip_len + 4, uint16_t(l4_total));
    // CHECKSUM_PARTIAL: the field holds the folded pseudo-header sum, not inverted;
    // the kernel adds the segment and inverts (like tcp_v4_send_check, udp4_gro_complete).
    uint32_t pseudo =
        pseudo_header_sum(ByteView(p + src_at, alen), ByteView(p + src_at + alen, alen),
                          f.udp ? kIpProtoUdp : kIpProtoTcp, uint32_t(l4_total));
    store_be16(p + f.ip_len + h.csum_offset, checksum_fold(pseudo));
  }
  h.write(MutableByteView(frame, kVnetHeaderSize));  // all zero for a lone packet
}

std::span<const std::span<const ByteView>> TunCoalescer::pieces() {
  for (size_t i = 0; i < frames_.size(); ++i) {
    finalize(frames_[i]);
    piece_lists_[i] = std::span<const ByteView>(pieces_of(frames_[i]), frames_[i].pieces);
  }
  return std::span<const std::span<const ByteView>>(piece_lists_.data(), frames_.size());
}

std::span<const ByteView> TunCoalescer::frames() {
  auto lists = pieces();
  if (!flat_) flat_ = std::make_unique<LazyBuffer>(max_frames_ * kMaxFrameBytes);
  uint8_t* at = flat_->data();
  for (size_t i = 0; i < lists.size(); ++i) {
    uint8_t* begin = at;
    for (ByteView piece : lists[i]) {
      std::memcpy(at, piece.data(), piece.size());
      at += piece.size();
    }
    flat_views_[i] = ByteView(begin, size_t(at - begin));
  }
  return std::span<const ByteView>(flat_views_.data(), lists.size());
}

void TunCoalescer::clear() {
  frames_.clear();
  open_.clear();
  used_ = 0;
}

}  // namespace wgp
