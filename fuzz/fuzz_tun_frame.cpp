// The TUN offload path (issue 4): split_tun_frame (src/tun/vnet.h) on one
// frame as a vnet-header TUN read returns it, the TunCoalescer
// (src/tun/tun_coalescer.h, UDP merging on, checksums verified or trusted) on
// the packets it gives, and every coalesced frame split again. The input is
// the frame itself: the 10-byte virtio_net_hdr (host byte order) and the IP
// packet, at most 10 + 65535 bytes.
// Properties, each one that vnet.h / tun_coalescer.h state:
// - On an error the sink is never called. Every packet is non-empty, at most
//   65535 bytes and inside the frame.
// - gso NONE: one packet, the frame's bytes as they were, except that with
//   NEEDS_CSUM the field at csum_start + csum_offset is completed: never 0,
//   and the sum from csum_start on, plus the field's old value, is zero.
// - TSO/USO: ceil(payload / gso_size) packets (1 for no payload), each the
//   original headers plus its payload slice; only the documented fields
//   differ (IPv4 total length, id + index, header checksum; IPv6 payload
//   length; TCP seq, FIN/PSH only on the last, CWR only on the first; UDP
//   length); a valid IPv4 header checksum and a full L4 checksum (non-zero
//   for UDP), checked with a sum written here. The sink overwrites each
//   packet after reading it, as PacketSink allows: later ones must not change.
// - Every packet fits the coalescer (after a flush when add() says full), and
//   re-splitting its frames succeeds and gives back exactly the packets
//   added, in order. Exact bytes and order hold here because one frame is one
//   flow and a GSO split writes canonical checksums (~sum, never the 0xFFFF
//   twin of a zero checksum, which the coalescer's recomputation would turn
//   into 0x0000).
// No allocation per input: the buffers are static, the coalescer too. The
// slowest input is a GSO frame with ~30 KB of IPv6 extension headers and
// gso_size 1: ~35,000 segments of 30 KB, about 0.4 s with every check.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#if __has_include(<sanitizer/asan_interface.h>)
#include <sanitizer/asan_interface.h>
#endif
#ifndef ASAN_POISON_MEMORY_REGION
#define ASAN_POISON_MEMORY_REGION(addr, size) ((void)(addr), (void)(size))
#define ASAN_UNPOISON_MEMORY_REGION(addr, size) ((void)(addr), (void)(size))
#endif

#include "tun/tun_coalescer.h"
#include "tun/vnet.h"

namespace {

using namespace wgp;

constexpr size_t kMaxIp = 65535;
constexpr size_t kMaxInput = kVnetHeaderSize + kMaxIp;
constexpr size_t kFrames = 64;
constexpr size_t kArena = 64 * 65546;
// What the coalescer can hold between flushes: its arena, plus a repeated
// header (IPv4/IPv6 + TCP or UDP, at most 120 bytes) for each merged segment.
constexpr size_t kMaxHeld = kFrames * TunCoalescer::kMaxSegments;
constexpr size_t kHeldBytes = kArena + kMaxHeld * 128;

constexpr uint8_t kFin = 0x01, kPsh = 0x08, kCwr = 0x80;

// A frame is placed at its buffer's end and the bytes before it poisoned
// (place()), so ASan sees any access outside the frame.
alignas(8) uint8_t g_frame[kMaxInput];
alignas(8) uint8_t g_resplit[kMaxInput];
uint8_t g_scratch[65536];
// The re-split's own: a flush can run inside the first split (the coalescer
// fills up mid-frame), and split_tun_frame keeps the frame's saved headers in
// its scratch until it returns.
uint8_t g_resplit_scratch[65536];
uint8_t g_want[kMaxIp];  // a segment's expected headers
// Copies of the packets added since the last flush, and room for one more:
// a packet is copied here before it is added, and with kTrust added borrowed
// (TunCoalescer::add_borrowed), so the frames point into these copies.
uint8_t g_held[kHeldBytes + kMaxIp];
size_t g_held_end[kMaxHeld + 1];
size_t g_held_count = 0;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_tun_frame: %s\n", what);
  std::abort();
}

uint16_t be16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }
uint32_t be32(const uint8_t* p) { return uint32_t(be16(p)) << 16 | be16(p + 2); }
void put16(uint8_t* p, uint16_t v) { p[0] = uint8_t(v >> 8), p[1] = uint8_t(v); }
void put32(uint8_t* p, uint32_t v) { put16(p, uint16_t(v >> 16)), put16(p + 2, uint16_t(v)); }

// Ones'-complement sum of big-endian words from p (odd tail padded), unfolded;
// deliberately shares nothing with net/checksum.
uint64_t sum16(const uint8_t* p, size_t n, uint64_t s = 0) {
  for (; n >= 2; n -= 2, p += 2) s += be16(p);
  if (n) s += uint64_t(p[0]) << 8;
  return s;
}
uint16_t fold(uint64_t s) {
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return uint16_t(s);
}

// Places `n` bytes at the end of `buf` and poisons what lies before them.
MutableByteView place(uint8_t* buf, const uint8_t* data, size_t n) {
  ASAN_UNPOISON_MEMORY_REGION(buf, kMaxInput);
  uint8_t* at = buf + kMaxInput - n;
  if (n) std::memcpy(at, data, n);
  ASAN_POISON_MEMORY_REGION(buf, kMaxInput - n);
  return MutableByteView(at, n);
}

// Both checksum modes: the node's (kTrust, packets added borrowed) for
// inputs of odd size, kVerify (packets copied) for the others. The same
// packets come out either way: every segment of a split has a correct
// checksum, and a GSO_NONE frame is a packet alone.
bool g_trust = false;
TunCoalescer& coalescer() {
  static TunCoalescer verify(kFrames, kArena, /*coalesce_udp=*/true,
                             TunCoalescer::L4Checksums::kVerify);
  static TunCoalescer trust(kFrames, kArena, /*coalesce_udp=*/true,
                            TunCoalescer::L4Checksums::kTrust);
  return g_trust ? trust : verify;
}

// Compares what re-splitting a coalesced frame gives with the packets held.
class ResplitSink final : public PacketSink {
 public:
  void packet(MutableByteView p) override {
    if (next >= g_held_count) fail("re-split gives more packets than were added");
    size_t begin = next ? g_held_end[next - 1] : 0;
    size_t n = g_held_end[next] - begin;
    if (p.size() != n || std::memcmp(p.data(), g_held + begin, n) != 0)
      fail("re-split packet differs from the packet added at its place");
    ++next;
  }
  size_t next = 0;
};

class NoPacketSink final : public PacketSink {
 public:
  void packet(MutableByteView) override { fail("sink called for a frame without an IP byte"); }
};

// Writes every coalesced frame out (re-splits it), then empties the coalescer.
void flush() {
  TunCoalescer& c = coalescer();
  auto frames = c.frames();
  if (frames.size() > kFrames) fail("more frames than max_frames");
  ResplitSink sink;
  for (ByteView f : frames) {
    if (f.size() <= kVnetHeaderSize || f.size() > TunCoalescer::kMaxFrameBytes)
      fail("coalesced frame of impossible size");
    MutableByteView copy = place(g_resplit, f.data(), f.size());
    if (split_tun_frame(copy, g_resplit_scratch, sink) != SplitError::kNone)
      fail("a frame the coalescer made does not split");
  }
  if (sink.next != g_held_count) fail("re-split gives fewer packets than were added");
  c.clear();
  g_held_count = 0;
}

// Copies p to where the next held packet goes; hold() counts it once added.
ByteView stage(ByteView p) {
  size_t begin = g_held_count ? g_held_end[g_held_count - 1] : 0;
  std::memcpy(g_held + begin, p.data(), p.size());
  return ByteView(g_held + begin, p.size());
}

void hold(ByteView staged) {
  size_t end = size_t(staged.data() - g_held) + staged.size();
  if (g_held_count == kMaxHeld || end > kHeldBytes)
    fail("coalescer accepted more than its frame, segment and arena limits allow");
  g_held_end[g_held_count++] = end;
}

// Adds a staged packet: borrowed (kTrust, as the node adds what it
// decrypted) or copied from the sink's view, which is overwritten next.
bool add(ByteView staged, ByteView p) {
  return g_trust ? coalescer().add_borrowed(staged) : coalescer().add(p);
}

// Checks each packet of the first split against the input, then feeds it on.
class FirstSink final : public PacketSink {
 public:
  FirstSink(ByteView input, MutableByteView frame) : frame_(frame) {
    h_ = VnetHeader::parse(input);
    ip_ = input.subspan(kVnetHeaderSize);
    gso_ = h_.gso_type != kGsoNone;
  }

  void packet(MutableByteView p) override {
    if (p.empty()) fail("empty packet");
    if (p.size() > kMaxIp) fail("packet over 65535 bytes");
    if (p.data() < frame_.data() || p.data() + p.size() > frame_.data() + frame_.size())
      fail("packet outside the frame");
    size_t i = count++;
    if (gso_) {
      check_segment(p, i);
    } else {
      check_whole(p, i);
    }
    ByteView staged = stage(p);
    if (!add(staged, p)) {
      flush();
      staged = stage(p);
      if (!add(staged, p)) fail("an empty coalescer refuses a packet of <= 65535 bytes");
    }
    hold(staged);
    std::memset(p.data(), 0xa5, p.size());  // the sink may change its packet
  }

  // Packets split_tun_frame must have produced for its kNone.
  size_t expected_count() const { return gso_ ? seg_count_ : 1; }

  size_t count = 0;

 private:
  void check_whole(ByteView p, size_t i) {
    if (i != 0) fail("gso NONE gave more than one packet");
    if (p.size() != ip_.size()) fail("gso NONE packet is not the whole frame");
    size_t field = SIZE_MAX;
    if (h_.flags & kVnetFlagNeedsCsum) {
      field = size_t(h_.csum_start) + h_.csum_offset;
      if (field + 2 > p.size()) fail("NEEDS_CSUM completed outside the packet");
      uint16_t old = be16(&ip_[field]);
      if (be16(&p[field]) == 0) fail("completed checksum is 0");
      size_t start = h_.csum_start;
      if (fold(sum16(&p[start], p.size() - start, old)) != 0xffff)
        fail("completed checksum does not sum with the old field to zero");
    }
    for (size_t k = 0; k < p.size(); ++k)
      if (p[k] != ip_[k] && (k < field || k >= field + 2)) fail("gso NONE packet changed");
  }

  // The layout every segment shares, from the input (csum_start is the L4
  // header when split succeeded, as vnet.h requires).
  void layout() {
    uint8_t type = h_.gso_type & ~kGsoEcn;
    tcp_ = type == kGsoTcpV4 || type == kGsoTcpV6;
    if (!tcp_ && type != kGsoUdpL4) fail("split a frame of an unsupported gso type");
    if (h_.gso_size == 0) fail("split a frame with gso_size 0");
    l4_ = h_.csum_start;
    if (l4_ + (tcp_ ? 20 : 8) > ip_.size()) fail("split a frame without a whole L4 header");
    headers_ = l4_ + (tcp_ ? size_t(ip_[l4_ + 12] >> 4) * 4 : 8);
    if (headers_ > ip_.size()) fail("split a frame whose L4 header overruns it");
    v4_ = ip_[0] >> 4 == 4;
    if (v4_ ? l4_ != size_t(ip_[0] & 0x0f) * 4 || l4_ < 20 : l4_ < 40 || ip_[0] >> 4 != 6)
      fail("csum_start is not where the IP header ends");
    if (tcp_ && v4_ != (type == kGsoTcpV4)) fail("TSO type and IP version disagree");
    payload_ = ip_.size() - headers_;
    seg_count_ = payload_ == 0 ? 1 : (payload_ + h_.gso_size - 1) / h_.gso_size;
  }

  void check_segment(ByteView p, size_t i) {
    if (i == 0) layout();
    if (i >= seg_count_) fail("more segments than ceil(payload / gso_size)");
    size_t begin = i * h_.gso_size;
    size_t len = std::min<size_t>(h_.gso_size, payload_ - begin);
    if (p.size() != headers_ + len) fail("segment size");
    if (std::memcmp(&p[headers_], &ip_[headers_ + begin], len) != 0) fail("segment payload");
    bool last = i + 1 == seg_count_;

    // The headers expected: the original with the documented rewrites.
    uint8_t* want = g_want;
    std::memcpy(want, ip_.data(), headers_);
    if (v4_) {
      put16(&want[2], uint16_t(p.size()));
      put16(&want[4], uint16_t(be16(&ip_[4]) + i));
      std::memcpy(&want[10], &p[10], 2);
      if (fold(sum16(p.data(), l4_)) != 0xffff) fail("IPv4 header checksum");
    } else {
      put16(&want[4], uint16_t(p.size() - 40));
    }
    size_t csum_at = l4_ + (tcp_ ? 16 : 6);
    if (tcp_) {
      put32(&want[l4_ + 4], be32(&ip_[l4_ + 4]) + uint32_t(i * h_.gso_size));
      if (!last) want[l4_ + 13] &= uint8_t(~(kFin | kPsh));
      if (i > 0) want[l4_ + 13] &= uint8_t(~kCwr);
    } else {
      put16(&want[l4_ + 4], uint16_t(p.size() - l4_));
      if (be16(&p[csum_at]) == 0) fail("UDP checksum 0 (means none)");
    }
    std::memcpy(&want[csum_at], &p[csum_at], 2);
    if (std::memcmp(want, p.data(), headers_) != 0) fail("segment headers");

    // Pseudo-header from the input's addresses (IPv6: the fixed header's,
    // extension headers before csum_start being hop-by-hop/destination only).
    size_t src = v4_ ? 12 : 8, alen = v4_ ? 4 : 16;
    size_t l4_len = p.size() - l4_;
    uint64_t s = sum16(&ip_[src], 2 * alen, tcp_ ? 6 : 17);
    s += l4_len >> 16;
    s += l4_len & 0xffff;
    if (fold(sum16(&p[l4_], l4_len, s)) != 0xffff) fail("L4 checksum");
  }

  ByteView ip_;
  MutableByteView frame_;
  VnetHeader h_;
  bool gso_ = false, tcp_ = false, v4_ = false;
  size_t l4_ = 0, headers_ = 0, payload_ = 0, seg_count_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > kMaxInput) return -1;  // a TUN read is never larger
  g_trust = size % 2 == 1;
  coalescer().clear();
  g_held_count = 0;
  MutableByteView frame = place(g_frame, data, size);
  if (size <= kVnetHeaderSize) {  // no IP byte: nothing to hand out
    NoPacketSink none;
    if (split_tun_frame(frame, g_scratch, none) != SplitError::kTooShort)
      fail("a frame without an IP byte is not kTooShort");
    return 0;
  }
  FirstSink sink(ByteView(data, size), frame);
  SplitError r = split_tun_frame(frame, g_scratch, sink);
  if (r != SplitError::kNone) {
    if (sink.count != 0) fail("sink called for a frame that failed");
    return 0;
  }
  if (sink.count != sink.expected_count()) fail("fewer packets than the frame holds");
  flush();
  return 0;
}
