// In-tunnel DNS needs UDP inside IP: the registry answers queries that arrive
// in decrypted data packets addressed to its tunnel address, port 53, and sends
// NOTIFYs to peers through the tunnel (DESIGN.md §4, §5). These two functions
// are the whole of that wrapping: a strict parser for what a peer's kernel
// sends, and a writer that produces what a kernel would accept.
//
// Checksums: RFC 768 (UDP), RFC 1071 (one's-complement sum), RFC 791 (IPv4
// header), RFC 8200 §8.1 (IPv6 pseudo-header; a zero UDP checksum is invalid).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "net/ip.h"
#include "util/bytes.h"

namespace wgp::dnssd {

constexpr size_t kIpv4HeaderSize = 20;  // without options
constexpr size_t kIpv6HeaderSize = 40;
constexpr size_t kUdpHeaderSize = 8;
constexpr uint8_t kIpProtocolUdp = 17;
constexpr uint8_t kDefaultHopLimit = 64;

// A UDP datagram found inside an IP packet. `payload` points into the packet.
struct UdpPacketView {
  IpAddress source;
  IpAddress destination;
  uint16_t source_port = 0;
  uint16_t destination_port = 0;
  ByteView payload;
};

// Parses an IPv4 or IPv6 packet carrying one whole UDP datagram.
//   IPv4: IHL ≥ 5 (options allowed and skipped), header checksum valid, not a
//         fragment (MF clear, offset 0; DF may be set), protocol UDP. A UDP
//         checksum of 0 means "none" and is accepted.
//   IPv6: next header UDP directly (any extension header → nullopt), UDP
//         checksum required.
// Lengths: the IP header's length must fit in `ip_packet` (bytes after it, such
// as WireGuard padding, are ignored); the UDP length must be ≥ 8 and fit in the
// IP payload (the payload is cut to it, as the kernel does).
// nullopt on anything else; never reads outside `ip_packet`.
std::optional<UdpPacketView> parse_udp_packet(ByteView ip_packet);

// Where a UDP packet is going, read without parsing or checksumming
// anything else: the data path asks this of every decrypted packet, so it
// reads a few fixed offsets only (the UDP header of IPv4 after IHL words,
// of IPv6 right after the fixed header). nullopt when `ip_packet` is no
// IPv4/IPv6 packet carrying UDP directly, or too short to tell.
struct UdpDestination {
  IpAddress address;
  uint16_t port = 0;
};
std::optional<UdpDestination> peek_udp_destination(ByteView ip_packet);

// Bytes build_udp_packet writes for `payload_size` bytes of payload.
constexpr size_t udp_packet_size(IpAddress::Family family, size_t payload_size) {
  return (family == IpAddress::Family::kV4 ? kIpv4HeaderSize : kIpv6HeaderSize) + kUdpHeaderSize +
         payload_size;
}

// Writes an IPv4 or IPv6 packet (the family of `source`) carrying one UDP
// datagram: TTL/hop limit 64, DF clear, IPv4 header checksum, UDP checksum
// (never 0 on the wire: a computed 0 is sent as 0xffff). Returns the length
// written, or 0 when `out` is smaller than udp_packet_size(), the families of
// `source` and `destination` differ, or the packet would exceed 65535 bytes.
size_t build_udp_packet(const IpAddress& source, uint16_t source_port, const IpAddress& destination,
                        uint16_t destination_port, ByteView payload, MutableByteView out);

}  // namespace wgp::dnssd
