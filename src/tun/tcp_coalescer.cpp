#include "tun/tcp_coalescer.h"

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

// Full TCP checksum check: the sum over pseudo-header and segment must fold to 0xFFFF.
bool tcp_checksum_ok(ByteView pkt, size_t ip_len, bool v4) {
  size_t alen = v4 ? 4 : 16, src_at = v4 ? 12 : 8;
  uint32_t pseudo = pseudo_header_sum(pkt.subspan(src_at, alen), pkt.subspan(src_at + alen, alen),
                                      kIpProtoTcp, uint32_t(pkt.size() - ip_len));
  return checksum_fold(checksum_add(pkt.subspan(ip_len), pseudo)) == 0xffff;
}

}  // namespace

// One added packet as far as merging is concerned.
struct TcpCoalescer::Segment {
  enum class Kind {
    kOther,       // certainly not a segment of a TCP flow we track
    kTcpUnknown,  // may carry TCP (fragment, extension headers, odd lengths): flow unknown
    kTcp,         // a whole TCP segment; key, header lengths and seq are valid
  };
  Kind kind = Kind::kOther;
  bool mergeable = false;  // may start or join a super-packet
  bool v4 = false;
  uint16_t ip_len = 0, tcp_len = 0, id = 0;
  size_t payload = 0;
  uint32_t seq = 0, hash = 0;
  uint8_t flags = 0;
  FlowKey key{};

  void parse(ByteView p);
};

void TcpCoalescer::Segment::parse(ByteView p) {
  if (p.empty()) return;
  uint8_t version = p[0] >> 4;
  size_t l4 = 0;
  if (version == 4 && p.size() >= 20) {
    v4 = true;
    key[0] = 4;
    std::memcpy(&key[1], &p[12], 4);
    std::memcpy(&key[17], &p[16], 4);
    if (p[9] != kIpProtoTcp) return;
    kind = Kind::kTcpUnknown;
    l4 = size_t(p[0] & 0x0f) * 4;
    // A fragment has no whole segment (or no TCP header at all).
    if (l4 < 20 || load_be16(&p[2]) != p.size() || (load_be16(&p[6]) & 0x3fff)) return;
    id = load_be16(&p[4]);
  } else if (version == 6 && p.size() >= 40) {
    key[0] = 6;
    std::memcpy(&key[1], &p[8], 16);
    std::memcpy(&key[17], &p[24], 16);
    uint8_t next = p[6];
    // Hop-by-hop, routing, fragment, destination options: TCP may hide behind them.
    bool maybe_tcp = next == 0 || next == 43 || next == 44 || next == 60;
    if (next != kIpProtoTcp) {
      if (maybe_tcp) kind = Kind::kTcpUnknown;
      return;
    }
    kind = Kind::kTcpUnknown;
    if (size_t(load_be16(&p[4])) + 40 != p.size()) return;
    l4 = 40;
  } else {
    return;
  }
  if (l4 + 20 > p.size()) return;
  size_t thl = size_t(p[l4 + 12] >> 4) * 4;
  if (thl < 20 || l4 + thl > p.size()) return;
  kind = Kind::kTcp;
  ip_len = uint16_t(l4);
  tcp_len = uint16_t(thl);
  payload = p.size() - l4 - thl;
  seq = load_be32(&p[l4 + 4]);
  flags = p[l4 + 13];
  std::memcpy(&key[33], &p[l4], 4);  // both ports
  hash = load32(&key[33]) ^ (load32(&key[1]) ^ load32(&key[13])) * 0x9e3779b1u ^
         (load32(&key[17]) ^ load32(&key[29])) * 0x85ebca6bu;
  // Only ACK (PSH allowed), and no AE/reserved bits, which GRO would have to preserve per segment.
  bool tcp_ok = (flags & ~kTcpPsh) == kTcpAck && (p[l4 + 12] & 0x0f) == 0 && payload > 0;
  bool ip_ok =
      !v4 || (l4 == 20 && !(p[6] & 0x80) && checksum_fold(checksum_add(p.first(20))) == 0xffff);
  mergeable = tcp_ok && ip_ok && p.size() <= kMaxIpPacket;
}

TcpCoalescer::TcpCoalescer(size_t max_frames, size_t arena_bytes)
    : max_frames_(max_frames), arena_(arena_bytes) {
  frames_.reserve(max_frames);
  views_.resize(max_frames);
  open_.reserve(max_frames);
}

bool TcpCoalescer::add(ByteView ip_packet) {
  if (ip_packet.empty()) return true;  // e.g. a keepalive: nothing to write
  Segment s;
  s.parse(ip_packet);
  if (s.kind == Segment::Kind::kTcp) {
    if (Frame* f = open_frame_for(s)) {
      if (s.mergeable && can_append(*f, s, ip_packet)) {
        append(*f, s, ip_packet);
        return true;
      }
      close(*f);  // this packet's frame becomes the flow's newest: nothing may pass it
    }
  } else if (s.kind == Segment::Kind::kTcpUnknown) {
    close_address_pair(s.key);  // might belong to any flow between these hosts
  }
  return start_frame(s, ip_packet);
}

TcpCoalescer::Frame* TcpCoalescer::open_frame_for(const Segment& s) {
  for (uint32_t i : open_) {
    Frame& f = frames_[i];
    if (f.hash == s.hash && f.key == s.key) return &f;
  }
  return nullptr;
}

bool TcpCoalescer::can_append(Frame& f, const Segment& s, ByteView pkt) {
  if (s.ip_len != f.ip_len || s.tcp_len != f.tcp_len) return false;
  if (s.seq != f.next_seq || s.payload > f.gso_size || f.segments >= kMaxSegments) return false;
  if (f.length - kVnetHeaderSize + s.payload > kMaxIpPacket) return false;
  if (f.length + s.payload > f.capacity) return false;
  const uint8_t* head = packet_of(f);
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
  // ack and data offset byte; window; urgent pointer; options: every segment
  // the kernel cuts from the frame gets the first one's.
  if (std::memcmp(t + 8, ht + 8, 5) != 0 || std::memcmp(t + 14, ht + 14, 2) != 0 ||
      std::memcmp(t + 18, ht + 18, f.tcp_len - 18) != 0) {
    return false;
  }
  if (f.segments == 1 &&
      !tcp_checksum_ok(ByteView(head, f.length - kVnetHeaderSize), f.ip_len, f.v4)) {
    return false;
  }
  return tcp_checksum_ok(pkt, s.ip_len, s.v4);
}

void TcpCoalescer::append(Frame& f, const Segment& s, ByteView pkt) {
  std::memcpy(arena_.data() + f.offset + f.length, pkt.data() + s.ip_len + s.tcp_len, s.payload);
  f.length += s.payload;
  ++f.segments;
  f.next_seq += uint32_t(s.payload);
  f.last_id = s.id;
  ++coalesced_;
  bool full = f.segments >= kMaxSegments || f.length + f.gso_size > f.capacity ||
              f.length - kVnetHeaderSize + f.gso_size > kMaxIpPacket;
  if (s.flags & kTcpPsh) packet_of(f)[f.ip_len + 13] |= kTcpPsh;
  if ((s.flags & kTcpPsh) || s.payload < f.gso_size || full) close(f);
}

bool TcpCoalescer::start_frame(const Segment& s, ByteView pkt) {
  if (frames_.size() >= max_frames_) return false;
  size_t need = kVnetHeaderSize + pkt.size();
  if (arena_.size() - used_ < need && !frames_.empty()) {
    Frame& tail = frames_.back();  // give back what the last frame reserved to grow
    tail.capacity = tail.length;
    used_ = tail.offset + tail.length;
  }
  if (arena_.size() - used_ < need) return false;
  bool grows = s.kind == Segment::Kind::kTcp && s.mergeable && !(s.flags & kTcpPsh);
  Frame f;
  f.offset = used_;
  f.length = need;
  f.capacity = grows ? std::max(need, std::min(kMaxFrameBytes, arena_.size() - used_)) : need;
  used_ += f.capacity;
  std::memcpy(packet_of(f), pkt.data(), pkt.size());
  if (grows) {
    f.open = true;
    f.v4 = s.v4;
    f.ip_len = s.ip_len;
    f.tcp_len = s.tcp_len;
    f.gso_size = uint16_t(s.payload);
    f.last_id = s.id;
    f.next_seq = s.seq + uint32_t(s.payload);
    f.hash = s.hash;
    f.key = s.key;
    open_.push_back(uint32_t(frames_.size()));
  }
  frames_.push_back(f);
  return true;
}

void TcpCoalescer::close(Frame& f) {
  auto it = std::find(open_.begin(), open_.end(), uint32_t(&f - frames_.data()));
  if (it != open_.end()) {
    *it = open_.back();
    open_.pop_back();
  }
  f.open = false;
  if (&f == &frames_.back()) {  // the arena's tail: its unused reservation can be reused
    f.capacity = f.length;
    used_ = f.offset + f.length;
  }
}

void TcpCoalescer::close_address_pair(const FlowKey& key) {
  for (size_t i = open_.size(); i-- > 0;) {
    Frame& f = frames_[open_[i]];
    if (std::memcmp(f.key.data(), key.data(), kAddrPairBytes) == 0) close(f);
  }
}

void TcpCoalescer::finalize(Frame& f) {
  uint8_t* frame = arena_.data() + f.offset;
  VnetHeader h;
  if (f.segments > 1) {
    uint8_t* p = frame + kVnetHeaderSize;
    size_t ip_total = f.length - kVnetHeaderSize;
    h.flags = kVnetFlagNeedsCsum;
    h.gso_type = f.v4 ? kGsoTcpV4 : kGsoTcpV6;
    h.hdr_len = uint16_t(f.ip_len + f.tcp_len);
    h.gso_size = f.gso_size;
    h.csum_start = f.ip_len;
    h.csum_offset = 16;
    size_t alen = f.v4 ? 4 : 16, src_at = f.v4 ? 12 : 8;
    if (f.v4) {
      store_be16(p + 2, uint16_t(ip_total));
      ipv4_set_header_checksum(MutableByteView(p, f.ip_len));
    } else {
      store_be16(p + 4, uint16_t(ip_total - 40));
    }
    // CHECKSUM_PARTIAL: the field holds the folded pseudo-header sum, not inverted;
    // the kernel adds the segment and inverts (like tcp_v4_send_check).
    uint32_t pseudo =
        pseudo_header_sum(ByteView(p + src_at, alen), ByteView(p + src_at + alen, alen),
                          kIpProtoTcp, uint32_t(ip_total - f.ip_len));
    store_be16(p + f.ip_len + 16, checksum_fold(pseudo));
  }
  h.write(MutableByteView(frame, kVnetHeaderSize));  // all zero for a lone packet
}

std::span<const ByteView> TcpCoalescer::frames() {
  for (size_t i = 0; i < frames_.size(); ++i) {
    finalize(frames_[i]);
    views_[i] = ByteView(arena_.data() + frames_[i].offset, frames_[i].length);
  }
  return std::span<const ByteView>(views_.data(), frames_.size());
}

void TcpCoalescer::clear() {
  frames_.clear();
  open_.clear();
  used_ = 0;
}

}  // namespace wgp
