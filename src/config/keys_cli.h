// `wgpunch genkey | pubkey | genpsk`, as `wg` does them, on streams so main()
// passes std::cin/std::cout and tests pass string streams. Each writes one
// base64 key and a newline.
#pragma once

#include <iosfwd>
#include <stdexcept>

#include "crypto/random.h"

namespace wgp {

// Bad input or a failed write. what() is one line and never holds the input.
class KeyCliError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A fresh private key (32 random bytes, clamped as X25519 wants) in base64.
void genkey(std::ostream& out, Random& rng);
void genkey(std::ostream& out);  // SystemRandom

// Reads one base64 private key from `in` (surrounding whitespace allowed, up
// to 1 KiB of input) and writes its public key. Throws KeyCliError on anything
// else; the input is wiped from memory either way.
void pubkey(std::istream& in, std::ostream& out);

// A fresh preshared key: 32 random bytes in base64, no clamping.
void genpsk(std::ostream& out, Random& rng);
void genpsk(std::ostream& out);  // SystemRandom

}  // namespace wgp
