// Randomness is injected into the protocol core so tests can replay a
// handshake byte for byte. SystemRandom is the only production source.
#pragma once

#include <cstdint>
#include <span>

namespace wgp {

class Random {
 public:
  virtual ~Random() = default;
  virtual void fill(std::span<uint8_t> out) = 0;
  uint32_t u32() {
    uint32_t v;
    fill(std::span<uint8_t>(reinterpret_cast<uint8_t*>(&v), sizeof v));
    return v;
  }
};

class SystemRandom final : public Random {
 public:
  void fill(std::span<uint8_t> out) override;
};

// Initialises libsodium exactly once (thread-safe). Every entry point of the
// crypto module that uses libsodium's randomness or X25519 calls it first;
// aborts if libsodium cannot start, since nothing secure can run then.
void ensure_sodium_initialized();

}  // namespace wgp
