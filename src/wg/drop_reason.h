// Why the data path dropped a packet. Returned, never thrown; the same enum
// keys the counters that `wgpunch status` shows.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace wgp {

enum class DropReason : uint8_t {
  kMalformed,          // not a WireGuard message of a valid type and size
  kBadMac1,            // mac1 did not verify
  kCookieSent,         // under load without a valid mac2: answered with a cookie
  kRateLimited,        // under load, over the per-source handshake budget
  kHandshakeFailed,    // decryption, DH or state check failed
  kUnknownPeer,        // an initiation from a key we do not know
  kReplayedHandshake,  // timestamp not newer, or an initiation flood
  kUnknownIndex,       // receiver index matches nothing
  kBadCookie,          // cookie reply that did not authenticate
  kExpiredKeypair,     // data for a keypair past its reject limits
  kDecryptFailed,      // transport data failed authentication
  kReplayedData,       // counter seen before or left of the window
  kBadInnerPacket,     // decrypted payload is not a well-formed IP packet
  kSourceNotAllowed,   // inner source address not in the peer's allowed IPs
  kNoRoute,            // outbound packet to an address no peer allows
  kNoEndpoint,         // peer has no endpoint to send to
  kStagedOverflow,     // too many packets waiting for a handshake
  kSealFailed,         // encryption failed (misuse only): the datagram was not sent
  kCrossedHandshake,   // a response to our initiation that the peer's crossing one superseded
  kRelayRefused,       // relay traffic from a peer not entitled to that route (wg/relay.h)
  kRelayRateLimited,   // a relayed initiation over its sender's or pair's budget
  kCount,
};

constexpr std::string_view drop_reason_name(DropReason r) {
  constexpr std::array<std::string_view, size_t(DropReason::kCount)> names = {
      "malformed",          "bad_mac1",           "cookie_sent",        "rate_limited",
      "handshake_failed",   "unknown_peer",       "replayed_handshake", "unknown_index",
      "bad_cookie",         "expired_keypair",    "decrypt_failed",     "replayed_data",
      "bad_inner_packet",   "source_not_allowed", "no_route",           "no_endpoint",
      "staged_overflow",    "seal_failed",        "crossed_handshake",  "relay_refused",
      "relay_rate_limited",
  };
  return names[size_t(r)];
}

using DropCounters = std::array<uint64_t, size_t(DropReason::kCount)>;

}  // namespace wgp
