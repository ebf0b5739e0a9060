// Secret<N>: N bytes of key material that are wiped when they die, cannot be
// copied by accident, and compare in constant time. Every private key, chaining
// key, handshake hash and DH result lives in one of these.
#pragma once

#include <sodium.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace wgp {

template <size_t N>
class Secret {
 public:
  static constexpr size_t size() { return N; }

  Secret() { bytes_.fill(0); }
  explicit Secret(std::span<const uint8_t, N> from) {
    std::copy(from.begin(), from.end(), bytes_.begin());
  }
  ~Secret() { wipe(); }

  // Move leaves the source wiped; copying must be spelled out with clone().
  Secret(Secret&& other) noexcept : bytes_(other.bytes_) { other.wipe(); }
  Secret& operator=(Secret&& other) noexcept {
    if (this != &other) {
      bytes_ = other.bytes_;
      other.wipe();
    }
    return *this;
  }
  Secret(const Secret&) = delete;
  Secret& operator=(const Secret&) = delete;
  Secret clone() const { return Secret(std::span<const uint8_t, N>(bytes_)); }

  uint8_t* data() { return bytes_.data(); }
  const uint8_t* data() const { return bytes_.data(); }
  std::span<uint8_t, N> span() { return bytes_; }
  std::span<const uint8_t, N> span() const { return bytes_; }

  void wipe() { sodium_memzero(bytes_.data(), N); }
  bool is_zero() const { return sodium_is_zero(bytes_.data(), N) == 1; }
  bool operator==(const Secret& o) const { return sodium_memcmp(data(), o.data(), N) == 0; }

 private:
  std::array<uint8_t, N> bytes_;
};

}  // namespace wgp
