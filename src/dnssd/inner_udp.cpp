// IP/UDP wrapping for in-tunnel DNS: parse what arrives in a decrypted data
// packet, build what goes back. Every read is checked against the view's size
// before it happens; checksums come from net/checksum.h (RFC 1071).
#include "dnssd/inner_udp.h"

#include <cstring>

#include "net/checksum.h"

namespace wgp::dnssd {
namespace {

// IPv4 header fields (RFC 791 §3.1).
constexpr size_t kV4TotalLengthOffset = 2;
constexpr size_t kV4IdOffset = 4;
constexpr size_t kV4FlagsOffset = 6;
constexpr size_t kV4TtlOffset = 8;
constexpr size_t kV4ProtocolOffset = 9;
constexpr size_t kV4ChecksumOffset = 10;
constexpr size_t kV4SourceOffset = 12;
constexpr size_t kV4DestinationOffset = 16;
constexpr uint16_t kV4MoreFragments = 0x2000;
constexpr uint16_t kV4FragmentOffsetMask = 0x1fff;

// IPv6 header fields (RFC 8200 §3).
constexpr size_t kV6PayloadLengthOffset = 4;
constexpr size_t kV6NextHeaderOffset = 6;
constexpr size_t kV6HopLimitOffset = 7;
constexpr size_t kV6SourceOffset = 8;
constexpr size_t kV6DestinationOffset = 24;

// UDP header fields (RFC 768).
constexpr size_t kUdpLengthOffset = 4;
constexpr size_t kUdpChecksumOffset = 6;

constexpr size_t kMaxIpLength = 0xffff;

// Checks the UDP datagram at `udp` (already cut to the IP payload) and fills
// the ports and payload of `view`; `checksum_required` for IPv6.
bool parse_udp(ByteView udp, bool checksum_required, UdpPacketView& view) {
  if (udp.size() < kUdpHeaderSize) return false;
  const size_t udp_length = load_be16(&udp[kUdpLengthOffset]);
  if (udp_length < kUdpHeaderSize || udp_length > udp.size()) return false;
  udp = udp.first(udp_length);
  const uint16_t checksum = load_be16(&udp[kUdpChecksumOffset]);
  if (checksum == 0) {
    if (checksum_required) return false;
  } else {
    // Summing a datagram that carries its own checksum gives 0xffff when intact.
    uint32_t sum = pseudo_header_sum(view.source, view.destination, kIpProtoUdp, uint32_t(udp_length));
    if (checksum_fold(checksum_add(udp, sum)) != 0xffff) return false;
  }
  view.source_port = load_be16(&udp[0]);
  view.destination_port = load_be16(&udp[2]);
  view.payload = udp.subspan(kUdpHeaderSize);
  return true;
}

std::optional<UdpPacketView> parse_v4(ByteView packet) {
  if (packet.size() < kIpv4HeaderSize) return std::nullopt;
  const size_t header_length = size_t(packet[0] & 0x0f) * 4;
  if (header_length < kIpv4HeaderSize || header_length > packet.size()) return std::nullopt;
  const size_t total_length = load_be16(&packet[kV4TotalLengthOffset]);
  if (total_length < header_length || total_length > packet.size()) return std::nullopt;
  if (checksum_fold(checksum_add(packet.first(header_length))) != 0xffff) return std::nullopt;
  const uint16_t flags = load_be16(&packet[kV4FlagsOffset]);
  if (flags & (kV4MoreFragments | kV4FragmentOffsetMask)) return std::nullopt;
  if (packet[kV4ProtocolOffset] != kIpProtocolUdp) return std::nullopt;

  UdpPacketView view;
  view.source = IpAddress::v4(&packet[kV4SourceOffset]);
  view.destination = IpAddress::v4(&packet[kV4DestinationOffset]);
  ByteView udp = packet.subspan(header_length, total_length - header_length);
  if (!parse_udp(udp, /*checksum_required=*/false, view)) return std::nullopt;
  return view;
}

std::optional<UdpPacketView> parse_v6(ByteView packet) {
  if (packet.size() < kIpv6HeaderSize) return std::nullopt;
  const size_t payload_length = load_be16(&packet[kV6PayloadLengthOffset]);
  // A zero payload length announces a jumbogram (RFC 2675), which needs an
  // extension header: refused with the rest of them.
  if (kIpv6HeaderSize + payload_length > packet.size()) return std::nullopt;
  if (packet[kV6NextHeaderOffset] != kIpProtocolUdp) return std::nullopt;

  UdpPacketView view;
  view.source = IpAddress::v6(&packet[kV6SourceOffset]);
  view.destination = IpAddress::v6(&packet[kV6DestinationOffset]);
  ByteView udp = packet.subspan(kIpv6HeaderSize, payload_length);
  if (!parse_udp(udp, /*checksum_required=*/true, view)) return std::nullopt;
  return view;
}

}  // namespace

std::optional<UdpDestination> peek_udp_destination(ByteView p) {
  if (p.empty()) return std::nullopt;
  UdpDestination d;
  if (p[0] >> 4 == 4) {
    size_t header = size_t(p[0] & 0x0F) * 4;
    if (header < kIpv4HeaderSize || p.size() < header + kUdpHeaderSize || p[9] != kIpProtocolUdp)
      return std::nullopt;
    d.address.family = IpAddress::Family::kV4;
    std::memcpy(d.address.bytes.data(), &p[16], 4);
    d.port = load_be16(&p[header + 2]);
    return d;
  }
  if (p[0] >> 4 == 6) {
    if (p.size() < kIpv6HeaderSize + kUdpHeaderSize || p[6] != kIpProtocolUdp) return std::nullopt;
    d.address.family = IpAddress::Family::kV6;
    std::memcpy(d.address.bytes.data(), &p[24], 16);
    d.port = load_be16(&p[kIpv6HeaderSize + 2]);
    return d;
  }
  return std::nullopt;
}

std::optional<UdpPacketView> parse_udp_packet(ByteView ip_packet) {
  if (ip_packet.empty()) return std::nullopt;
  switch (ip_packet[0] >> 4) {
    case 4:
      return parse_v4(ip_packet);
    case 6:
      return parse_v6(ip_packet);
    default:
      return std::nullopt;
  }
}

size_t build_udp_packet(const IpAddress& source, uint16_t source_port, const IpAddress& destination,
                        uint16_t destination_port, ByteView payload, MutableByteView out) {
  if (source.family != destination.family) return 0;
  const bool v4 = source.is_v4();
  const size_t header_length = v4 ? kIpv4HeaderSize : kIpv6HeaderSize;
  const size_t udp_length = kUdpHeaderSize + payload.size();
  const size_t total_length = header_length + udp_length;
  // IPv4's total length and IPv6's payload length are both 16-bit fields.
  if ((v4 ? total_length : udp_length) > kMaxIpLength) return 0;
  if (out.size() < total_length) return 0;

  uint8_t* udp = out.data() + header_length;
  store_be16(udp, source_port);
  store_be16(udp + 2, destination_port);
  store_be16(udp + kUdpLengthOffset, uint16_t(udp_length));
  store_be16(udp + kUdpChecksumOffset, 0);
  if (!payload.empty()) std::memcpy(udp + kUdpHeaderSize, payload.data(), payload.size());
  uint32_t sum = pseudo_header_sum(source, destination, kIpProtoUdp, uint32_t(udp_length));
  uint16_t checksum = checksum_finish(checksum_add(ByteView(udp, udp_length), sum));
  // 0 would mean "no checksum" (and is invalid over IPv6): send its other form.
  if (checksum == 0) checksum = 0xffff;
  store_be16(udp + kUdpChecksumOffset, checksum);

  uint8_t* ip = out.data();
  std::memset(ip, 0, header_length);
  if (v4) {
    ip[0] = 0x45;  // version 4, IHL 5 (no options)
    store_be16(ip + kV4TotalLengthOffset, uint16_t(total_length));
    // DF is clear, so the identification should differ between packets
    // (RFC 6864 §4.1). The UDP checksum does, without keeping a counter.
    store_be16(ip + kV4IdOffset, checksum);
    ip[kV4TtlOffset] = kDefaultHopLimit;
    ip[kV4ProtocolOffset] = kIpProtocolUdp;
    std::memcpy(ip + kV4SourceOffset, source.bytes.data(), 4);
    std::memcpy(ip + kV4DestinationOffset, destination.bytes.data(), 4);
    store_be16(ip + kV4ChecksumOffset, checksum_finish(checksum_add(ByteView(ip, header_length))));
  } else {
    ip[0] = 0x60;  // version 6, traffic class 0, flow label 0
    store_be16(ip + kV6PayloadLengthOffset, uint16_t(udp_length));
    ip[kV6NextHeaderOffset] = kIpProtocolUdp;
    ip[kV6HopLimitOffset] = kDefaultHopLimit;
    std::memcpy(ip + kV6SourceOffset, source.bytes.data(), 16);
    std::memcpy(ip + kV6DestinationOffset, destination.bytes.data(), 16);
  }
  return total_length;
}

}  // namespace wgp::dnssd
