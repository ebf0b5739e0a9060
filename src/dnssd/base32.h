// RFC 4648 base32 and the DNS-SD instance labels built from it (DESIGN.md §4):
// a peer's 32-byte public key as 56 upper-case characters with '=' padding,
// exactly what `base64 -d | base32` prints, so `base32 -d | base64` gives the
// key back. Used by the registry's zone view and by the discovery client.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/keys.h"
#include "util/bytes.h"

namespace wgp::dnssd {

// Length of a key's label: ceil(32 / 5) = 7 groups of 8 characters.
constexpr size_t kPeerLabelSize = 56;

// RFC 4648 §6: upper-case alphabet A–Z2–7, padded with '=' to a multiple of 8.
std::string base32_encode(ByteView data);

// Inverse of base32_encode, case-insensitive. The padding must be canonical
// (length a multiple of 8, only the counts of '=' RFC 4648 allows, unused
// trailing bits zero), so every byte string has exactly one accepted
// spelling apart from letter case. nullopt on anything else.
std::optional<std::vector<uint8_t>> base32_decode(std::string_view text);

// The DNS label naming `key`: base32_encode(key), 56 characters.
std::string peer_label(const PublicKey& key);

// The key a label names (either letter case); nullopt unless it is a
// canonical 56-character encoding of 32 bytes.
std::optional<PublicKey> key_from_label(std::string_view label);

}  // namespace wgp::dnssd
