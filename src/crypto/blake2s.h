// BLAKE2s and what WireGuard builds on it (PROTOCOL.md §1): HASH, the 16-byte
// keyed MAC (a keyed BLAKE2s with outlen 16, not a truncation), HMAC-BLAKE2s
// and the HKDF-style KDF. Inputs are given as a list of parts so HASH(a ‖ b)
// needs no temporary buffer.
#pragma once

#include <initializer_list>

#include "crypto/secret.h"
#include "util/bytes.h"

namespace wgp {

constexpr size_t kHashSize = 32;
constexpr size_t kMacSize = 16;

using Hash = std::array<uint8_t, kHashSize>;
using Mac = std::array<uint8_t, kMacSize>;

// out = BLAKE2s-256(parts[0] ‖ parts[1] ‖ ...)
void blake2s(std::span<uint8_t, kHashSize> out, std::initializer_list<ByteView> parts);
// out = BLAKE2s(key, outlen = out.size())(msg); key is 0..32 bytes (0 = unkeyed),
// out 1..32 bytes.
void blake2s_keyed(MutableByteView out, ByteView key, std::initializer_list<ByteView> parts);
// MAC(key, msg): keyed BLAKE2s with a 16-byte digest.
Mac mac16(ByteView key, std::initializer_list<ByteView> parts);
// HMAC-BLAKE2s-256 (RFC 2104, 64-byte block).
void hmac_blake2s(std::span<uint8_t, kHashSize> out, ByteView key,
                  std::initializer_list<ByteView> parts);

// KDF_n(key, input) of PROTOCOL.md §1; outputs may alias `key`.
void kdf1(Secret<32>& t1, ByteView key, ByteView input);
void kdf2(Secret<32>& t1, Secret<32>& t2, ByteView key, ByteView input);
void kdf3(Secret<32>& t1, Secret<32>& t2, Secret<32>& t3, ByteView key, ByteView input);

}  // namespace wgp
