#include "crypto/hmac_sha256.h"

#include <openssl/digest.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <cstdlib>
#include <new>

namespace wgp {

std::optional<HmacKey> HmacKey::from_bytes(ByteView key) {
  if (key.empty()) return std::nullopt;
  HmacKey k;
  if (key.size() > kBlockSize) {
    SHA256(key.data(), key.size(), k.bytes_.data());  // RFC 2104 §2
    k.size_ = SHA256_DIGEST_LENGTH;
  } else {
    std::copy(key.begin(), key.end(), k.bytes_.data());
    k.size_ = key.size();
  }
  return k;
}

HmacKey HmacKey::clone() const {
  HmacKey k;
  k.bytes_ = bytes_.clone();
  k.size_ = size_;
  return k;
}

bool HmacKey::operator==(const HmacKey& other) const {
  return size_ == other.size_ && bytes_ == other.bytes_;
}

HmacSha256::HmacSha256(const HmacKey& key) : ctx_(HMAC_CTX_new()) {
  if (!ctx_) throw std::bad_alloc();
  ByteView k = key.view();
  // Fails only when out of memory, with a valid digest and key.
  if (HMAC_Init_ex(ctx_, k.data(), k.size(), EVP_sha256(), nullptr) != 1) std::abort();
}

HmacSha256::~HmacSha256() { HMAC_CTX_free(ctx_); }

void HmacSha256::update(ByteView part) {
  if (HMAC_Update(ctx_, part.data(), part.size()) != 1) std::abort();
}

HmacSha256Digest HmacSha256::finish() {
  HmacSha256Digest out;
  unsigned size = 0;
  if (HMAC_Final(ctx_, out.data(), &size) != 1 || size != out.size()) std::abort();
  return out;
}

HmacSha256Digest hmac_sha256(const HmacKey& key, ByteView message) {
  HmacSha256 mac(key);
  mac.update(message);
  return mac.finish();
}

}  // namespace wgp
