// The DNS-SD side of a node (DESIGN.md §4–5). One port, two protocols: each
// datagram from the UDP socket goes to exactly one owner — WireGuard to the
// device, plain DNS to the registry role (a node without [Registry] answers
// no plain DNS: silence) — and in-tunnel DNS is caught before it reaches the
// TUN and goes to the registry role (queries to us) or the discovery role
// (the registry's answers and NOTIFYs).
//
// The device reports in-tunnel DNS and handshake events while it is in the
// middle of a receive or a timer; the roles must not re-enter it then (they
// send, which may start handshakes). So the observer methods only record,
// with a copy of the packet, and drain() acts once the device call returned;
// receive_datagram() and run_timers() drain on their way out.
//
// Pure: the node feeds it datagrams and `now`, and it answers through the
// device and the `send` callback, so a test can run a registry and two
// discovering peers in simulated time.
#pragma once

#include <functional>
#include <memory>
#include <set>
#include <vector>

#include "config/config.h"
#include "control/device_control.h"
#include "crypto/random.h"
#include "wg/device.h"

namespace wgp {

class RegistryService;
class DiscoveryService;
class ZonePublisher;

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
  // Call after Device::run_timers: runs what it reported, then the roles' timers.
  void run_timers(Now now);
  // Runs what the device reported since the last drain.
  void drain(Now now);
  // This host's addresses a peer could reach us at besides the public
  // mapping (LAN IPv4, global IPv6; never the tunnel's), and our port:
  // discovery registers them with every registry ([Discovery]
  // LocalCandidates = no: never). Call again whenever they change.
  void set_local_addresses(std::vector<IpAddress> addresses, uint16_t port, Now now);
  // Every address of this host (net/local_addresses.h host_addresses):
  // never a candidate, neither one a peer registers with our registry nor
  // one our device probes. Call again whenever they change.
  void set_host_addresses(std::vector<IpAddress> addresses);
  // Our port mapping at the gateway (nullopt: none), a candidate too.
  void set_port_mapping(std::optional<Endpoint> mapped, Now now);
  void add_status(ExtraFields& extra) const;
  // What discovery knows of one peer (a search under way, or given up).
  void add_peer_status(const Peer& peer, ExtraFields& extra) const;
  // Our UDP port (the registry's own record points there, DESIGN.md §11).
  void set_listen_port(uint16_t port);
  // A reload applied the config's peers again: a registry takes their Names.
  void peers_reconfigured(const std::vector<std::pair<PublicKey, std::string>>& names, Now now);
  // The registry role, for the in-tunnel DNS-over-TCP server; nullptr
  // without [Registry].
  RegistryService* registry() { return registry_.get(); }
  // The registry's zone versions, NOTIFYs and transfers for its secondaries
  // (for the node's zone-transfer server); nullptr without [Registry].
  ZonePublisher* publisher() { return publisher_.get(); }

  // DeviceObserver: record only (see above).
  bool intercept_inner_packet(Peer& peer, ByteView ip_packet, Now now) override;
  void on_handshake_unanswered(Peer& peer, Now now) override;
  void on_handshake_complete(Peer& peer, Now now) override;
  void on_path_changed(Peer& peer, Now now) override;
  bool on_session_wanted(Peer& peer, Now now) override;
  void on_endpoint_moved(Peer& peer, Now now) override;

 private:
  struct Event {
    enum class Kind {
      kRegistryPacket,
      kDiscoveryPacket,
      kUnanswered,
      kComplete,
      kPathChanged,
      kSessionWanted,
      kEndpointMoved
    } kind;
    PublicKey peer;
    std::vector<uint8_t> packet;
  };

  // Plain DNS on the WireGuard port: a listed secondary's to the publisher
  // first, the rest to the registry.
  void plain_dns(ByteView datagram, const Endpoint& from, Now now);

  Device& device_;
  std::unique_ptr<RegistryService> registry_;
  std::unique_ptr<ZonePublisher> publisher_;
  std::unique_ptr<DiscoveryService> discovery_;
  std::vector<Event> events_;
  // Peers with a kSessionWanted event recorded since the last drain: one
  // event per peer, however many packets wait for it.
  std::set<PublicKey> wanted_;
  bool draining_ = false;
  uint64_t dns_unexpected_ = 0;
  uint64_t events_dropped_ = 0;
};

}  // namespace wgp
