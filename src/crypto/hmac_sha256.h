// HMAC-SHA256 (RFC 2104, FIPS 180-4) over BoringSSL, for TSIG (RFC 8945):
// the zone-transfer key of [Registry] TransferKey. The key is a secret that
// wipes itself; the MAC is computed incrementally, since a TSIG digest is
// the request MAC, the message and the TSIG variables one after another.
//
// BoringSSL, not ldns: Debian's ldns links OpenSSL's libcrypto.so.3 and this
// binary must use BoringSSL's only (CMakeLists.txt), so no ldns HMAC.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "crypto/secret.h"
#include "util/bytes.h"

struct hmac_ctx_st;

namespace wgp {

constexpr size_t kHmacSha256Size = 32;
using HmacSha256Digest = std::array<uint8_t, kHmacSha256Size>;

// An HMAC-SHA256 key. RFC 2104 §2: a key longer than the hash's 64-byte
// block is first hashed to 32 bytes, so storing it hashed gives the same
// MACs and bounds the storage: at most 64 bytes, wiped when freed.
class HmacKey {
 public:
  static constexpr size_t kBlockSize = 64;

  // nullopt for an empty key (a MAC without a secret authenticates nothing).
  static std::optional<HmacKey> from_bytes(ByteView key);

  ByteView view() const { return ByteView(bytes_.data(), size_); }
  HmacKey clone() const;
  // Constant time in the bytes (not in the length, which is not secret).
  bool operator==(const HmacKey& other) const;

 private:
  HmacKey() = default;
  Secret<kBlockSize> bytes_;
  size_t size_ = 0;
};

// One MAC computation. The context holds key material: BoringSSL wipes it
// when it is freed (HMAC_CTX_free cleanses, OPENSSL_free zeroes).
class HmacSha256 {
 public:
  explicit HmacSha256(const HmacKey& key);
  ~HmacSha256();
  HmacSha256(const HmacSha256&) = delete;
  HmacSha256& operator=(const HmacSha256&) = delete;

  void update(ByteView part);
  // The MAC of everything given to update(); call once.
  HmacSha256Digest finish();

 private:
  // BoringSSL's HMAC_CTX, opaque here so that no OpenSSL header meets
  // ldns's in one translation unit.
  hmac_ctx_st* ctx_;
};

// The MAC of `message` under `key` in one call.
HmacSha256Digest hmac_sha256(const HmacKey& key, ByteView message);

}  // namespace wgp
