// The DNS-SD side of a node (DESIGN.md §4–5): tells WireGuard from DNS on the
// shared UDP port and routes each to its owner — the device, the registry
// role or the discovery role — and catches in-tunnel DNS before it reaches
// the TUN. Pure: the node feeds it datagrams and `now`, and it answers
// through the device and the `send` callback, so a test can run a registry
// and two discovering peers in simulated time.
#pragma once

#include <functional>
#include <memory>

#include "config/config.h"
#include "control/device_control.h"
#include "crypto/random.h"
#include "wg/device.h"

namespace wgp {

class RegistryService;
class DiscoveryService;

class DnssdRoles final : public DeviceObserver {
 public:
  using SendPlain = std::function<void(const Endpoint& to, ByteView datagram)>;

  // Sets itself as `device`'s observer; the roles are those `config` names.
  DnssdRoles(const Config& config, Device& device, Random& rng, SendPlain send);
  ~DnssdRoles() override;

  // One datagram from the UDP socket (WireGuard or DNS).
  // `opened`: see Device::receive_datagram.
  void receive_datagram(ByteView datagram, const Endpoint& from, Now now,
                        const OpenJob* opened = nullptr);
  // Discovery asks about every peer at once.
  void start(Now now);
  std::optional<Instant> next_deadline() const;
  void run_timers(Now now);
  void add_status(ExtraFields& extra, Now now) const;

  // DeviceObserver
  bool intercept_inner_packet(Peer& peer, ByteView ip_packet, Now now) override;
  void on_handshake_unanswered(Peer& peer, Now now) override;
  void on_handshake_complete(Peer& peer, Now now) override;

 private:
  void receive_dns(ByteView datagram, const Endpoint& from, Now now);

  Device& device_;
  std::unique_ptr<RegistryService> registry_;
  std::unique_ptr<DiscoveryService> discovery_;
  uint64_t dns_unexpected_ = 0;
};

}  // namespace wgp
