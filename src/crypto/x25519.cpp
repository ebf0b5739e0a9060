#include "crypto/x25519.h"

#include <sodium.h>

namespace wgp {

void clamp_private_key(Secret<kKeySize>& key) {
  key.data()[0] &= 248;
  key.data()[31] = (key.data()[31] & 127) | 64;
}

PrivateKey generate_private_key(Random& rng) {
  PrivateKey key;
  rng.fill(key.span());
  clamp_private_key(key);
  return key;
}

PublicKey derive_public_key(const PrivateKey& priv) {
  ensure_sodium_initialized();
  PublicKey pub;
  // libsodium clamps the scalar itself, so an unclamped key gives the same
  // result as its clamped form (RFC 7748 decodeScalar25519).
  crypto_scalarmult_curve25519_base(pub.data(), priv.data());
  return pub;
}

bool x25519(Secret<kKeySize>& shared, const PrivateKey& priv, const PublicKey& pub) {
  ensure_sodium_initialized();
  // libsodium returns -1 when the output is all zero, i.e. `pub` is a point of
  // small order; WireGuard treats that as a failed handshake.
  if (crypto_scalarmult_curve25519(shared.data(), priv.data(), pub.data()) != 0) {
    shared.wipe();
    return false;
  }
  return true;
}

}  // namespace wgp
