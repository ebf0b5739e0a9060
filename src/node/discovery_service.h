// The discovery role ([Discovery], DESIGN.md §5): asks the registry, from the
// WireGuard port itself (so through the same NAT mapping as the tunnel), where
// the peers without a live session are, aims at the answer and starts a
// handshake at once. Queries go out at start, every Interval, when a
// handshake goes unanswered, and when the registry NOTIFYs us that a peer is
// looking for us. The node's own record tells it its public endpoint.
//
// Driven by the node with `now`; sends through the `send` callback.
#pragma once

#include <functional>
#include <map>
#include <optional>

#include "config/config.h"
#include "control/device_control.h"
#include "crypto/random.h"
#include "dnssd/inner_udp.h"
#include "wg/device.h"

namespace wgp {

class DiscoveryService {
 public:
  using SendPlain = std::function<void(const Endpoint& to, ByteView datagram)>;

  DiscoveryService(const DiscoveryConfig& config, Device& device, Random& rng, SendPlain send);

  // Queries for every peer without a live session (and for ourselves).
  void refresh_all(Now now);
  void on_handshake_unanswered(Peer& peer, Now now);
  // A session with the registry came up: it can answer us now (it refuses
  // plain queries from an endpoint it has not authenticated), so ask at once
  // instead of waiting for the next Interval.
  void on_handshake_complete(Peer& peer, Now now);
  // A DNS response on the WireGuard port; true when it was one of ours.
  bool handle_response(ByteView datagram, const Endpoint& from, Now now);
  // A decrypted UDP packet from `peer`; true when it was the registry's NOTIFY.
  bool handle_inner(Peer& peer, const dnssd::UdpPacketView& udp, Now now);

  std::optional<Instant> next_deadline() const;
  void run_timers(Now now);
  void add_status(ExtraFields& extra, Now now) const;

 private:
  struct Pending {
    PublicKey key;  // whose record was asked for
    Instant sent;
  };
  bool has_live_session(const Peer& peer, Instant now) const;
  void query(const PublicKey& key, Now now);
  void expire_pending(Instant now);
  // Starts the handshake towards a freshly discovered peer (see punch_at_).
  void punch(PublicKey key, Now now);  // by value: it erases punch_at_'s copy

  DiscoveryConfig config_;
  Device& device_;
  Random& rng_;
  SendPlain send_;
  std::map<uint16_t, Pending> pending_;
  std::optional<Instant> next_refresh_;
  // Both sides learn of each other within a round trip (NOTIFY), and two
  // initiations that cross cancel each other out (each side drops the
  // response to the initiation it overwrote). So the side with the greater
  // public key waits a moment before it initiates: its packet still opens
  // its NAT, but usually finds the other's handshake already done.
  std::map<PublicKey, Instant> punch_at_;
  std::vector<uint8_t> buffer_;

  std::optional<Endpoint> public_endpoint_;
  std::optional<WallTime> last_answer_;
  uint64_t answers_ = 0;
  uint64_t failures_ = 0;
  uint64_t notifies_ = 0;
  std::string last_failure_;
};

}  // namespace wgp
