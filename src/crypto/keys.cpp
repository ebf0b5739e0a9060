#include "crypto/keys.h"

#include <sodium.h>

namespace wgp {
namespace {

constexpr size_t kBase64KeyLength = 44;  // 32 bytes -> 43 characters + one '='
static_assert(sodium_base64_ENCODED_LEN(kKeySize, sodium_base64_VARIANT_ORIGINAL) ==
              kBase64KeyLength + 1);

// Decodes wg's 44-character base64 form straight into `out`, so that a secret
// never passes through an unwiped temporary. libsodium rejects bad characters,
// bad padding and non-zero trailing bits (as wg's own decoder does).
bool decode_base64_key(std::string_view text, uint8_t* out) {
  if (text.size() != kBase64KeyLength) return false;
  size_t decoded = 0;
  const char* end = nullptr;
  int rc = sodium_base642bin(out, kKeySize, text.data(), text.size(), nullptr, &decoded, &end,
                             sodium_base64_VARIANT_ORIGINAL);
  if (rc != 0 || decoded != kKeySize || end != text.data() + text.size()) {
    sodium_memzero(out, kKeySize);
    return false;
  }
  return true;
}

int hex_nibble(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string key_to_base64(std::span<const uint8_t, kKeySize> key) {
  char buf[kBase64KeyLength + 1];
  sodium_bin2base64(buf, sizeof buf, key.data(), key.size(), sodium_base64_VARIANT_ORIGINAL);
  std::string out(buf, kBase64KeyLength);
  sodium_memzero(buf, sizeof buf);  // the caller may be printing a private key for genkey
  return out;
}

std::optional<PublicKey> public_key_from_base64(std::string_view text) {
  PublicKey key;
  if (!decode_base64_key(text, key.data())) return std::nullopt;
  return key;
}

std::optional<Secret<kKeySize>> secret_key_from_base64(std::string_view text) {
  Secret<kKeySize> key;
  if (!decode_base64_key(text, key.data())) return std::nullopt;
  return key;
}

std::optional<Secret<kKeySize>> secret_key_from_hex(std::string_view text) {
  if (text.size() != 2 * kKeySize) return std::nullopt;
  Secret<kKeySize> key;
  for (size_t i = 0; i < kKeySize; ++i) {
    int hi = hex_nibble(text[2 * i]), lo = hex_nibble(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;  // `key` wipes itself
    key.data()[i] = uint8_t(hi << 4 | lo);
  }
  return key;
}

}  // namespace wgp
