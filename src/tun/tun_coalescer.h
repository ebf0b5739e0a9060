// TunCoalescer is the receive half of the TUN offloads: decrypted IP packets
// are added one by one, and it packs them into TUN write frames (a 10-byte
// vnet header + one packet) in an arena it owns, merging consecutive in-order
// segments of one TCP flow, and (when asked) consecutive datagrams of one UDP
// flow, into a GSO super-packet, so that the kernel gets one write() and one
// trip through its stack per up to 64 KiB of a flow (what GRO does for a NIC;
// the kernel re-segments only if it forwards the packet or hands UDP to a
// socket without UDP_GRO).
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
// - Checksums of merged packets are verified (TCP/UDP and IPv4 header), as
//   wireguard-go does: a merged frame is written CHECKSUM_PARTIAL, so the
//   kernel would otherwise accept a corrupted segment.
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
  // arena_bytes: room for all frames, headers included (e.g. 64 * 65546).
  // The arena's pages are touched only as frames land in them.
  // coalesce_udp: merge UDP datagrams too (only when the device accepted
  // TUN_F_USO4 and TUN_F_USO6: a kernel without USO rejects GSO_UDP_L4).
  TunCoalescer(size_t max_frames, size_t arena_bytes, bool coalesce_udp = false);

  // Copies one IP packet in, merging it into an open frame of its flow when
  // the rules above allow, else starting a frame. Returns false when there is
  // no room (the caller writes frames(), calls clear() and adds it again); a
  // packet that cannot fit even an empty coalescer (larger than the arena, or
  // max_frames == 0) returns false then too and must be dropped. A packet of
  // at most 65535 bytes always fits an empty coalescer with max_frames >= 1
  // and arena_bytes >= kMaxFrameBytes. An empty packet (a keepalive) is
  // accepted and ignored: a TUN write needs at least one byte.
  bool add(ByteView ip_packet);

  // Finalizes the frames built since clear() (vnet headers, IP lengths,
  // checksum fields) and returns them in order of their first packet. Views
  // are valid until the next clear() or add(); add() may still grow frames.
  std::span<const ByteView> frames();

  void clear();
  size_t frame_count() const { return frames_.size(); }
  // Lifetime count of packets merged into an earlier frame (for stats).
  size_t packets_coalesced() const { return coalesced_; }

 private:
  // IP version, source, destination, ports and protocol, zero-padded: compared whole.
  using FlowKey = std::array<uint8_t, 40>;
  struct Segment;  // a parsed packet (tun_coalescer.cpp)

  struct Frame {
    size_t offset = 0;    // in the arena: vnet header, then the packet
    size_t length = 0;    // bytes used, vnet header included
    size_t capacity = 0;  // bytes reserved; > length only while the frame may grow
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
    FlowKey key{};
  };

  uint8_t* packet_of(const Frame& f) { return arena_.data() + f.offset + 10; }
  Frame* open_frame_for(const Segment& s);
  bool can_append(Frame& f, const Segment& s, ByteView pkt);
  void append(Frame& f, const Segment& s, ByteView pkt);
  bool start_frame(const Segment& s, ByteView pkt);
  void close(Frame& f);
  void close_address_pair(const FlowKey& key);
  void finalize(Frame& f);

  size_t max_frames_;
  bool coalesce_udp_;
  LazyBuffer arena_;
  size_t used_ = 0;  // arena bytes reserved by frames_
  std::vector<Frame> frames_;
  std::vector<ByteView> views_;
  std::vector<uint32_t> open_;  // indices of open frames: at most one per flow
  size_t coalesced_ = 0;
};

}  // namespace wgp
