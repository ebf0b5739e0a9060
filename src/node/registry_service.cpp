#include "node/registry_service.h"

#include "dnssd/notify.h"

namespace wgp {

namespace {
constexpr uint16_t kDnsPort = 53;
constexpr size_t kMaxDnsMessage = 65535;
// At most one NOTIFY per (target, asker) pair in this time: a handshake
// retry's worth, so a lost one is repeated when the asker asks again.
constexpr auto kNotifyInterval = std::chrono::seconds(5);
// Room for the IPv6 + UDP headers around a DNS message.
constexpr size_t kMaxInnerPacket = kMaxDnsMessage + 48;
}  // namespace

RegistryService::RegistryService(const RegistryConfig& config, std::vector<IpAddress> addresses,
                                 Device& device, SendPlain send)
    : config_(config),
      tunnel_addresses_(std::move(addresses)),
      device_(device),
      send_(std::move(send)),
      responder_(config.zone),
      answer_(kMaxDnsMessage),
      packet_(kMaxInnerPacket) {}

void RegistryService::refresh() {
  if (generation_ == device_.endpoint_generation()) return;
  generation_ = device_.endpoint_generation();
  std::vector<dnssd::PublishedPeer> published;
  peers_by_endpoint_.clear();
  for (const Peer& peer : device_.peers()) {
    if (!peer.endpoint) continue;
    peers_by_endpoint_[*peer.endpoint] = &peer;
    // Only where a peer was seen, never where someone merely told us to aim.
    if (peer.endpoint_confirmed) published.push_back({peer.public_key(), *peer.endpoint});
  }
  responder_.set_peers(std::move(published));
}

const Peer* RegistryService::peer_at(const Endpoint& from) const {
  auto it = peers_by_endpoint_.find(from);
  return it == peers_by_endpoint_.end() ? nullptr : it->second;
}

void RegistryService::handle_plain_query(ByteView query, const Endpoint& from, Now now) {
  refresh();
  // Plain DNS is unauthenticated: only a peer's own WireGuard socket (its
  // current endpoint) may ask, unless the zone is public.
  const Peer* asker = peer_at(from);
  auto access = asker || config_.is_public ? dnssd::QueryAccess::kAllowed
                                           : dnssd::QueryAccess::kRefused;
  if (access == dnssd::QueryAccess::kRefused) ++refused_;
  auto result = responder_.answer(query, access, answer_);
  if (!result.length) {
    ++dropped_;  // not even a readable DNS header
    return;
  }
  ++plain_answered_;
  send_(from, ByteView(answer_.data(), result.length));
  if (asker && result.asked_about) notify(*result.asked_about, asker->public_key(), now);
}

bool RegistryService::handle_inner(Peer& peer, const dnssd::UdpPacketView& udp, Now now) {
  if (udp.destination_port != kDnsPort) return false;
  bool to_us = false;
  for (const IpAddress& a : tunnel_addresses_) to_us |= a == udp.destination;
  if (!to_us) return false;
  // A NOTIFY acknowledgement from a peer we notified: nothing more to do.
  if (dnssd::is_notify_ack(udp.payload)) return true;

  refresh();
  // Inside the tunnel the sender is authenticated: every peer may ask.
  auto result = responder_.answer(udp.payload, dnssd::QueryAccess::kAllowed, answer_);
  if (!result.length) {
    ++dropped_;
    return true;
  }
  size_t n = dnssd::build_udp_packet(udp.destination, kDnsPort, udp.source, udp.source_port,
                                     ByteView(answer_.data(), result.length), packet_);
  if (n) {
    ++tunnel_answered_;
    device_.send_to_peer(peer, ByteView(packet_.data(), n), now);
  }
  if (result.asked_about) notify(*result.asked_about, peer.public_key(), now);
  return true;
}

void RegistryService::notify(const PublicKey& target_key, const PublicKey& asker, Now now) {
  if (target_key == asker) return;
  Peer* target = device_.find_peer(target_key);
  if (!target) return;
  auto pair = std::make_pair(target_key, asker);
  if (auto it = last_notify_.find(pair); it != last_notify_.end() && now.mono - it->second < kNotifyInterval)
    return;
  if (last_notify_.size() > 4096)
    std::erase_if(last_notify_, [&](const auto& kv) { return now.mono - kv.second >= kNotifyInterval; });
  last_notify_[pair] = now.mono;
  // Address the NOTIFY to the target's tunnel address: a host prefix of its
  // AllowedIPs in a family we have an address in.
  for (const IpPrefix& prefix : device_.allowed_ips().prefixes_of(target)) {
    if (prefix.length != (prefix.address.is_v4() ? 32 : 128)) continue;
    for (const IpAddress& source : tunnel_addresses_) {
      if (source.family != prefix.address.family) continue;
      notify_.clear();
      dnssd::build_notify(next_notify_id_++, asker, config_.zone, notify_);
      size_t n = dnssd::build_udp_packet(source, kDnsPort, prefix.address, kDnsPort, notify_, packet_);
      if (!n) return;
      ++notifies_sent_;
      device_.send_to_peer(*target, ByteView(packet_.data(), n), now);
      return;
    }
  }
}

void RegistryService::add_status(ExtraFields& extra) const {
  const_cast<RegistryService*>(this)->refresh();
  extra.emplace_back("registry_zone", config_.zone);
  extra.emplace_back("registry_public", config_.is_public ? "yes" : "no");
  extra.emplace_back("registry_published_records", std::to_string(responder_.published_records()));
  extra.emplace_back("registry_queries_answered", std::to_string(responder_.queries_answered()));
  extra.emplace_back("registry_answered_in_tunnel", std::to_string(tunnel_answered_));
  extra.emplace_back("registry_answered_plain", std::to_string(plain_answered_));
  extra.emplace_back("registry_refused", std::to_string(refused_));
  extra.emplace_back("registry_notifies_sent", std::to_string(notifies_sent_));
  if (dropped_) extra.emplace_back("registry_dropped_malformed", std::to_string(dropped_));
}

}  // namespace wgp
