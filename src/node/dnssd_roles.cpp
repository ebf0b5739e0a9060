#include "node/dnssd_roles.h"

#include "dnssd/demux.h"
#include "dnssd/inner_udp.h"
#include "node/discovery_service.h"
#include "node/registry_service.h"

namespace wgp {

DnssdRoles::DnssdRoles(const Config& config, Device& device, Random& rng, SendPlain send)
    : device_(device) {
  if (config.registry) {
    std::vector<IpAddress> addresses;
    for (const InterfaceAddress& a : config.addresses) addresses.push_back(a.address);
    registry_ = std::make_unique<RegistryService>(*config.registry, addresses, device, send);
  }
  if (config.discovery)
    discovery_ = std::make_unique<DiscoveryService>(*config.discovery, device, rng, send);
  device_.set_observer(this);
}

DnssdRoles::~DnssdRoles() { device_.set_observer(nullptr); }

void DnssdRoles::receive_datagram(ByteView d, const Endpoint& from, Now now,
                                  const OpenJob* opened) {
  // One port, two protocols (DESIGN.md §4). A DNS message whose first bytes
  // look like a data message goes to DNS once no keypair claims it.
  switch (dnssd::classify_datagram(d)) {
    case dnssd::DatagramKind::kWireGuard:
      if (device_.receive_datagram(d, from, now, opened) == DropReason::kUnknownIndex &&
          dnssd::plausible_dns_header(d))
        receive_dns(d, from, now);
      break;
    case dnssd::DatagramKind::kDns:
      receive_dns(d, from, now);
      break;
    case dnssd::DatagramKind::kUnknown:
      (void)device_.receive_datagram(d, from, now);  // counted as malformed there
      break;
  }
}

void DnssdRoles::receive_dns(ByteView datagram, const Endpoint& from, Now now) {
  if (discovery_ && discovery_->handle_response(datagram, from, now)) return;
  if (registry_) {
    registry_->handle_plain_query(datagram, from, now);
    return;
  }
  ++dns_unexpected_;
}

bool DnssdRoles::intercept_inner_packet(Peer& peer, ByteView ip_packet, Now now) {
  auto udp = dnssd::parse_udp_packet(ip_packet);
  if (!udp) return false;
  if (registry_ && registry_->handle_inner(peer, *udp, now)) return true;
  return discovery_ && discovery_->handle_inner(peer, *udp, now);
}

void DnssdRoles::on_handshake_unanswered(Peer& peer, Now now) {
  if (discovery_) discovery_->on_handshake_unanswered(peer, now);
}

void DnssdRoles::on_handshake_complete(Peer& peer, Now now) {
  if (discovery_) discovery_->on_handshake_complete(peer, now);
}

void DnssdRoles::start(Now now) {
  if (discovery_) discovery_->refresh_all(now);
}

std::optional<Instant> DnssdRoles::next_deadline() const {
  return discovery_ ? discovery_->next_deadline() : std::nullopt;
}

void DnssdRoles::run_timers(Now now) {
  if (discovery_) discovery_->run_timers(now);
}

void DnssdRoles::add_status(ExtraFields& extra, Now now) const {
  if (registry_) registry_->add_status(extra);
  if (discovery_) discovery_->add_status(extra, now);
  if (dns_unexpected_) extra.emplace_back("dropped_dns_unexpected", std::to_string(dns_unexpected_));
}

}  // namespace wgp
