// The Internet checksum (RFC 1071) and the TCP/UDP pseudo-header (RFC 793
// §3.1, RFC 768, RFC 8200 §8.1): for the TUN offload code that segments and
// coalesces packets in software, and for the in-tunnel DNS packets. Sums are carried unfolded in a
// uint32_t (an end-around-carry sum of big-endian 16-bit words) and folded once at the end, so
// pieces can be added in any order.
#pragma once

#include <cstddef>
#include <cstdint>

#include "net/ip.h"
#include "util/bytes.h"

namespace wgp {

inline constexpr uint8_t kIpProtoTcp = 6;
inline constexpr uint8_t kIpProtoUdp = 17;

// Adds `data` to `sum` as big-endian 16-bit words, an odd trailing byte padded
// with a zero low byte. Words are counted from data[0], so when a region is
// summed in pieces every piece but the last must have an even length. The
// result is not folded; it never loses a carry. Uses AVX2 where the CPU has
// it (checked at the first call); the result is the same either way.
uint32_t checksum_add(ByteView data, uint32_t sum = 0);

namespace detail {
// checksum_add with a given implementation, for tests and benchmarks:
// checksum_add_avx2 falls back to the scalar loop where the CPU lacks AVX2.
uint32_t checksum_add_scalar(ByteView data, uint32_t sum = 0);
uint32_t checksum_add_avx2(ByteView data, uint32_t sum = 0);
bool checksum_has_avx2();
}  // namespace detail

// Folds a ones'-complement sum to 16 bits, NOT inverted (what a
// CHECKSUM_PARTIAL field holds for the pseudo-header).
inline uint16_t checksum_fold(uint64_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

// The value to store in a checksum field: the folded sum, inverted.
inline uint16_t checksum_finish(uint64_t sum) { return static_cast<uint16_t>(~checksum_fold(sum)); }

// Sum of the TCP/UDP pseudo-header: source and destination address (4 bytes
// each for IPv4, 16 for IPv6; both the same size), the protocol and the
// upper-layer length (header + payload).
uint32_t pseudo_header_sum(ByteView src, ByteView dst, uint8_t protocol, uint32_t length);
uint32_t pseudo_header_sum(const IpAddress& src, const IpAddress& dst, uint8_t protocol,
                           uint32_t length);

// Recomputes the header checksum of the IPv4 header ip[0, ihl*4) in place.
// Precondition: ip.size() >= ihl*4 >= 20.
void ipv4_set_header_checksum(MutableByteView ip);
// Whether the IPv4 header ip[0, ihl*4) sums to all ones. Same precondition.
bool ipv4_header_checksum_ok(ByteView ip);

}  // namespace wgp
