// ChaCha20-Poly1305 (RFC 8439) with WireGuard's nonce (4 zero bytes ‖ LE64
// counter), and XChaCha20-Poly1305 for cookie replies. Backed by BoringSSL's
// EVP_AEAD (vectorised assembly). Seal and open may work in place: `out` may
// equal the input span's data; `out` must hold input ± the 16-byte tag.
#pragma once

#include <openssl/aead.h>

#include "crypto/secret.h"
#include "util/bytes.h"

namespace wgp {

constexpr size_t kAeadTagSize = 16;
constexpr size_t kXNonceSize = 24;

// A ChaCha20-Poly1305 key used for many packets (a keypair's send or
// receive direction). It keeps only the 32 key bytes (wiped when destroyed)
// and sets up BoringSSL's context on the stack for each call: ChaCha20 has no
// key schedule, so that costs a 32-byte copy, while a kept EVP_AEAD_CTX is
// 600 bytes — 1.2 KiB per keypair, 12 MiB for a registry of 10,000 peers.
// seal and open may run concurrently on one key (they only read it).
class AeadKey {
 public:
  explicit AeadKey(const Secret<32>& key) : key_(key.clone()) {}
  AeadKey(const AeadKey&) = delete;
  AeadKey& operator=(const AeadKey&) = delete;

  // out.size() must be plaintext.size() + 16. False only on misuse.
  [[nodiscard]] bool seal(uint64_t counter, ByteView plaintext, ByteView ad,
                          MutableByteView out) const;
  // Seals `plaintext` followed by `padding` zero bytes (at most 16) without
  // first copying them together: out.size() must be plaintext.size() +
  // padding + 16, and out must not overlap plaintext. False only on misuse,
  // and then out is all zeros.
  [[nodiscard]] bool seal_padded(uint64_t counter, ByteView plaintext, size_t padding,
                                 MutableByteView out) const;
  // out.size() must be ciphertext.size() - 16. False when authentication fails.
  [[nodiscard]] bool open(uint64_t counter, ByteView ciphertext, ByteView ad,
                          MutableByteView out) const;

 private:
  Secret<32> key_;
};

// One-shot forms for the handshake, where every key is used once (counter 0).
[[nodiscard]] bool aead_seal(const Secret<32>& key, uint64_t counter, ByteView plaintext,
                             ByteView ad, MutableByteView out);
[[nodiscard]] bool aead_open(const Secret<32>& key, uint64_t counter, ByteView ciphertext,
                             ByteView ad, MutableByteView out);
// ChaCha20-Poly1305 with an explicit 96-bit nonce. WireGuard never needs it;
// it exists so the primitive can be checked against RFC 8439 §2.8.2, whose
// nonce has non-zero leading bytes.
constexpr size_t kAeadNonceSize = 12;
[[nodiscard]] bool aead_seal_nonce(ByteView key32, std::span<const uint8_t, kAeadNonceSize> nonce,
                                   ByteView plaintext, ByteView ad, MutableByteView out);
[[nodiscard]] bool aead_open_nonce(ByteView key32, std::span<const uint8_t, kAeadNonceSize> nonce,
                                   ByteView ciphertext, ByteView ad, MutableByteView out);
[[nodiscard]] bool xaead_seal(ByteView key32, std::span<const uint8_t, kXNonceSize> nonce,
                              ByteView plaintext, ByteView ad, MutableByteView out);
[[nodiscard]] bool xaead_open(ByteView key32, std::span<const uint8_t, kXNonceSize> nonce,
                              ByteView ciphertext, ByteView ad, MutableByteView out);

}  // namespace wgp
