#include "crypto/aead.h"

#include <openssl/mem.h>

#include <cstdlib>

namespace wgp {
namespace {

// WireGuard's 96-bit nonce: 32 zero bits, then the counter little-endian.
std::array<uint8_t, kAeadNonceSize> counter_nonce(uint64_t counter) {
  std::array<uint8_t, kAeadNonceSize> nonce{};
  store_le64(nonce.data() + 4, counter);
  return nonce;
}

// A stack EVP_AEAD_CTX for one-shot use, wiped when it goes out of scope
// (EVP_AEAD_CTX_cleanup frees but does not clear the inline key schedule).
class ScopedCtx {
 public:
  ScopedCtx(const EVP_AEAD* aead, ByteView key) {
    ok_ = key.size() == 32 &&
          EVP_AEAD_CTX_init(&ctx_, aead, key.data(), key.size(), kAeadTagSize, nullptr) == 1;
  }
  ~ScopedCtx() {
    if (ok_) EVP_AEAD_CTX_cleanup(&ctx_);
    OPENSSL_cleanse(&ctx_, sizeof ctx_);
  }
  bool ok() const { return ok_; }
  const EVP_AEAD_CTX* get() const { return &ctx_; }

 private:
  EVP_AEAD_CTX ctx_;
  bool ok_ = false;
};

bool seal_with(const EVP_AEAD_CTX* ctx, ByteView nonce, ByteView plaintext, ByteView ad,
               MutableByteView out) {
  if (out.size() != plaintext.size() + kAeadTagSize) return false;
  size_t written = 0;
  return EVP_AEAD_CTX_seal(ctx, out.data(), &written, out.size(), nonce.data(), nonce.size(),
                           plaintext.data(), plaintext.size(), ad.data(), ad.size()) == 1 &&
         written == out.size();
}

bool open_with(const EVP_AEAD_CTX* ctx, ByteView nonce, ByteView ciphertext, ByteView ad,
               MutableByteView out) {
  if (ciphertext.size() < kAeadTagSize || out.size() != ciphertext.size() - kAeadTagSize)
    return false;
  size_t written = 0;
  return EVP_AEAD_CTX_open(ctx, out.data(), &written, out.size(), nonce.data(), nonce.size(),
                           ciphertext.data(), ciphertext.size(), ad.data(), ad.size()) == 1 &&
         written == out.size();
}

}  // namespace

bool AeadKey::seal(uint64_t counter, ByteView plaintext, ByteView ad, MutableByteView out) const {
  return aead_seal(key_, counter, plaintext, ad, out);
}

bool AeadKey::seal_padded(uint64_t counter, ByteView plaintext, size_t padding,
                          MutableByteView out) const {
  static constexpr uint8_t kZeros[16] = {};
  if (padding > sizeof(kZeros) || out.size() != plaintext.size() + padding + kAeadTagSize)
    return false;
  ScopedCtx ctx(EVP_aead_chacha20_poly1305(), key_.span());
  if (!ctx.ok()) return false;
  auto nonce = counter_nonce(counter);
  // The padding goes in as BoringSSL's "extra input": encrypted and written
  // right after the ciphertext, ahead of the tag, which is where it belongs.
  uint8_t* tail = out.data() + plaintext.size();
  size_t tail_len = 0;
  return EVP_AEAD_CTX_seal_scatter(ctx.get(), out.data(), tail, &tail_len, padding + kAeadTagSize,
                                   nonce.data(), nonce.size(), plaintext.data(), plaintext.size(),
                                   kZeros, padding, nullptr, 0) == 1 &&
         tail_len == padding + kAeadTagSize;
}

bool AeadKey::open(uint64_t counter, ByteView ciphertext, ByteView ad, MutableByteView out) const {
  return aead_open(key_, counter, ciphertext, ad, out);
}

bool aead_seal(const Secret<32>& key, uint64_t counter, ByteView plaintext, ByteView ad,
               MutableByteView out) {
  ScopedCtx ctx(EVP_aead_chacha20_poly1305(), key.span());
  auto nonce = counter_nonce(counter);
  return ctx.ok() && seal_with(ctx.get(), nonce, plaintext, ad, out);
}

bool aead_open(const Secret<32>& key, uint64_t counter, ByteView ciphertext, ByteView ad,
               MutableByteView out) {
  ScopedCtx ctx(EVP_aead_chacha20_poly1305(), key.span());
  auto nonce = counter_nonce(counter);
  return ctx.ok() && open_with(ctx.get(), nonce, ciphertext, ad, out);
}

bool aead_seal_nonce(ByteView key32, std::span<const uint8_t, kAeadNonceSize> nonce,
                     ByteView plaintext, ByteView ad, MutableByteView out) {
  ScopedCtx ctx(EVP_aead_chacha20_poly1305(), key32);
  return ctx.ok() && seal_with(ctx.get(), nonce, plaintext, ad, out);
}

bool aead_open_nonce(ByteView key32, std::span<const uint8_t, kAeadNonceSize> nonce,
                     ByteView ciphertext, ByteView ad, MutableByteView out) {
  ScopedCtx ctx(EVP_aead_chacha20_poly1305(), key32);
  return ctx.ok() && open_with(ctx.get(), nonce, ciphertext, ad, out);
}

bool xaead_seal(ByteView key32, std::span<const uint8_t, kXNonceSize> nonce, ByteView plaintext,
                ByteView ad, MutableByteView out) {
  ScopedCtx ctx(EVP_aead_xchacha20_poly1305(), key32);
  return ctx.ok() && seal_with(ctx.get(), nonce, plaintext, ad, out);
}

bool xaead_open(ByteView key32, std::span<const uint8_t, kXNonceSize> nonce, ByteView ciphertext,
                ByteView ad, MutableByteView out) {
  ScopedCtx ctx(EVP_aead_xchacha20_poly1305(), key32);
  return ctx.ok() && open_with(ctx.get(), nonce, ciphertext, ad, out);
}

}  // namespace wgp
