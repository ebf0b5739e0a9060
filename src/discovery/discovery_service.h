// The discovery role ([Discovery], DESIGN.md §5): asks the registry where
// the peers without a live session are, and gives each answer to the device
// as a candidate address (Device::try_candidate owns what happens then: a
// handshake there, and the endpoint only once an authenticated packet
// arrives from it). The node's own record tells it its public endpoint.
//
// Every question goes inside the tunnel to the registry (UDP from our tunnel
// address, port 53, to the registry's, port 53), and only answers that come
// back through the registry's session count: nobody off the path can forge
// one. Plain DNS on the WireGuard port is never asked nor believed.
//
// Queries go out at start, every Interval, when a handshake to a peer goes
// unanswered, when the registry's session comes up, and when the registry
// NOTIFYs us that a peer is looking for us.
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
#include "dnssd/inner_udp.h"
#include "wg/device.h"

namespace wgp {

class DiscoveryService {
 public:
  // `tunnel_addresses`: ours (Address=), the source of every query.
  DiscoveryService(const DiscoveryConfig& config, std::vector<IpAddress> tunnel_addresses,
                   Device& device, Random& rng);

  // Queries for every peer without a live session (and for ourselves).
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

 private:
  struct Pending {
    PublicKey key;  // whose record was asked for
    Instant sent;
  };
  void query(const PublicKey& key, Now now);
  // Sends `dns` to the registry inside its tunnel; false when we have no
  // tunnel address in a family the registry has one in.
  bool send_to_registry(ByteView dns, Now now);
  void handle_answer(ByteView response, Now now);
  void handle_notify(const dnssd::UdpPacketView& udp, Now now);
  void on_own_endpoint(const Endpoint& endpoint, Now now);
  void expire_pending(Instant now);

  DiscoveryConfig config_;
  std::vector<IpAddress> tunnel_addresses_;
  Device& device_;
  Random& rng_;
  std::map<uint16_t, Pending> pending_;
  std::optional<Instant> next_refresh_;
  std::vector<uint8_t> dns_;
  std::vector<uint8_t> packet_;

  std::optional<Endpoint> public_endpoint_;
  std::optional<WallTime> last_answer_;
  uint64_t answers_ = 0;
  uint64_t failures_ = 0;
  uint64_t notifies_ = 0;
  uint64_t unroutable_ = 0;
  std::string last_failure_;
};

}  // namespace wgp
