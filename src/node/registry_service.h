// The registry role ([Registry], DESIGN.md §4–5): publishes the endpoints of
// its peers as DNS-SD records and answers queries for them, both inside the
// tunnel (to its tunnel address, port 53) and in plain DNS on the WireGuard
// port. When a peer asks for another peer's record, the registry sends that
// other peer a DNS NOTIFY through its tunnel, so both sides start punching
// within one round trip.
//
// Pure with respect to time and I/O: datagrams go out through the `send`
// callback and the device; everything runs on the node's thread.
#pragma once

#include <functional>
#include <map>
#include <vector>

#include "config/config.h"
#include "control/device_control.h"
#include "dnssd/inner_udp.h"
#include "dnssd/responder.h"
#include "wg/device.h"

namespace wgp {

class RegistryService {
 public:
  using SendPlain = std::function<void(const Endpoint& to, ByteView datagram)>;

  // `tunnel_addresses`: this node's addresses inside the tunnel (Address=),
  // where in-tunnel queries are sent and NOTIFYs come from.
  RegistryService(const RegistryConfig& config, std::vector<IpAddress> tunnel_addresses,
                  Device& device, SendPlain send);

  // A plain DNS query that arrived on the WireGuard port from `from`.
  void handle_plain_query(ByteView query, const Endpoint& from, Now now);
  // A decrypted UDP packet from `peer`; true when it was a query to us (consumed).
  bool handle_inner(Peer& peer, const dnssd::UdpPacketView& udp, Now now);

  void add_status(ExtraFields& extra) const;

 private:
  // Republishes the peer table when the device's endpoints changed.
  void refresh();
  void notify(const PublicKey& target, const PublicKey& asker, Now now);
  // The peer whose current endpoint is `from`, if any.
  const Peer* peer_at(const Endpoint& from) const;

  RegistryConfig config_;
  std::vector<IpAddress> tunnel_addresses_;
  Device& device_;
  SendPlain send_;
  dnssd::Responder responder_;
  uint64_t generation_ = UINT64_MAX;
  std::map<Endpoint, const Peer*> peers_by_endpoint_;
  std::vector<uint8_t> answer_;
  std::vector<uint8_t> packet_;
  std::vector<uint8_t> notify_;
  uint16_t next_notify_id_ = 1;
  // (target, asker) → when we last notified: a NOTIFY makes the target ask
  // about the asker, which would NOTIFY the asker, and so on; one per pair
  // per interval breaks that ping-pong.
  std::map<std::pair<PublicKey, PublicKey>, Instant> last_notify_;
  uint64_t plain_answered_ = 0;
  uint64_t tunnel_answered_ = 0;
  uint64_t refused_ = 0;
  uint64_t notifies_sent_ = 0;
  uint64_t dropped_ = 0;
};

}  // namespace wgp
