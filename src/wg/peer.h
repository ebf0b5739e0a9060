// One remote WireGuard node: its keys, handshake, sessions, timers, endpoint,
// and packets waiting for a session. Peers are owned by the Device and never
// move in memory (the allowed-IPs table and index table point at them).
#pragma once

#include <deque>
#include <optional>
#include <vector>

#include "net/ip.h"
#include "net/local_addresses.h"
#include "noise/cookie.h"
#include "noise/handshake.h"
#include "wg/keypair.h"
#include "wg/timers.h"

namespace wgp {

// Where a peer's endpoint came from, for `status`.
enum class EndpointSource : uint8_t { kNone, kConfig, kControl, kRoamed, kDiscovered };

constexpr std::string_view endpoint_source_name(EndpointSource s) {
  switch (s) {
    case EndpointSource::kNone: return "none";
    case EndpointSource::kConfig: return "config";
    case EndpointSource::kControl: return "control";
    case EndpointSource::kRoamed: return "roamed";
    case EndpointSource::kDiscovered: return "discovered";
  }
  return "?";
}

class Peer {
 public:
  Peer(const PublicKey& key, const noise::LocalIdentity& local) : keys(key, local) {
    cookies.set_keys(keys.mac1_key, keys.cookie_key);
  }
  Peer(const Peer&) = delete;
  Peer& operator=(const Peer&) = delete;

  const PublicKey& public_key() const { return keys.public_key; }

  noise::PeerKeys keys;
  noise::Handshake handshake;
  noise::CookieGenerator cookies;
  KeypairSlots keypairs;
  PeerTimers timers;

  std::optional<Endpoint> endpoint;
  EndpointSource endpoint_source = EndpointSource::kNone;
  // An authenticated packet arrived from `endpoint`: it is where the peer
  // really is (what a registry may publish), not just where we aim.
  bool endpoint_confirmed = false;

  // Where discovery says the peer may be, not yet proven (see
  // Device::try_candidate): each direct address gets one initiation, a
  // probe, per discovery round (REKEY_TIMEOUT apart at least); a relay's
  // also gets the retries; the first authenticated packet from one of them
  // makes it the endpoint. At most kMaxCandidates, more than one answer
  // carries (the observed mapping, the peer's own addresses, relays). Only
  // the Device writes this.
  static constexpr size_t kMaxCandidates = 2 * (1 + kMaxOwnCandidates);
  struct Candidate {
    Endpoint address;
    Instant tried;  // the last initiation sent there because of it
    // Set when `address` is a relay's (a registry's endpoint, which forwards
    // to the peer): the key of that registry's peer.
    std::optional<PublicKey> relay;
  };
  std::vector<Candidate> candidates;
  // The addresses discovery last offered for the peer (its public mapping
  // and its own addresses; relays not included), for status.
  std::vector<Endpoint> offered;
  // The peer whose endpoint `endpoint` also is: the relay this peer's
  // datagrams go through (Relay, DESIGN.md §9); nullopt for a direct path.
  // Set by the Device whenever the endpoint changes.
  std::optional<PublicKey> relay_via;
  // When the last authenticated packet arrived (any source).
  std::optional<Instant> last_authenticated_receive;

  // Packets that arrived from the TUN while no session could send them.
  std::deque<std::vector<uint8_t>> staged;

  // The index of our initiation that the peer's own initiation superseded
  // (both sides initiated at once). Kept in the index table so that the
  // peer's response to it is recognised as a crossing, not as garbage; 0:
  // none. See Device::receive_response.
  uint32_t crossed_index = 0;

  std::optional<Instant> last_sent_handshake;
  // Our latest initiation as sent, so that a candidate found while it is in
  // flight gets that one instead of a new handshake restarting it (valid
  // while `handshake` is in kInitiationCreated with its sender index).
  std::array<uint8_t, noise::kInitiationSize> initiation{};
  std::optional<WallTime> last_handshake;  // wall clock of the latest completed handshake
  uint64_t rx_bytes = 0;
  uint64_t tx_bytes = 0;
  // Bytes a relay (wg/relay.h) forwarded on this peer's behalf, as sender.
  uint64_t relayed_bytes = 0;
};

}  // namespace wgp
