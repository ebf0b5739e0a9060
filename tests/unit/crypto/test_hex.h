// Hex literals for known-answer tests. A malformed literal is a bug in the
// test itself, so it fails loudly instead of yielding an empty buffer.
#pragma once

#include <gtest/gtest.h>

#include <stdexcept>
#include <string_view>
#include <vector>

#include "crypto/secret.h"
#include "util/bytes.h"

namespace wgp::testing {

inline std::vector<uint8_t> hex(std::string_view s) {
  auto v = from_hex(s);
  if (!v) throw std::invalid_argument("bad hex literal in test");
  return *v;
}

template <size_t N>
std::array<uint8_t, N> hex_array(std::string_view s) {
  auto a = from_hex_exact<N>(s);
  if (!a) throw std::invalid_argument("bad hex literal length in test");
  return *a;
}

template <size_t N>
Secret<N> hex_secret(std::string_view s) {
  auto a = hex_array<N>(s);
  return Secret<N>(std::span<const uint8_t, N>(a));
}

inline std::string hex_of(ByteView v) { return to_hex(v); }

}  // namespace wgp::testing
