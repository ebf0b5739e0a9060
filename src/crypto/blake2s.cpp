#include "crypto/blake2s.h"

#include <blake2.h>

#include <cassert>
#include <cstdlib>

namespace wgp {
namespace {

constexpr size_t kBlockSize = BLAKE2S_BLOCKBYTES;  // 64, HMAC's block size

// A blake2s_state holds the (keyed) chaining value; wipe it after use.
struct StateGuard {
  blake2s_state state;
  ~StateGuard() { sodium_memzero(&state, sizeof state); }
};

void update_all(blake2s_state& s, std::initializer_list<ByteView> parts) {
  for (ByteView p : parts) blake2s_update(&s, p.data(), p.size());
}

}  // namespace

void blake2s(std::span<uint8_t, kHashSize> out, std::initializer_list<ByteView> parts) {
  StateGuard g;
  if (blake2s_init(&g.state, kHashSize) != 0) std::abort();
  update_all(g.state, parts);
  blake2s_final(&g.state, out.data(), out.size());
}

void blake2s_keyed(MutableByteView out, ByteView key, std::initializer_list<ByteView> parts) {
  assert(key.size() <= BLAKE2S_KEYBYTES);
  assert(!out.empty() && out.size() <= BLAKE2S_OUTBYTES);
  StateGuard g;
  // The digest length is part of the parameter block, so a 16-byte keyed hash
  // differs from a truncated 32-byte one (PROTOCOL.md §1, MAC).
  int rc = key.empty() ? blake2s_init(&g.state, out.size())
                       : blake2s_init_key(&g.state, out.size(), key.data(), key.size());
  if (rc != 0) std::abort();
  update_all(g.state, parts);
  blake2s_final(&g.state, out.data(), out.size());
}

Mac mac16(ByteView key, std::initializer_list<ByteView> parts) {
  Mac out;
  blake2s_keyed(out, key, parts);
  return out;
}

void hmac_blake2s(std::span<uint8_t, kHashSize> out, ByteView key,
                  std::initializer_list<ByteView> parts) {
  // RFC 2104: H((K ^ opad) ‖ H((K ^ ipad) ‖ m)), K padded to the block size
  // (hashed first if longer than a block).
  Secret<kBlockSize> pad;
  if (key.size() > kBlockSize) {
    blake2s(pad.span().first<kHashSize>(), {key});
  } else {
    std::copy(key.begin(), key.end(), pad.data());
  }
  for (auto& b : pad.span()) b ^= 0x36;
  Secret<kHashSize> inner;
  {
    StateGuard g;
    blake2s_init(&g.state, kHashSize);
    blake2s_update(&g.state, pad.data(), kBlockSize);
    update_all(g.state, parts);
    blake2s_final(&g.state, inner.data(), kHashSize);
  }
  for (auto& b : pad.span()) b ^= 0x36 ^ 0x5c;
  blake2s(out, {pad.span(), inner.span()});
}

void kdf3(Secret<32>& t1, Secret<32>& t2, Secret<32>& t3, ByteView key, ByteView input) {
  static constexpr uint8_t one = 1, two = 2, three = 3;
  // t0 is the HKDF pseudo-random key; it never leaves this function.
  Secret<32> t0;
  hmac_blake2s(t0.span(), key, {input});
  // `key` may alias an output: it is not read after this point.
  hmac_blake2s(t1.span(), t0.span(), {ByteView(&one, 1)});
  hmac_blake2s(t2.span(), t0.span(), {t1.span(), ByteView(&two, 1)});
  hmac_blake2s(t3.span(), t0.span(), {t2.span(), ByteView(&three, 1)});
}

void kdf2(Secret<32>& t1, Secret<32>& t2, ByteView key, ByteView input) {
  static constexpr uint8_t one = 1, two = 2;
  Secret<32> t0;
  hmac_blake2s(t0.span(), key, {input});
  hmac_blake2s(t1.span(), t0.span(), {ByteView(&one, 1)});
  hmac_blake2s(t2.span(), t0.span(), {t1.span(), ByteView(&two, 1)});
}

void kdf1(Secret<32>& t1, ByteView key, ByteView input) {
  static constexpr uint8_t one = 1;
  Secret<32> t0;
  hmac_blake2s(t0.span(), key, {input});
  hmac_blake2s(t1.span(), t0.span(), {ByteView(&one, 1)});
}

}  // namespace wgp
