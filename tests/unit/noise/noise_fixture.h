// Shared set-up for the noise tests: the fixed keys of the PROTOCOL.md §6.3
// transcript, a pair of peers with random keys, and a Random that yields the
// transcript's cookie secret and nonce.
#pragma once

#include <gtest/gtest.h>

#include "crypto/random.h"
#include "crypto/x25519.h"
#include "noise/cookie.h"
#include "noise/handshake.h"
#include "unit/crypto/test_hex.h"

namespace wgp::noise::testing {

using wgp::testing::hex;
using wgp::testing::hex_array;
using wgp::testing::hex_of;
using wgp::testing::hex_secret;

// One side of a peer relationship: our identity, our view of the other
// side, our handshake record and our mac/cookie state.
struct Side {
  LocalIdentity id;
  PeerKeys peer;
  Handshake hs;
  CookieChecker checker;      // for messages sent to us
  CookieGenerator generator;  // for messages we send to the peer

  Side(const PrivateKey& priv, const PublicKey& peer_public)
      : id(LocalIdentity::from_private_key(priv)), peer(peer_public, id) {
    checker.set_keys(id.mac1_key, id.cookie_key);
    generator.set_keys(peer.mac1_key, peer.cookie_key);
  }
};

// Two sides that know each other, built from two private keys.
struct Pair {
  Side initiator;
  Side responder;
  Pair(const PrivateKey& i, const PrivateKey& r)
      : initiator(i, derive_public_key(r)), responder(r, derive_public_key(i)) {}
  void set_psk(const PresharedKey& initiator_psk, const PresharedKey& responder_psk) {
    initiator.peer.preshared_key = initiator_psk.clone();
    responder.peer.preshared_key = responder_psk.clone();
  }
};

// PROTOCOL.md §6.3 inputs.
inline PrivateKey transcript_initiator_static() {
  return hex_secret<32>("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
}
inline PrivateKey transcript_responder_static() {
  return hex_secret<32>("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
}
inline PrivateKey filled_key(uint8_t b) {
  PrivateKey k;
  std::fill(k.span().begin(), k.span().end(), b);
  return k;
}
constexpr uint32_t kTranscriptInitiatorIndex = 0x11223344;
constexpr uint32_t kTranscriptResponderIndex = 0x55667788;

inline WallTime wall(int64_t sec, int64_t nsec = 0) {
  using namespace std::chrono;
  return WallTime(duration_cast<WallTime::duration>(seconds(sec) + nanoseconds(nsec)));
}
inline Instant boot(std::chrono::nanoseconds since) { return Instant(since); }

// Yields 32 × 0x44 for a 32-byte request (the cookie secret) and 00 01 … for
// any other (the 24-byte nonce), whatever the order of the requests.
class TranscriptRandom final : public Random {
 public:
  void fill(std::span<uint8_t> out) override {
    ++calls;
    for (size_t i = 0; i < out.size(); ++i) out[i] = out.size() == 32 ? 0x44 : uint8_t(i);
  }
  int calls = 0;
};

}  // namespace wgp::noise::testing
