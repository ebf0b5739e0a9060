#include "net/checksum.h"

#include <bit>
#include <cstring>

namespace wgp {
namespace {

// Adds `w` to `acc` with the carry wrapped around (ones'-complement addition in 64 bits).
inline uint64_t add_carry(uint64_t acc, uint64_t w) {
  acc += w;
  return acc + (acc < w);
}

inline uint64_t load64(const uint8_t* p) {
  uint64_t w;
  std::memcpy(&w, p, 8);
  return w;
}

}  // namespace

// Sums native-order 64-bit words: the ones'-complement sum is byte-order
// independent (RFC 1071 §2(B)), so on a little-endian host the folded result
// is the big-endian sum byte-swapped. Four independent accumulators keep the
// carry chains short.
uint32_t checksum_add(ByteView data, uint32_t sum) {
  const uint8_t* p = data.data();
  size_t n = data.size();
  uint64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
  for (; n >= 32; n -= 32, p += 32) {
    a0 = add_carry(a0, load64(p));
    a1 = add_carry(a1, load64(p + 8));
    a2 = add_carry(a2, load64(p + 16));
    a3 = add_carry(a3, load64(p + 24));
  }
  for (; n >= 8; n -= 8, p += 8) a0 = add_carry(a0, load64(p));
  uint64_t tail = 0;                // the last 0..7 bytes in memory order, zero-padded to a word
  if (n) std::memcpy(&tail, p, n);  // p may be null for an empty view
  a1 = add_carry(a1, tail);
  uint64_t acc = add_carry(add_carry(a0, a1), add_carry(a2, a3));
  uint16_t folded = checksum_fold((acc & 0xffffffff) + (acc >> 32));
  if constexpr (std::endian::native == std::endian::little) folded = __builtin_bswap16(folded);
  uint64_t total = uint64_t(sum) + folded;
  return static_cast<uint32_t>((total & 0xffffffff) + (total >> 32));
}

uint32_t pseudo_header_sum(ByteView src, ByteView dst, uint8_t protocol, uint32_t length) {
  uint64_t sum = checksum_add(src) + uint64_t(checksum_add(dst)) + protocol;
  sum += (length >> 16) + (length & 0xffff);
  return static_cast<uint32_t>((sum & 0xffffffff) + (sum >> 32));
}

uint32_t pseudo_header_sum(const IpAddress& src, const IpAddress& dst, uint8_t protocol,
                           uint32_t length) {
  return pseudo_header_sum(src.view(), dst.view(), protocol, length);
}

void ipv4_set_header_checksum(MutableByteView ip) {
  size_t len = size_t(ip[0] & 0x0f) * 4;
  ip[10] = ip[11] = 0;
  store_be16(&ip[10], checksum_finish(checksum_add(ip.first(len))));
}

}  // namespace wgp
