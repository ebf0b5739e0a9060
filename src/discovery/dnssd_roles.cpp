#include "discovery/dnssd_roles.h"

#include "crypto/keys.h"
#include "discovery/discovery_service.h"
#include "discovery/registry_service.h"
#include "discovery/zone_publisher.h"
#include "dnssd/demux.h"
#include "dnssd/inner_udp.h"
#include "util/log.h"

namespace wgp {

namespace {
// Events kept between two drains: far more than one receive batch can make
// (64 slots of up to 64 datagrams); past it, in-tunnel DNS is dropped (the
// asker retries) rather than memory growing without bound.
constexpr size_t kMaxEvents = 8192;

std::vector<IpAddress> tunnel_addresses(const Config& config) {
  std::vector<IpAddress> out;
  for (const InterfaceAddress& a : config.addresses) out.push_back(a.address);
  return out;
}
}  // namespace

DnssdRoles::DnssdRoles(const Config& config, Device& device, Random& rng, SendPlain send)
    : device_(device) {
  if (config.registry) {
    registry_ = std::make_unique<RegistryService>(*config.registry, tunnel_addresses(config),
                                                  config.mtu, device, send);
    publisher_ = std::make_unique<ZonePublisher>(*config.registry, *registry_, rng, send);
  }
  if (config.registry && config.registry->relay) device.enable_relay();
  if (registry_) {
    std::map<PublicKey, std::string> names;
    for (const PeerConfig& p : config.peers)
      if (!p.name.empty()) names.emplace(p.public_key, p.name);
    registry_->set_names(std::move(names));
  }
  if (config.discovery)
    discovery_ = std::make_unique<DiscoveryService>(*config.discovery, tunnel_addresses(config),
                                                    device, rng);
  device_.set_observer(this);
}

DnssdRoles::~DnssdRoles() {
  // A successor may have taken over already (roles replaced on a reload).
  if (device_.observer() == this) device_.set_observer(nullptr);
}

void DnssdRoles::receive_datagram(ByteView d, const Endpoint& from, Now now,
                                  const OpenJob* opened) {
  // One port, two protocols (DESIGN.md §4). A DNS message whose first bytes
  // look like a data message goes to DNS once no keypair claims it.
  switch (dnssd::classify_datagram(d)) {
    case dnssd::DatagramKind::kWireGuard:
      if (device_.receive_datagram(d, from, now, opened) == DropReason::kUnknownIndex &&
          registry_ && dnssd::plausible_dns_header(d))
        plain_dns(d, from, now);
      break;
    case dnssd::DatagramKind::kDns:
      if (registry_)
        plain_dns(d, from, now);
      else
        ++dns_unexpected_;  // nobody here answers plain DNS: silence
      break;
    case dnssd::DatagramKind::kUnknown:
      (void)device_.receive_datagram(d, from, now);  // counted as malformed there
      break;
  }
  drain(now);
}

void DnssdRoles::plain_dns(ByteView d, const Endpoint& from, Now now) {
  if (publisher_->is_secondary(from.address) && publisher_->handle_datagram(d, from, now)) return;
  registry_->handle_plain_query(d, from, now);
}

bool DnssdRoles::intercept_inner_packet(Peer& peer, ByteView ip_packet, Now) {
  // Every decrypted packet passes here: look at where it goes, nothing more,
  // before deciding it is ours.
  auto to = dnssd::peek_udp_destination(ip_packet);
  if (!to) return false;
  Event::Kind kind;
  if (registry_ && registry_->wants_inner(*to))
    kind = Event::Kind::kRegistryPacket;
  else if (discovery_ && discovery_->wants_inner(peer, *to))
    kind = Event::Kind::kDiscoveryPacket;
  else
    return false;
  if (events_.size() >= kMaxEvents) {
    ++events_dropped_;
    return true;
  }
  events_.push_back(
      {kind, peer.public_key(), std::vector<uint8_t>(ip_packet.begin(), ip_packet.end())});
  return true;
}

void DnssdRoles::on_handshake_unanswered(Peer& peer, Now) {
  if (discovery_ && events_.size() < kMaxEvents)
    events_.push_back({Event::Kind::kUnanswered, peer.public_key(), {}});
}

void DnssdRoles::on_path_changed(Peer& peer, Now) {
  if (events_.size() < kMaxEvents)
    events_.push_back({Event::Kind::kPathChanged, peer.public_key(), {}});
}

bool DnssdRoles::on_session_wanted(Peer& peer, Now now) {
  if (!discovery_ || !discovery_->holds_for_search(peer, now.mono)) return false;
  if (wanted_.size() < kMaxEvents && wanted_.insert(peer.public_key()).second)
    events_.push_back({Event::Kind::kSessionWanted, peer.public_key(), {}});
  return true;
}

void DnssdRoles::on_endpoint_moved(Peer& peer, Now) {
  if (registry_ && events_.size() < kMaxEvents)
    events_.push_back({Event::Kind::kEndpointMoved, peer.public_key(), {}});
}

void DnssdRoles::on_handshake_complete(Peer& peer, Now) {
  if (discovery_ && events_.size() < kMaxEvents)
    events_.push_back({Event::Kind::kComplete, peer.public_key(), {}});
}

void DnssdRoles::drain(Now now) {
  if (draining_) return;  // what the roles cause now is drained by this loop
  draining_ = true;
  // Index, not iterator: handling one event may record more.
  for (size_t i = 0; i < events_.size(); ++i) {
    Event event = std::move(events_[i]);
    Peer* peer = device_.find_peer(event.peer);
    switch (event.kind) {
      case Event::Kind::kRegistryPacket:
        if (peer) registry_->handle_inner(*peer, event.packet, now);
        break;
      case Event::Kind::kDiscoveryPacket:
        if (peer) discovery_->handle_inner(*peer, event.packet, now);
        break;
      case Event::Kind::kUnanswered:
        discovery_->on_handshake_unanswered(event.peer, now);
        break;
      case Event::Kind::kComplete:
        discovery_->on_handshake_complete(event.peer, now);
        break;
      case Event::Kind::kSessionWanted:
        discovery_->on_session_wanted(event.peer, now);
        break;
      case Event::Kind::kEndpointMoved:
        if (peer) registry_->on_endpoint_moved(*peer, now);
        break;
      case Event::Kind::kPathChanged:
        if (peer && peer->endpoint)
          Log::info("path to ", key_to_base64(event.peer), ": ",
                    peer->relay_via ? "relay via " + key_to_base64(*peer->relay_via)
                                    : std::string("direct"),
                    " at ", peer->endpoint->to_string());
        break;
    }
  }
  events_.clear();
  wanted_.clear();
  draining_ = false;
}

void DnssdRoles::start(Now now) {
  if (publisher_) publisher_->start(now);
  if (discovery_) discovery_->start(now);
  drain(now);
}

std::optional<Instant> DnssdRoles::next_deadline() const {
  std::optional<Instant> next = discovery_ ? discovery_->next_deadline() : std::nullopt;
  if (registry_)
    if (auto r = registry_->next_deadline(); r && (!next || *r < *next)) next = r;
  if (publisher_)
    if (auto p = publisher_->next_deadline(); p && (!next || *p < *next)) next = p;
  return next;
}

void DnssdRoles::run_timers(Now now) {
  drain(now);
  if (registry_) registry_->run_timers(now);
  if (discovery_) discovery_->run_timers(now);
  if (publisher_) publisher_->run_timers(now);
  drain(now);
}

void DnssdRoles::set_local_addresses(std::vector<IpAddress> addresses, uint16_t port, Now now) {
  if (discovery_) discovery_->set_local_addresses(std::move(addresses), port, now);
  drain(now);
}

void DnssdRoles::add_peer_status(const Peer& peer, ExtraFields& extra) const {
  if (discovery_) discovery_->add_peer_status(peer, extra);
}

void DnssdRoles::set_listen_port(uint16_t port) {
  if (registry_) registry_->set_listen_port(port);
}

void DnssdRoles::peers_reconfigured(const std::vector<std::pair<PublicKey, std::string>>& names,
                                    Now now) {
  if (registry_) registry_->set_names({names.begin(), names.end()});
  drain(now);
}

void DnssdRoles::set_host_addresses(std::vector<IpAddress> addresses) {
  if (registry_) registry_->set_own_addresses(addresses);
  device_.set_own_addresses(std::move(addresses));
}

void DnssdRoles::set_port_mapping(std::optional<Endpoint> mapped, Now now) {
  if (discovery_) discovery_->set_port_mapping(mapped, now);
  drain(now);
}

void DnssdRoles::add_status(ExtraFields& extra) const {
  if (registry_) registry_->add_status(extra);
  if (publisher_) publisher_->add_status(extra);
  if (discovery_) discovery_->add_status(extra);
  if (dns_unexpected_)
    extra.emplace_back("dropped_dns_unexpected", std::to_string(dns_unexpected_));
  if (events_dropped_) extra.emplace_back("dropped_dns_overflow", std::to_string(events_dropped_));
}

}  // namespace wgp
