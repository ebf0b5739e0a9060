#include "crypto/keyed_hash.h"

#include <sodium.h>

#include <cstring>

#include "crypto/random.h"

namespace wgp {

static_assert(crypto_shorthash_KEYBYTES == 16 && crypto_shorthash_BYTES == 8);

KeyedHash::KeyedHash() {
  ensure_sodium_initialized();
  randombytes_buf(key_.data(), key_.size());
}

uint64_t KeyedHash::bytes(std::span<const uint8_t> data) const {
  uint8_t out[crypto_shorthash_BYTES];
  crypto_shorthash(out, data.data(), data.size(), key_.data());
  uint64_t h;
  std::memcpy(&h, out, sizeof h);
  return h;
}

}  // namespace wgp
