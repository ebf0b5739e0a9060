// The discovery role ([Discovery], DESIGN.md §5, §10; docs/discovery.md): asks
// a registry where a peer is when, and only when, the peer is needed and not
// reached: a packet waits for it, or a handshake to it went unanswered (also
// on the other side's behalf, when the registry NOTIFYs us that someone looks
// for us). An idle tunnel, however old, costs nothing: no question, no NOTIFY,
// no handshake beyond WireGuard's own schedule. Each answer goes to the device
// as candidate addresses (Device::try_candidates owns what happens then: a
// handshake there, and the endpoint only once an authenticated packet
// arrives from it). The node's own record at each registry tells it its
// public endpoint as that registry sees it.
//
// Every question goes inside the tunnel to a registry (UDP from our tunnel
// address, port 53, to the registry's, port 53), and only answers that come
// back through the session of a registry that was asked count: nobody off
// the path can forge one. Plain DNS on the WireGuard port is never asked
// nor believed.
//
// Several registries share no state; the node keeps a session with each
// (that is what registers it there), asks one that has a live session (the
// one that answered last, if live), and all of them when none has. So one
// registry down costs nothing while another answers.
//
// A search for a peer goes in rounds (discovery_search.cpp): each sends an
// opener towards the peer's public mapping (Device::send_opener: our NAT
// opens, theirs never sees it) and, a moment later, the probe, so both NATs
// are open before either side's handshake arrives, even NATs that keep an
// entry for a packet that came too early. Rounds come 5 s, then 35 s apart
// (a stale entry expires meanwhile), at most kMaxRounds; then one log line
// and `status` say that no direct path came up, and why. A peer tried
// directly without a session after kRelayDelay is tried through the
// registries that say they relay (dnssd/relay_offer.h); the device moves the
// path back to direct the moment a direct handshake completes.
//
// Pure: driven by DnssdRoles with `now`, outside any Device call; sends
// through the device.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "control/device_control.h"
#include "crypto/random.h"
#include "dnssd/candidate_update.h"
#include "dnssd/inner_udp.h"
#include "wg/device.h"

namespace wgp {

class DiscoveryService {
 public:
  // `tunnel_addresses`: ours (Address=), the source of every query.
  DiscoveryService(const DiscoveryConfig& config, std::vector<IpAddress> tunnel_addresses,
                   Device& device, Random& rng);

  // At start: refresh_all, and every registry's relay offer asked anew.
  void start(Now now);
  // Every Interval: our own record and candidates at every registry (and
  // whether it relays, until it said), and the direct path of peers reached
  // through a relay while data flows. Idle peers: nothing.
  void refresh_all(Now now);
  // A handshake to `peer` went unanswered: look for it.
  void on_handshake_unanswered(const PublicKey& peer, Now now);
  // A session came up: the search for that peer is over; a registry's
  // session coming up makes us ask it at once instead of at the next Interval.
  void on_handshake_complete(const PublicKey& peer, Now now);
  // Whether a packet for `peer`, which has no usable session, should wait
  // for a search instead of the device's own handshake: the peer is no
  // registry, has no static endpoint, no search for it gave up lately, and
  // we know no address for it or heard nothing from it for kStalePath.
  bool holds_for_search(const Peer& peer, Instant now) const;
  // Such a packet waits for `peer`: look for it.
  void on_session_wanted(const PublicKey& peer, Now now);

  // The data path's cheap test: is this inner UDP packet from `peer` in-tunnel
  // DNS for us (the registry's answers and NOTIFYs)?
  bool wants_inner(const Peer& peer, const dnssd::UdpDestination& to) const;
  // A packet wants_inner() accepted.
  void handle_inner(Peer& registry, ByteView ip_packet, Now now);

  std::optional<Instant> next_deadline() const;
  void run_timers(Now now);
  void add_status(ExtraFields& extra) const;
  // "searching: round 2 of 4" or why a search gave up, for one peer.
  void add_peer_status(const Peer& peer, ExtraFields& extra) const;
  // Our own addresses (see DnssdRoles::set_local_addresses): registered with
  // every registry now when they changed, and again every Interval.
  void set_local_addresses(std::vector<IpAddress> addresses, uint16_t port, Now now);
  // Our port mapping at the gateway (node/port_mapping.h), nullopt when it is
  // gone: registered with every registry now, with the addresses above. The
  // peers still without a session are asked about again, so the registry
  // NOTIFYs them and they try the new address at once.
  void set_port_mapping(std::optional<Endpoint> mapped, Now now);

  // Rounds of a search before it gives up (~75 s: long enough for a NAT's
  // stale entry to expire twice, short of WireGuard's 90 s of retries).
  static constexpr int kMaxRounds = 4;

 private:
  // One registry, as this node sees it.
  struct Registry {
    PublicKey key;
    std::optional<Endpoint> sees_us_at;   // our own record there
    std::optional<WallTime> last_answer;  // when it last gave a record
    uint64_t answers = 0;                 // records it gave (our own included)
    uint64_t failures = 0;
    std::optional<bool> relays;  // its relay offer, once it said
    bool zone_refused = false;   // it refused our zone (logged once)
  };
  enum class Question { kRecord, kRelayOffer };
  struct Pending {
    PublicKey key;  // whose record was asked for (the registry's, for kRelayOffer)
    Instant sent;
    std::vector<size_t> asked;  // indices into registries_
    Question question = Question::kRecord;
  };
  // A peer being looked for (discovery_search.cpp).
  struct Search {
    int rounds = 0;                                   // begun, the one under way included
    bool asking = false;                              // this round waits for the registry's answer
    bool found = false;                               // a registry gave an address for the peer
    std::optional<Instant> next_round;                // when the next round is due
    std::optional<Instant> probe_at;                  // this round's probe, after its openers
    std::vector<Device::CandidateAddress> addresses;  // what the probe tries
    size_t behind_nat = 1;           // its first ones sit behind the peer's NAT (mapping, public)
    std::optional<Instant> gave_up;  // no direct path after kMaxRounds
    std::string why;                 // ... and why, for status
  };

  const Registry* registry_of(const PublicKey& key) const;
  Registry* registry_of(const PublicKey& key);
  // The registries to ask: one with a live session (the last that
  // answered, if live), else every one.
  std::vector<size_t> whom_to_ask(Instant now) const;
  // Asks `registries` (indices) about `key`'s record (or its relay offer).
  void query(const PublicKey& key, Now now, std::vector<size_t> registries,
             Question question = Question::kRecord);
  void query(const PublicKey& key, Now now) { query(key, now, whom_to_ask(now.mono)); }
  // Sends our candidates to registry `index` (an UPDATE in its tunnel).
  void register_candidates(size_t index, Now now);
  // Sends `dns` to registry `index` inside its tunnel; false when we have no
  // tunnel address in a family it has one in.
  bool send_to_registry(size_t index, ByteView dns, Now now);
  void handle_answer(size_t registry, ByteView response, Now now);
  void note_relay_offer(Registry& registry, bool relays);
  void handle_notify(size_t registry, const dnssd::UdpPacketView& udp, Now now);
  void handle_update_response(size_t registry, uint8_t rcode);
  void on_own_endpoint(Registry& registry, const Endpoint& endpoint, Now now);
  // The registry saw us move: open our NAT towards every peer in use.
  void open_towards_peers(Now now);
  void expire_pending(Instant now);
  // Logs once that `registry` refuses our zone, and what to check.
  void report_zone_refused(Registry& registry, const char* what);

  // discovery_search.cpp: the rounds of a search.
  // An answer placed `peer` at `addresses`, whose first `behind_nat` are
  // reached through its NAT (its port mapping, its public mapping), the rest
  // its own: nothing to do when its session works there; else a round now,
  // or at its time.
  void on_peer_answer(Peer& peer, std::vector<Device::CandidateAddress> addresses,
                      size_t behind_nat, Now now);
  void start_round(Peer& peer, Search& search, Now now);
  void probe(Peer& peer, Search& search, Now now);
  // Is `peer` needed and not reached? A packet or a handshake waits for it.
  bool wanted(const Peer& peer, Instant now) const;
  void give_up(Peer& peer, Search& search, Now now);
  void run_searches(Now now);
  // Tries `peer` through every registry that relays (those that have not
  // said too: a registry that never answered the question).
  void try_relays(Peer& peer, Now now);
  // Why no relay carries `peer`, for a search that gave up.
  std::string relay_verdict() const;

  DiscoveryConfig config_;
  std::vector<IpAddress> tunnel_addresses_;
  Device& device_;
  Random& rng_;
  std::vector<Registry> registries_;
  std::optional<size_t> last_answered_;  // index of the registry that answered last
  std::map<uint16_t, Pending> pending_;
  std::optional<Instant> next_refresh_;
  std::map<PublicKey, Search> searches_;
  // Peers probed at a direct address: if no session is up by then, they are
  // tried through the registries' relays too (DESIGN.md §9). Short enough
  // for a first packet within a second; long enough that a pair that can
  // punch (a few round trips) never needs the relay.
  std::map<PublicKey, Instant> relay_at_;
  // Where each peer's last logged handshake completed: a rekey at the same
  // place is not worth a line (an idle mesh logs nothing).
  std::map<PublicKey, Endpoint> logged_at_;
  Duration last_rtt_{};  // of the latest question, for a round's opener lead
  std::vector<uint8_t> dns_;
  std::vector<uint8_t> packet_;

  dnssd::CandidateSet local_;  // our own addresses and port, and our port mapping
  bool registering_ = false;   // LocalCandidates = yes, or a mapping was ever registered
  uint16_t next_update_id_ = 1;
  uint64_t updates_refused_ = 0;
  std::optional<Endpoint> public_endpoint_;  // as the registry that answered last sees us
  std::optional<WallTime> last_answer_;
  uint64_t answers_ = 0;
  uint64_t failures_ = 0;
  uint64_t notifies_ = 0;
  uint64_t unroutable_ = 0;
  uint64_t gave_up_ = 0;
  std::string last_failure_;
};

}  // namespace wgp
