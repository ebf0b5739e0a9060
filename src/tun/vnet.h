// The virtio-net header a TUN device opened with IFF_VNET_HDR puts before
// every packet (struct virtio_net_hdr, <linux/virtio_net.h>), and the
// software half of the offloads it negotiates: split_tun_frame() cuts the
// TCP/UDP "super-packets" the kernel hands us (TSO/USO) into wire-sized IP
// packets with complete checksums, as the kernel's own GSO would
// (tcp_gso_segment, __udp_gso_segment, skb_checksum_help). No I/O, no
// allocation: bytes in, packets out through a callback.
#pragma once

#include <cstddef>
#include <cstdint>

#include "util/bytes.h"

namespace wgp {

inline constexpr size_t kVnetHeaderSize = 10;

inline constexpr uint8_t kVnetFlagNeedsCsum = 1;  // VIRTIO_NET_HDR_F_NEEDS_CSUM
inline constexpr uint8_t kVnetFlagDataValid = 2;  // VIRTIO_NET_HDR_F_DATA_VALID
inline constexpr uint8_t kGsoNone = 0;
inline constexpr uint8_t kGsoTcpV4 = 1;
inline constexpr uint8_t kGsoUdp = 3;  // UFO: IP fragmentation offload, long gone from Linux
inline constexpr uint8_t kGsoTcpV6 = 4;
inline constexpr uint8_t kGsoUdpL4 = 5;  // USO
inline constexpr uint8_t kGsoEcn = 0x80;

// One struct virtio_net_hdr, fields in host byte order as TUN exchanges them
// (the device is legacy/native-endian unless TUNSETVNETLE/BE is used).
struct VnetHeader {
  uint8_t flags = 0;
  uint8_t gso_type = 0;
  uint16_t hdr_len = 0;
  uint16_t gso_size = 0;
  uint16_t csum_start = 0;
  uint16_t csum_offset = 0;

  // Precondition: frame.size() >= kVnetHeaderSize.
  static VnetHeader parse(ByteView frame);
  // Writes the 10 bytes to out[0, 10). Precondition: out.size() >= kVnetHeaderSize.
  void write(MutableByteView out) const;
  bool operator==(const VnetHeader&) const = default;
};

// Receives the packets split_tun_frame() produces. The view is valid only
// during the call; the sink may modify the bytes inside it, never beyond.
class PacketSink {
 public:
  virtual ~PacketSink() = default;
  virtual void packet(MutableByteView ip_packet) = 0;
};

enum class SplitError {
  kNone,
  kTooShort,            // no room for the vnet header, IP header or TCP/UDP header
  kBadHeader,           // not IPv4/IPv6, protocol not the GSO type's, fragment, bad lengths
  kUnsupportedGso,      // an unknown GSO type, or UFO (kGsoUdp)
  kBadChecksumOffsets,  // csum_start/csum_offset outside the packet or not at the L4 header
};

// Splits one frame read from a vnet-header TUN (frame = the 10-byte header and
// the IP packet, exactly the bytes read) into complete IP packets, each with a
// valid IPv4 header checksum and a full TCP/UDP checksum, and passes them to
// sink.packet() in order. On an error the sink is not called.
//
// - gso_type NONE: the packet as is, its checksum completed first when
//   NEEDS_CSUM is set (summed from csum_start to the end, 0 sent as 0xFFFF).
// - TCPV4/TCPV6 (ECN bit allowed) and UDP_L4: the payload is cut into
//   gso_size pieces (the last may be shorter). The L4 header starts at
//   csum_start, which must be where the IP header ends. hdr_len is ignored:
//   the kernel fills it with the skb's linear length, which can cover payload.
//   Per segment: IPv4 total length, id (first id + index, wrapping) and header
//   checksum; IPv6 payload length; TCP seq advanced, FIN/PSH kept only on the
//   last segment and CWR only on the first; UDP length; the L4 checksum
//   computed in full. A payload that fits one segment gives one packet.
//
// Segments are built in place, walking forward through the frame: segment i
// is the saved headers written just before its own payload slice, over the
// tail of segment i-1 (already handed out). So the frame's contents are
// destroyed, and the sink must not keep the view. `scratch` holds the saved
// IP + L4 headers (at most a few hundred bytes; 64 KiB always suffices);
// kTooShort when it is smaller than the headers.
// Never reads or writes outside `frame` and `scratch`, for any input.
SplitError split_tun_frame(MutableByteView frame, MutableByteView scratch, PacketSink& sink);

}  // namespace wgp
