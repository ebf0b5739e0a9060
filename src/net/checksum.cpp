#include "net/checksum.h"

#include <algorithm>
#include <bit>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

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

inline uint32_t load32(const uint8_t* p) {
  uint32_t w;
  std::memcpy(&w, p, 4);
  return w;
}

// Sums native-order 64-bit words: the ones'-complement sum is byte-order
// independent (RFC 1071 §2(B)), so on a little-endian host the folded result
// is the big-endian sum byte-swapped. Four independent accumulators keep the
// carry chains short. Returns the unfolded 64-bit ones'-complement sum.
inline uint64_t sum_scalar(const uint8_t* p, size_t n) {
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
  return add_carry(add_carry(a0, a1), add_carry(a2, a3));
}

#if defined(__x86_64__)
// AVX2: every 32-bit lane adds the low and the high native 16-bit half of
// its word into two accumulators, four times faster than the scalar loop
// (the checksum of each TSO segment and of each GSO_NONE packet is on the
// send path of every byte). Plain integer sums of 16-bit values are
// congruent to their ones'-complement sum modulo 0xffff, so they fold the
// same way. A lane grows by at most 2 * 0xffff per 64 bytes: blocks of
// 1 MiB (16,384 steps) cannot overflow 32 bits.
__attribute__((target("avx2"))) uint64_t sum_avx2(const uint8_t* p, size_t n) {
  constexpr size_t kBlock = size_t(1) << 20;
  const __m256i low_half = _mm256_set1_epi32(0xffff);
  uint64_t total = 0;
  while (n >= 64) {
    size_t block = std::min(n, kBlock) & ~size_t(63);
    __m256i lo = _mm256_setzero_si256(), hi = _mm256_setzero_si256();
    for (const uint8_t* end = p + block; p != end; p += 64) {
      __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
      __m256i y = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32));
      lo = _mm256_add_epi32(lo, _mm256_and_si256(x, low_half));
      hi = _mm256_add_epi32(hi, _mm256_srli_epi32(x, 16));
      lo = _mm256_add_epi32(lo, _mm256_and_si256(y, low_half));
      hi = _mm256_add_epi32(hi, _mm256_srli_epi32(y, 16));
    }
    n -= block;
    // Widen the eight lanes of each to 64 bits before adding them up.
    __m256i sum64 = _mm256_add_epi64(_mm256_cvtepu32_epi64(_mm256_castsi256_si128(lo)),
                                     _mm256_cvtepu32_epi64(_mm256_extracti128_si256(lo, 1)));
    sum64 = _mm256_add_epi64(sum64, _mm256_cvtepu32_epi64(_mm256_castsi256_si128(hi)));
    sum64 = _mm256_add_epi64(sum64, _mm256_cvtepu32_epi64(_mm256_extracti128_si256(hi, 1)));
    alignas(32) uint64_t parts[4];
    _mm256_store_si256(reinterpret_cast<__m256i*>(parts), sum64);
    total += parts[0] + parts[1] + parts[2] + parts[3];
  }
  // The rest (under 64 bytes) starts at an even offset: words line up.
  return add_carry(total, sum_scalar(p, n));
}

// Below this many bytes the scalar loop is as fast (IP headers, addresses).
constexpr size_t kVectorMinBytes = 128;
#endif

using SumFunction = uint64_t (*)(const uint8_t*, size_t);

SumFunction best_sum() {
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx2")) return sum_avx2;
#endif
  return sum_scalar;
}

// The folded 64-bit sum as a big-endian 16-bit ones'-complement sum, plus `sum`.
inline uint32_t finish_add(uint64_t acc, uint32_t sum) {
  uint16_t folded = checksum_fold((acc & 0xffffffff) + (acc >> 32));
  if constexpr (std::endian::native == std::endian::little) folded = __builtin_bswap16(folded);
  uint64_t total = uint64_t(sum) + folded;
  return static_cast<uint32_t>((total & 0xffffffff) + (total >> 32));
}

}  // namespace

uint32_t checksum_add(ByteView data, uint32_t sum) {
#if defined(__x86_64__)
  if (data.size() >= kVectorMinBytes) {
    // Chosen once, at the first call, by what this CPU can run.
    static const SumFunction sum_words = best_sum();
    return finish_add(sum_words(data.data(), data.size()), sum);
  }
#endif
  return finish_add(sum_scalar(data.data(), data.size()), sum);
}

namespace detail {
uint32_t checksum_add_scalar(ByteView data, uint32_t sum) {
  return finish_add(sum_scalar(data.data(), data.size()), sum);
}
bool checksum_has_avx2() { return best_sum() != sum_scalar; }
uint32_t checksum_add_avx2(ByteView data, uint32_t sum) {
#if defined(__x86_64__)
  if (checksum_has_avx2()) return finish_add(sum_avx2(data.data(), data.size()), sum);
#endif
  return checksum_add_scalar(data, sum);
}
}  // namespace detail

uint32_t pseudo_header_sum(ByteView src, ByteView dst, uint8_t protocol, uint32_t length) {
  // Once per TCP segment cut or merged: the two address sizes there are, unrolled.
  uint64_t addresses;
  if (src.size() == 4 && dst.size() == 4) {
    addresses = uint64_t(load32(src.data())) + load32(dst.data());
  } else if (src.size() == 16 && dst.size() == 16) {
    addresses = add_carry(add_carry(load64(src.data()), load64(src.data() + 8)),
                          add_carry(load64(dst.data()), load64(dst.data() + 8)));
  } else {
    addresses = add_carry(sum_scalar(src.data(), src.size()), sum_scalar(dst.data(), dst.size()));
  }
  uint64_t sum = finish_add(addresses, 0) + uint64_t(protocol);
  sum += (length >> 16) + (length & 0xffff);
  return static_cast<uint32_t>((sum & 0xffffffff) + (sum >> 32));
}

uint32_t pseudo_header_sum(const IpAddress& src, const IpAddress& dst, uint8_t protocol,
                           uint32_t length) {
  return pseudo_header_sum(src.view(), dst.view(), protocol, length);
}

uint64_t ipv4_header_sum(const uint8_t* ip) {
  // The usual 20-byte header, unrolled; options the long way.
  size_t len = size_t(ip[0] & 0x0f) * 4;
  if (len != 20) return sum_scalar(ip, len);
  return add_carry(add_carry(load64(ip), load64(ip + 8)), load32(ip + 16));
}

void ipv4_set_header_checksum(MutableByteView ip) {
  ip[10] = ip[11] = 0;
  store_be16(&ip[10], checksum_finish(finish_add(ipv4_header_sum(ip.data()), 0)));
}

bool ipv4_header_checksum_ok(ByteView ip) {
  return checksum_fold(finish_add(ipv4_header_sum(ip.data()), 0)) == 0xffff;
}

}  // namespace wgp
