// X25519 (RFC 7748). Private keys are clamped on generation and on use.
#pragma once

#include "crypto/keys.h"
#include "crypto/random.h"

namespace wgp {

// Clamps in place: k[0] &= 248; k[31] = (k[31] & 127) | 64.
void clamp_private_key(Secret<kKeySize>& key);
// A fresh clamped private key from `rng`.
PrivateKey generate_private_key(Random& rng);
PublicKey derive_public_key(const PrivateKey& priv);
// shared = X25519(priv, pub). False when the result is all zero (a low-order
// point): WireGuard must abort the handshake then.
[[nodiscard]] bool x25519(Secret<kKeySize>& shared, const PrivateKey& priv, const PublicKey& pub);

}  // namespace wgp
