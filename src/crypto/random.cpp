#include "crypto/random.h"

#include <sodium.h>

#include <cstdlib>

namespace wgp {

void ensure_sodium_initialized() {
  // A function-local static runs sodium_init() once even with several threads.
  static const bool ready = [] { return sodium_init() >= 0; }();
  if (!ready) std::abort();
}

void SystemRandom::fill(std::span<uint8_t> out) {
  ensure_sodium_initialized();
  randombytes_buf(out.data(), out.size());
}

}  // namespace wgp
