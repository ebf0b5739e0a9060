// The registry's relay ([Registry] Relay = yes, DESIGN.md §9): it forwards
// WireGuard datagrams between two of its peers that cannot reach each other
// directly (a symmetric NAT), unchanged — no framing, not one byte added, so
// a packet of the full interface MTU crosses it without IP fragmentation —
// and it cannot read them: they are sealed with the two peers' own session
// keys, which it never holds.
//
// How a datagram finds its way without a header of its own: a peer aims at
// the registry's endpoint as if it were the other peer's. A handshake
// initiation names its responder only through mac1, keyed with the
// responder's public key; the relay tries the keys of the peers the sender
// may reach (those it looked up at the registry, in the tunnel) and forwards
// to the one that matches, noting that the initiation's sender index leads
// back to the sender. Every later message (response, cookie reply, data)
// names its receiver by an index: one the relay saw in a message it
// forwarded. The response teaches the index that leads to the responder.
//
// Trust: only between two peers that both hold a session with the registry
// and are permitted to each other, only from the endpoint an authenticated
// packet of the sender came from, and only to the endpoint one of the
// receiver's came from (Peer::endpoint_confirmed). A forged datagram can at
// most be forwarded once to a peer, whose own WireGuard drops it.
//
// Pure: the Device calls it from its receive path and sends what it returns.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <unordered_map>
#include <utility>

#include "crypto/keys.h"
#include "net/ip.h"
#include "util/bytes.h"
#include "util/time.h"

namespace wgp {

class Peer;

class Relay {
 public:
  // How long a permit lasts after the last reason for it (a lookup), and an
  // index route after the last datagram it carried (a session's keys live
  // 3 minutes; a rekey brings new indices, taught by its handshake).
  static constexpr auto kPermitLifetime = std::chrono::minutes(10);
  static constexpr auto kRouteLifetime = std::chrono::minutes(3);
  // Routes kept at most (each a few dozen bytes); the oldest go first.
  static constexpr size_t kMaxRoutes = 65536;

  // `a` and `b` may reach each other through us, both ways, for a while.
  void permit(const PublicKey& a, const PublicKey& b, Instant now);
  bool permitted(const PublicKey& a, const PublicKey& b, Instant now) const;
  // The peers `from` may reach (permits not expired).
  template <typename Fn>
  void for_each_partner(const PublicKey& from, Instant now, Fn&& fn) const {
    auto it = permits_.lower_bound({from, PublicKey{}});
    for (; it != permits_.end() && it->first.first == from; ++it)
      if (now - it->second < kPermitLifetime) fn(it->first.second);
  }

  // Index routes: a message whose receiver is `index` goes to `to` and may
  // only come from `from`.
  struct Route {
    PublicKey to;
    PublicKey from;
    Instant last;
  };
  void learn(uint32_t index, const PublicKey& to, const PublicKey& from, Instant now);
  // The route for `index`, refreshed, if any and not expired.
  const Route* route(uint32_t index, Instant now);

  // Bytes forwarded on behalf of each peer (as sender).
  void count(const PublicKey& sender, size_t bytes) { relayed_[sender] += bytes; }
  uint64_t relayed_by(const PublicKey& peer) const {
    auto it = relayed_.find(peer);
    return it == relayed_.end() ? 0 : it->second;
  }
  // Forgets everything about `peer` (removed).
  void forget(const PublicKey& peer);

 private:
  struct IndexHash {
    size_t operator()(uint32_t i) const { return i; }  // indices are random
  };
  std::map<std::pair<PublicKey, PublicKey>, Instant> permits_;
  std::unordered_map<uint32_t, Route, IndexHash> routes_;
  std::map<PublicKey, uint64_t> relayed_;
};

}  // namespace wgp
