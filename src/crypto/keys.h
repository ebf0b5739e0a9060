// Key types and their text forms. Public keys are plain bytes; private and
// preshared keys are Secrets. Base64 is wg's 44-character form, hex is UAPI's.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "crypto/secret.h"
#include "util/bytes.h"

namespace wgp {

constexpr size_t kKeySize = 32;
using PublicKey = std::array<uint8_t, kKeySize>;
using PrivateKey = Secret<kKeySize>;
using PresharedKey = Secret<kKeySize>;

std::string key_to_base64(std::span<const uint8_t, kKeySize> key);
// Accepts exactly wg's form: 44 characters, one '=' of padding. nullopt otherwise.
std::optional<PublicKey> public_key_from_base64(std::string_view text);
std::optional<Secret<kKeySize>> secret_key_from_base64(std::string_view text);
std::optional<Secret<kKeySize>> secret_key_from_hex(std::string_view text);

}  // namespace wgp
