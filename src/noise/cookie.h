// mac1/mac2 and cookie replies (PROTOCOL.md §3.4–3.5): the DoS shield in front
// of the handshake. CookieChecker is the device's (messages sent to us);
// CookieGenerator is per peer (messages we send to it). Pure code: `now` and
// randomness are passed in.
#pragma once

#include <optional>

#include "crypto/blake2s.h"
#include "crypto/random.h"
#include "noise/wire.h"
#include "util/time.h"

namespace wgp::noise {

// True when the whole type-1 or type-2 message `msg` carries a valid mac1
// for the key `mac1_key` (HASH("mac1----" ‖ the responder's public key)):
// whom a handshake message is for, which a relay reads without any secret.
[[nodiscard]] bool mac1_matches(const Hash& mac1_key, ByteView msg);

class CookieChecker {
 public:
  // From LocalIdentity::mac1_key / cookie_key; call again when the key changes.
  void set_keys(const Hash& mac1_key, const Hash& cookie_key);

  // `msg` is a whole type-1 or type-2 message.
  [[nodiscard]] bool check_mac1(ByteView msg) const;
  // mac2 against the cookie for `source` (Endpoint::cookie_input bytes).
  // Rotates the secret when older than 120 s.
  [[nodiscard]] bool check_mac2(ByteView msg, ByteView source, Instant now, Random& rng);
  // Writes a 64-byte cookie reply answering `msg` (whose sender index is
  // `receiver_index`) from `source`.
  void make_reply(ByteView msg, uint32_t receiver_index, ByteView source, Instant now,
                  Random& rng, std::span<uint8_t, kCookieReplySize> out);

 private:
  Mac cookie_for(ByteView source, Instant now, Random& rng);
  Hash mac1_key_{};
  Hash cookie_key_{};
  Secret<32> secret_;
  std::optional<Instant> secret_birth_;
};

class CookieGenerator {
 public:
  // From PeerKeys::mac1_key / cookie_key.
  void set_keys(const Hash& mac1_key, const Hash& cookie_key);

  // Fills mac1 and mac2 of a whole type-1/2 message we are about to send;
  // mac2 is zero unless a cookie younger than 115 s is held.
  void add_macs(MutableByteView msg, Instant now);
  // Opens a cookie reply addressed to our last mac1; false when it does not
  // authenticate or no mac1 is outstanding.
  [[nodiscard]] bool consume_reply(std::span<const uint8_t, kCookieReplySize> msg, Instant now);

 private:
  Hash mac1_key_{};
  Hash cookie_key_{};
  Mac last_mac1_{};
  bool mac1_outstanding_ = false;
  Mac cookie_{};
  std::optional<Instant> cookie_birth_;
};

}  // namespace wgp::noise
