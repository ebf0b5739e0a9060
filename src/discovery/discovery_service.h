// The discovery role ([Discovery], DESIGN.md §5, §10): asks a registry where
// the peers without a usable session are, and gives each answer to the device
// as a candidate address (Device::try_candidate owns what happens then: a
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
// Queries go out at start, every Interval (also for peers reached through a
// relay: the direct path is probed on), when a handshake to a peer goes
// unanswered, when a registry's session comes up, and when a registry
// NOTIFYs us that a peer is looking for us. A peer tried at its direct
// addresses without a session after kRelayDelay is tried through the
// registries too: one with Relay = yes forwards; the device moves the path
// back to direct the moment a direct handshake completes.
//
// Pure: driven by DnssdRoles with `now`, outside any Device call; sends
// through the device.
#pragma once

#include <map>
#include <optional>
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

  // Queries for every peer without a usable session (Device::has_usable_session),
  // or reached through a relay, and for ourselves at every registry.
  void refresh_all(Now now);
  void on_handshake_unanswered(const PublicKey& peer, Now now);
  // A session with the registry came up: ask at once instead of waiting for
  // the next Interval.
  void on_handshake_complete(const PublicKey& peer, Now now);

  // The data path's cheap test: is this inner UDP packet from `peer` in-tunnel
  // DNS for us (the registry's answers and NOTIFYs)?
  bool wants_inner(const Peer& peer, const dnssd::UdpDestination& to) const;
  // A packet wants_inner() accepted.
  void handle_inner(Peer& registry, ByteView ip_packet, Now now);

  std::optional<Instant> next_deadline() const;
  void run_timers(Now now);
  void add_status(ExtraFields& extra) const;
  // Our own addresses (see DnssdRoles::set_local_addresses): registered with
  // every registry now when they changed, and again every Interval.
  void set_local_addresses(std::vector<IpAddress> addresses, uint16_t port, Now now);
  // Our port mapping at the gateway (node/port_mapping.h), nullopt when it is
  // gone: registered with every registry now, with the addresses above. The
  // peers still without a session are asked about again, so the registry
  // NOTIFYs them and they try the new address at once.
  void set_port_mapping(std::optional<Endpoint> mapped, Now now);

 private:
  // Sends our candidates to registry `index` (an UPDATE in its tunnel).
  void register_candidates(size_t index, Now now);
  // One registry, as this node sees it.
  struct Registry {
    PublicKey key;
    std::optional<Endpoint> sees_us_at;  // our own record there
    std::optional<WallTime> last_answer;
    uint64_t answers = 0;
    uint64_t failures = 0;
  };
  struct Pending {
    PublicKey key;  // whose record was asked for
    Instant sent;
    std::vector<size_t> asked;  // indices into registries_
  };
  Registry* registry_of(const PublicKey& key);
  // The registries to ask: one with a live session (the last that
  // answered, if live), else every one.
  std::vector<size_t> whom_to_ask(Instant now) const;
  // Asks `registries` (indices) about `key`.
  void query(const PublicKey& key, Now now, std::vector<size_t> registries);
  void query(const PublicKey& key, Now now) { query(key, now, whom_to_ask(now.mono)); }
  // Sends `dns` to registry `index` inside its tunnel; false when we have no
  // tunnel address in a family it has one in.
  bool send_to_registry(size_t index, ByteView dns, Now now);
  void handle_answer(size_t registry, ByteView response, Now now);
  void handle_notify(size_t registry, const dnssd::UdpPacketView& udp, Now now);
  void on_own_endpoint(Registry& registry, const Endpoint& endpoint, Now now);
  void expire_pending(Instant now);
  // Tries `peer` through every registry with a usable session (as relays).
  void try_relays(Peer& peer, Now now);

  DiscoveryConfig config_;
  std::vector<IpAddress> tunnel_addresses_;
  Device& device_;
  Random& rng_;
  std::vector<Registry> registries_;
  std::optional<size_t> last_answered_;  // index of the registry that answered last
  std::map<uint16_t, Pending> pending_;
  std::optional<Instant> next_refresh_;
  // Peers tried at a direct address: if no session is up by then, they are
  // tried through the registries' relays too (DESIGN.md §9). Short enough
  // for a first packet within a second; long enough that a pair that can
  // punch (a few round trips) never needs the relay.
  std::map<PublicKey, Instant> relay_at_;
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
  std::string last_failure_;
};

}  // namespace wgp
