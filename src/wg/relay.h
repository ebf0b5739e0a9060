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
// looked up most recently (at most kPartnersTried MACs, whatever the sender
// did) and forwards to the one that matches, noting that the initiation's
// sender index leads back to the sender. Every later message (response,
// cookie reply, data) names its receiver by an index: one the relay saw in
// a message it forwarded. The response teaches the index that leads to the
// responder.
//
// Trust: only between two peers that both hold a session with the registry
// for every datagram, and that looked each other up for an initiation; only
// from the endpoint an authenticated packet of the sender came from, and
// only to the endpoint one of the receiver's came from
// (Peer::endpoint_confirmed). An index belongs to the pair whose message
// taught it until its route expires: nobody else can take it over, and
// nothing renews it (a route lives as long as the session it carries can,
// from the message that made it), so a replayed message keeps nothing
// alive. Relayed initiations pass the device's load gate, and each sender
// and each pair has a budget of a few a second, so one peer can neither
// spend the registry's CPU nor drain the per-source handshake budget that
// the receiver keeps for the registry's address (which every relayed
// initiation comes from). A forged datagram can at most be forwarded once
// to a peer, whose own WireGuard drops it.
//
// Every table here is bounded, keyed by a secret hash and O(1) per event
// (util/lru_table.h): routes by the indices peers choose, partners per peer.
//
// Pure: the Device calls it from its receive path and sends what it returns.
#pragma once

#include <array>
#include <cstdint>

#include "crypto/keyed_hash.h"
#include "crypto/keys.h"
#include "noise/wire.h"
#include "util/lru_table.h"
#include "util/time.h"
#include "util/token_bucket.h"

namespace wgp {

class Relay {
 public:
  // How long a lookup entitles a pair to initiate through us.
  static constexpr Duration kPermitLifetime = std::chrono::minutes(10);
  // A route's fixed life: the keys of the session whose index it carries
  // receive for REJECT_AFTER_TIME after the handshake, which completes
  // within REKEY_TIMEOUT of the initiation (or is tried anew, with a new
  // index); a margin on top.
  static constexpr Duration kRouteLifetime = noise::kRejectAfterTime + 2 * noise::kRekeyTimeout;
  // Routes kept at most (each a few dozen bytes); when full, the oldest go.
  static constexpr size_t kMaxRoutes = 65536;
  // The partners an initiation is tried against: the sender's most recent
  // lookups (or lookups of it). At most this many MACs per datagram.
  static constexpr size_t kPartnersTried = 8;
  // Peers with partners or budgets kept (a registry's peers, and then some).
  static constexpr size_t kMaxPeers = 65536;
  // Initiations forwarded per sender, and per pair (sender to receiver): a
  // handshake takes one, a retry one per REKEY_TIMEOUT; a few more for
  // crossed handshakes and a node that starts with many relayed peers.
  static constexpr BucketRate kSenderBudget = BucketRate::per_second(5, 20);
  static constexpr BucketRate kPairBudget = BucketRate::per_second(1, 3);

  // `a` and `b` may initiate to each other through us for a while.
  void permit(const PublicKey& a, const PublicKey& b, Instant now);
  bool permitted(const PublicKey& a, const PublicKey& b, Instant now) const;
  // The peers `from` may initiate to (most recent first, at most
  // kPartnersTried); `fn` returns true to stop.
  template <typename Fn>
  void for_each_partner(const PublicKey& from, Instant now, Fn&& fn) const {
    const PeerState* s = peers_.peek(from, now);
    if (!s) return;
    for (size_t i = 0; i < s->count; ++i)
      if (now - s->partners[i].permitted < kPermitLifetime && fn(s->partners[i].key)) return;
  }
  // One more initiation from `sender` to `target`, within both budgets
  // (takes from them); false when over either, or not permitted.
  bool allow_initiation(const PublicKey& sender, const PublicKey& target, Instant now);

  // Index routes: a message whose receiver is the index goes to `to` and may
  // only come from `from`. kInitiation: taught by a forwarded initiation
  // (the index is the initiator's, `to`); it carries the responder's
  // response (one), cookie replies and data. kResponse: taught by that
  // response (the index is the responder's); cookie replies and data.
  enum class Kind : uint8_t { kInitiation, kResponse };
  struct Route {
    PublicKey to;
    PublicKey from;
    Kind kind;
    bool answered = false;  // kInitiation: a response went through
    uint32_t answer = 0;    // ... and named this index
  };
  // Binds `index` to a route. False when it is bound to another route that
  // is still alive; binding it again to the same route renews nothing.
  bool bind(uint32_t index, const Route& route, Instant now);
  // The live route for `index`, if any (a lookup renews nothing).
  const Route* route(uint32_t index, Instant now) { return routes_.find(index, now); }
  // Whether a message of WireGuard `type` may use `route`.
  static bool carries(const Route& route, uint32_t type);
  // The response through the kInitiation route `index` names `responder_index`:
  // binds that to the way back. False (nothing changed) when the route is
  // not one, was answered with another index, or that index is taken.
  bool answer(uint32_t index, uint32_t responder_index, Instant now);

  // Forgets everything about `peer` (removed). Routes naming it lapse on
  // their own: its messages find no peer to come from or go to.
  void forget(const PublicKey& peer) { peers_.erase(peer); }

  size_t route_count() const { return routes_.size(); }
  uint64_t routes_evicted() const { return routes_.evicted(); }

 private:
  struct Partner {
    PublicKey key{};
    Instant permitted{};
    TokenBucket budget;
  };
  struct PeerState {
    std::array<Partner, kPartnersTried> partners;  // [0, count): most recent first
    size_t count = 0;
    TokenBucket budget;  // as a sender
  };
  void add_partner(const PublicKey& of, const PublicKey& partner, Instant now);

  LruTable<PublicKey, PeerState, KeyedHash> peers_{kMaxPeers, kPermitLifetime};
  LruTable<uint32_t, Route, KeyedHash> routes_{kMaxRoutes, kRouteLifetime};
};

}  // namespace wgp
