// Byte views, little-endian loads/stores and hex: the vocabulary every module
// uses at buffer boundaries. Callers own buffers; nothing here allocates except
// the hex helpers, which are for tests, config and the control plane only.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace wgp {

using ByteView = std::span<const uint8_t>;
using MutableByteView = std::span<uint8_t>;

inline uint32_t load_le32(const uint8_t* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}
inline uint64_t load_le64(const uint8_t* p) {
  return uint64_t(load_le32(p)) | uint64_t(load_le32(p + 4)) << 32;
}
inline void store_le32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = uint8_t(v >> (8 * i));
}
inline void store_le64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = uint8_t(v >> (8 * i));
}
inline uint16_t load_be16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }
inline uint32_t load_be32(const uint8_t* p) {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}
inline void store_be16(uint8_t* p, uint16_t v) {
  p[0] = uint8_t(v >> 8);
  p[1] = uint8_t(v);
}
inline void store_be32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = uint8_t(v >> (24 - 8 * i));
}
inline void store_be64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = uint8_t(v >> (56 - 8 * i));
}

// Lower-case hex of `bytes`.
std::string to_hex(ByteView bytes);
// Parses hex (either case, even length); nullopt on any other character.
std::optional<std::vector<uint8_t>> from_hex(std::string_view hex);
// Parses exactly N bytes of hex; nullopt on a wrong length or character.
template <size_t N>
std::optional<std::array<uint8_t, N>> from_hex_exact(std::string_view hex) {
  auto v = from_hex(hex);
  if (!v || v->size() != N) return std::nullopt;
  std::array<uint8_t, N> out;
  std::memcpy(out.data(), v->data(), N);
  return out;
}

}  // namespace wgp
