// mac1/mac2 and cookie replies (PROTOCOL.md §3.4–3.5), following the kernel:
// cookie input = raw address ‖ BE16 port, the responder's secret lives 120 s,
// a sender trusts its cookie for 115 s, and consuming a cookie clears the
// "mac1 outstanding" flag so one reply cannot be consumed twice.
#include "noise/cookie.h"

#include <sodium.h>

#include <algorithm>
#include <cassert>

#include "crypto/aead.h"

namespace wgp::noise {
namespace {

struct MacOffsets {
  size_t mac1;
  size_t mac2;
};

// mac1/mac2 positions of a whole type-1 or type-2 message; nullopt for any
// other length (then nothing here touches the bytes).
std::optional<MacOffsets> mac_offsets(size_t size) {
  if (size == kInitiationSize) return MacOffsets{kInitiationMac1Offset, kInitiationMac2Offset};
  if (size == kResponseSize) return MacOffsets{kResponseMac1Offset, kResponseMac2Offset};
  return std::nullopt;
}

// Constant time: the macs guard against forgery by probing.
bool mac_equal(const Mac& expected, const uint8_t* received) {
  return sodium_memcmp(expected.data(), received, kMacSize) == 0;
}

}  // namespace

// ---------------------------------------------------------------- checker ---

void CookieChecker::set_keys(const Hash& mac1_key, const Hash& cookie_key) {
  mac1_key_ = mac1_key;
  cookie_key_ = cookie_key;
}

bool mac1_matches(const Hash& mac1_key, ByteView msg) {
  auto off = mac_offsets(msg.size());
  if (!off) return false;
  Mac expected = mac16(mac1_key, {msg.first(off->mac1)});
  return mac_equal(expected, msg.data() + off->mac1);
}

bool CookieChecker::check_mac1(ByteView msg) const { return mac1_matches(mac1_key_, msg); }

bool CookieChecker::check_mac2(ByteView msg, ByteView source, Instant now, Random& rng) {
  auto off = mac_offsets(msg.size());
  if (!off) return false;
  Mac cookie = cookie_for(source, now, rng);
  Mac expected = mac16(cookie, {msg.first(off->mac2)});
  sodium_memzero(cookie.data(), cookie.size());
  return mac_equal(expected, msg.data() + off->mac2);
}

void CookieChecker::make_reply(ByteView msg, uint32_t receiver_index, ByteView source, Instant now,
                               Random& rng, std::span<uint8_t, kCookieReplySize> out) {
  std::fill(out.begin(), out.end(), 0);
  auto off = mac_offsets(msg.size());
  assert(off && "make_reply answers only whole type-1/2 messages");
  if (!off) return;
  store_le32(out.data(), uint32_t(MessageType::kCookieReply));
  store_le32(out.data() + kCookieReplyReceiverOffset, receiver_index);
  auto nonce = out.subspan<kCookieReplyNonceOffset, kXNonceSize>();
  rng.fill(nonce);
  Mac cookie = cookie_for(source, now, rng);
  // The AAD binds the reply to the mac1 the sender used, so only it can open it.
  bool sealed = xaead_seal(cookie_key_, nonce, cookie, msg.subspan(off->mac1, kMacSize),
                           out.subspan(kCookieReplyCookieOffset, kMacSize + kAeadTagSize));
  assert(sealed);
  (void)sealed;
  sodium_memzero(cookie.data(), cookie.size());
}

Mac CookieChecker::cookie_for(ByteView source, Instant now, Random& rng) {
  // Rotate lazily: a secret older than 120 s is replaced before use, so a
  // mac2 made with a cookie from the old secret no longer verifies.
  if (!secret_birth_ || now - *secret_birth_ >= kCookieSecretMaxAge) {
    rng.fill(secret_.span());
    secret_birth_ = now;
  }
  return mac16(secret_.span(), {source});
}

// -------------------------------------------------------------- generator ---

void CookieGenerator::set_keys(const Hash& mac1_key, const Hash& cookie_key) {
  mac1_key_ = mac1_key;
  cookie_key_ = cookie_key;
}

void CookieGenerator::add_macs(MutableByteView msg, Instant now) {
  auto off = mac_offsets(msg.size());
  assert(off && "add_macs takes whole type-1/2 messages");
  if (!off) return;
  last_mac1_ = mac16(mac1_key_, {msg.first(off->mac1)});
  std::copy(last_mac1_.begin(), last_mac1_.end(), msg.begin() + off->mac1);
  mac1_outstanding_ = true;

  // Trust the cookie 5 s less than the responder keeps its secret (kernel
  // COOKIE_SECRET_MAX_AGE - COOKIE_SECRET_LATENCY), so mac2 is not made with
  // a cookie the responder is about to forget.
  MutableByteView mac2 = msg.subspan(off->mac2, kMacSize);
  if (cookie_birth_ && now - *cookie_birth_ < kCookieSecretMaxAge - kCookieSecretLatency) {
    Mac m = mac16(cookie_, {msg.first(off->mac2)});
    std::copy(m.begin(), m.end(), mac2.begin());
  } else {
    std::fill(mac2.begin(), mac2.end(), 0);
  }
}

bool CookieGenerator::consume_reply(std::span<const uint8_t, kCookieReplySize> msg, Instant now) {
  if (!mac1_outstanding_) return false;
  if (load_le32(msg.data()) != uint32_t(MessageType::kCookieReply)) return false;
  Mac cookie;
  if (!xaead_open(cookie_key_, msg.subspan<kCookieReplyNonceOffset, kXNonceSize>(),
                  msg.subspan(kCookieReplyCookieOffset, kMacSize + kAeadTagSize), last_mac1_,
                  cookie))
    return false;
  cookie_ = cookie;
  sodium_memzero(cookie.data(), cookie.size());
  cookie_birth_ = now;
  mac1_outstanding_ = false;  // kernel: a second reply to the same mac1 is ignored
  return true;
}

}  // namespace wgp::noise
