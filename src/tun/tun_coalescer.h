// TunCoalescer is the receive half of the TUN offloads: decrypted IP packets
// are added one by one, and it packs them into TUN write frames (a 10-byte
// vnet header + one packet), merging consecutive in-order segments of one TCP
// flow, and (when asked) consecutive datagrams of one UDP flow, into a GSO
// super-packet, so that the kernel gets one write() and one trip through its
// stack per up to 64 KiB of a flow (what GRO does for a NIC; the kernel
// re-segments only if it forwards the packet or hands UDP to a socket without
// UDP_GRO).
//
// A frame is a list of pieces for one writev(): the vnet header and the
// first packet's IP and TCP/UDP headers, copied into an arena the coalescer
// owns (finalize() rewrites them), then each packet's payload. A payload is
// copied into the arena too, unless it was added with add_borrowed(): then
// the piece points at the caller's bytes, which must stay put until clear()
// (the node's decrypted packets do: they are written before the next batch
// is decrypted), and nothing is copied in user space at all.
//
// Merging mirrors Linux tcp_gro_receive/udp_gro_receive/inet_gro_receive and
// wireguard-go's tcpGRO/udpGRO, and errs on the side of not merging: anything
// unusual gets a frame of its own with a zero vnet header, written exactly as
// received. Decisions:
// - IPv4: no options (ihl 5), no fragment, reserved bit clear; TOS, TTL and
//   the DF bit equal; id == previous id + 1 (mod 2^16). Senders that use a
//   fixed id under DF are not merged: the kernel would re-segment with
//   incrementing ids (a virtio header cannot say SKB_GSO_TCP_FIXEDID).
// - IPv6: next header TCP/UDP directly; version/class/flow label word and
//   hop limit equal.
// - TCP: data offset, option bytes, ack, window, urgent pointer and the
//   reserved/AE bits equal; flags ACK or ACK|PSH; payload non-empty, no
//   larger than the frame's first (gso_size), seq == the frame's next
//   expected seq. PSH, a short payload or the segment cap end a frame.
// - UDP (only with coalesce_udp, i.e. the device took USO4/USO6): the UDP
//   length field matches the packet; payload non-empty, no larger than the
//   frame's first; a shorter one ends the frame (udp_gro_receive_segment's
//   rule). A checksum field of 0 is never merged: over IPv4 it means "no
//   checksum" (GRO refuses those too), over IPv6 it is invalid, and either
//   way a super-packet would give its segments a real checksum.
// - At most kMaxSegments segments (UDP_GRO_CNT_MAX's 64, also the kernel's
//   UDP_MAX_SEGMENTS limit for a USO frame) and 65535 IP bytes.
// - The IPv4 header checksum of a merged packet is verified (inet_gro_receive
//   does too). Its TCP/UDP checksum is verified with L4Checksums::kVerify, as
//   wireguard-go does, because a merged frame is written CHECKSUM_PARTIAL and
//   the kernel would accept a corrupted segment; with kTrust it is not, as
//   kernel WireGuard does: a packet Poly1305 authenticated cannot have been
//   corrupted on the way, so receive.c marks it CHECKSUM_UNNECESSARY and
//   GRO merges it unchecked into a CHECKSUM_PARTIAL skb (tcp_gro_complete).
//   Either way a merged segment leaves with a correct checksum if the kernel
//   forwards it, and one whose sender got it wrong is delivered (kTrust) as
//   the kernel's own WireGuard would deliver it.
// A merged UDP frame says what Linux's own udp4/6_gro_complete leaves in a
// GRO'd skb, which __udp_gso_segment then cuts: gso_type UDP_L4, gso_size
// the payload bytes per datagram (UDP header excluded), the UDP length field
// covering the whole super-packet (8 + all payload), and the checksum field
// the folded pseudo-header sum over that length (segmentation adjusts it per
// datagram by the length difference).
// Only the frame most recently opened for a flow may grow, so no segment of a
// flow is ever written before one that was added earlier.
//
// Not thread-safe; one per TUN writer. Allocates only in the constructor.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "util/bytes.h"
#include "util/lazy_buffer.h"

namespace wgp {

class TunCoalescer {
 public:
  static constexpr size_t kMaxSegments = 64;
  static constexpr size_t kMaxFrameBytes = 10 + 65535;  // vnet header + largest IP packet

  // max_frames: frames held before the caller must flush (e.g. 64).
  // arena_bytes: room for what is copied (e.g. 64 * 65546, enough for
  // max_frames of the largest frames copied whole); its pages are touched
  // only as packets land in them.
  // coalesce_udp: merge UDP datagrams too (only when the device accepted
  // TUN_F_USO4 and TUN_F_USO6: a kernel without USO rejects GSO_UDP_L4).
  // l4: whether TCP/UDP checksums are checked before a merge (see above).
  enum class L4Checksums { kVerify, kTrust };
  TunCoalescer(size_t max_frames, size_t arena_bytes, bool coalesce_udp = false,
               L4Checksums l4 = L4Checksums::kVerify);

  // Copies one IP packet in, merging it into an open frame of its flow when
  // the rules above allow, else starting a frame. Returns false when there is
  // no room (the caller writes the frames, calls clear() and adds it again);
  // a packet that cannot fit even an empty coalescer (larger than the arena,
  // or max_frames == 0) returns false then too and must be dropped. A packet
  // of at most 65535 bytes always fits an empty coalescer with max_frames >=
  // 1 and arena_bytes >= kMaxFrameBytes. An empty packet (a keepalive) is
  // accepted and ignored: a TUN write needs at least one byte.
  bool add(ByteView ip_packet);
  // As add(), but the frame keeps pointing at the packet's payload instead
  // of copying it (only its headers are copied): the bytes must stay valid
  // and unchanged until clear().
  bool add_borrowed(ByteView ip_packet);

  // Finalizes the frames built since clear() (vnet headers, IP lengths,
  // checksum fields) and returns them in order of their first packet, each
  // as its pieces in order (a frame is their concatenation). Views are
  // valid until the next clear() or add(); add() may still grow frames.
  std::span<const std::span<const ByteView>> pieces();
  // The same frames, each copied into one contiguous buffer (for tests and
  // writers without gather I/O). Valid as pieces().
  std::span<const ByteView> frames();

  void clear();
  size_t frame_count() const { return frames_.size(); }
  // Lifetime count of packets merged into an earlier frame (for stats).
  size_t packets_coalesced() const { return coalesced_; }

 private:
  // IP version, source, destination, ports and protocol, zero-padded: compared whole.
  using FlowKey = std::array<uint8_t, 40>;
  struct Segment;  // a parsed packet (tun_coalescer.cpp)
  // The pieces one frame may have: its head and a payload per segment.
  static constexpr size_t kMaxPieces = 1 + kMaxSegments;
  static constexpr size_t kNoArenaTail = ~size_t(0);

  struct Frame {
    size_t head = 0;      // arena offset of the vnet header, then the first packet's headers
    size_t length = 0;    // frame bytes, vnet header included
    uint16_t pieces = 0;  // in pieces_[index * kMaxPieces ...]
    bool open = false;    // may still be extended
    bool v4 = false;
    bool udp = false;
    uint16_t ip_len = 0;  // IP header bytes
    uint16_t l4_len = 0;  // TCP or UDP header bytes
    uint16_t gso_size = 0;
    uint16_t segments = 1;
    uint16_t last_id = 0;   // IPv4 id of the last segment
    uint32_t next_seq = 0;  // TCP: seq the next segment must carry
    uint32_t hash = 0;
    bool first_l4_ok = true;  // kVerify: the first packet's TCP/UDP checksum
    // Arena offset just past the last piece when that piece is a copy in
    // the arena (a copy placed there extends it), else kNoArenaTail.
    size_t arena_tail = kNoArenaTail;
    FlowKey key{};
  };

  bool add(ByteView ip_packet, bool borrowed);
  uint8_t* head_packet(const Frame& f) { return arena_.data() + f.head + 10; }
  ByteView* pieces_of(const Frame& f) { return &pieces_[size_t(&f - frames_.data()) * kMaxPieces]; }
  // Room for `n` bytes in the arena, or nullptr.
  uint8_t* take(size_t n);
  Frame* open_frame_for(const Segment& s);
  bool can_append(Frame& f, const Segment& s, ByteView pkt);
  bool append(Frame& f, const Segment& s, ByteView pkt, bool borrowed);
  bool start_frame(const Segment& s, ByteView pkt, bool borrowed);
  void close(Frame& f);
  void close_address_pair(const FlowKey& key);
  void finalize(Frame& f);

  size_t max_frames_;
  bool coalesce_udp_;
  bool verify_l4_;
  LazyBuffer arena_;
  size_t used_ = 0;  // arena bytes taken
  std::vector<Frame> frames_;
  std::vector<ByteView> pieces_;  // kMaxPieces per frame
  std::vector<std::span<const ByteView>> piece_lists_;
  std::vector<uint32_t> open_;  // indices of open frames: at most one per flow
  // frames(): contiguous copies, made on demand.
  std::unique_ptr<LazyBuffer> flat_;
  std::vector<ByteView> flat_views_;
  size_t coalesced_ = 0;
};

}  // namespace wgp
