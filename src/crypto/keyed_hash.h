// A hash for tables whose keys the other side chooses (DESIGN.md §6,
// "Tables that others fill"): SipHash-2-4 (libsodium's crypto_shorthash)
// under a random key of its own, as the kernel keys siphash per table in
// peerlookup.c. Nobody who cannot read the key can choose keys that share a
// bucket, so a hash table stays a hash table. Copies share the key (a
// container copies its hasher); two tables made apart have different keys.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <type_traits>
#include <utility>

namespace wgp {

class KeyedHash {
 public:
  KeyedHash();  // a fresh random key

  uint64_t bytes(std::span<const uint8_t> data) const;

  // Keys stored as plain bytes: integers, std::array keys, pairs of them.
  template <typename T>
  requires std::has_unique_object_representations_v<T> size_t operator()(const T& value) const {
    return size_t(bytes({reinterpret_cast<const uint8_t*>(&value), sizeof value}));
  }
  // A pair is hashed as its two halves one after the other.
  template <typename A, typename B>
  size_t operator()(const std::pair<A, B>& value) const {
    static_assert(std::has_unique_object_representations_v<A> &&
                  std::has_unique_object_representations_v<B>);
    std::array<uint8_t, sizeof(A) + sizeof(B)> both;
    std::memcpy(both.data(), &value.first, sizeof(A));
    std::memcpy(both.data() + sizeof(A), &value.second, sizeof(B));
    return size_t(bytes(both));
  }

 private:
  std::array<uint8_t, 16> key_;  // crypto_shorthash_KEYBYTES
};

}  // namespace wgp
