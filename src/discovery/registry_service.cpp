#include "discovery/registry_service.h"

#include <algorithm>

#include "discovery/tunnel_route.h"
#include "dnssd/notify.h"
#include "dnssd/wire_name.h"

namespace wgp {

namespace {
constexpr size_t kMaxDnsMessage = 65535;
// At most one NOTIFY per (target, asker) pair in this time: a handshake
// retry's worth, so a lost one is repeated when the asker asks again.
constexpr auto kNotifyInterval = std::chrono::seconds(5);
// Room for the IPv6 + UDP headers around a DNS message.
constexpr size_t kMaxInnerPacket = kMaxDnsMessage + 48;
// A registration of candidates lasts this long unless renewed (nodes renew
// every Interval); a peer gone quiet takes its candidates with it.
constexpr auto kRegistrationLifetime = std::chrono::seconds(180);
}  // namespace

RegistryService::RegistryService(const RegistryConfig& config, std::vector<IpAddress> addresses,
                                 size_t tunnel_mtu, Device& device, SendPlain send)
    : config_(config),
      tunnel_addresses_(std::move(addresses)),
      tunnel_mtu_(tunnel_mtu),
      device_(device),
      send_(std::move(send)),
      responder_(config.zone),
      answer_(kMaxDnsMessage),
      packet_(kMaxInnerPacket) {
  std::vector<std::vector<uint8_t>> name_servers;
  for (const std::string& name : config.name_servers)
    if (auto wire = dnssd::wire_name(name)) name_servers.push_back(std::move(*wire));
  responder_.set_name_servers(std::move(name_servers));
}

void RegistryService::refresh() {
  if (generation_ == device_.endpoint_generation() && published_version_ == candidates_version_)
    return;
  generation_ = device_.endpoint_generation();
  published_version_ = candidates_version_;
  std::vector<dnssd::PublishedPeer> published;
  confirmed_at_.clear();
  for (const Peer& peer : device_.peers()) {
    // Only where a peer was seen, never where someone merely told us to aim.
    if (!peer.endpoint || !peer.endpoint_confirmed) continue;
    confirmed_at_[*peer.endpoint] = &peer;
    dnssd::PublishedPeer p{peer.public_key(), *peer.endpoint, 0, {}};
    if (auto it = candidates_.find(peer.public_key()); it != candidates_.end()) {
      p.candidate_port = it->second.set.port;
      p.candidates = it->second.set.addresses;
    }
    published.push_back(std::move(p));
  }
  responder_.set_peers(std::move(published));
}

void RegistryService::handle_update(Peer& asker, const dnssd::UdpPacketView& udp, Now now) {
  auto update = dnssd::read_candidate_update(udp.payload, asker.public_key(), config_.zone);
  uint8_t rcode = 0;
  switch (update.verdict) {
    case dnssd::UpdateVerdict::kOk: {
      ++updates_accepted_;
      Registered& r = candidates_[asker.public_key()];
      if (!(r.set == update.set)) ++candidates_version_;
      r.set = std::move(update.set);
      r.expires = now.mono + kRegistrationLifetime;
      if (r.set.addresses.empty()) {
        candidates_.erase(asker.public_key());
        ++candidates_version_;
      }
      break;
    }
    case dnssd::UpdateVerdict::kFormErr:
      rcode = 1;
      break;
    case dnssd::UpdateVerdict::kNotZone:
      rcode = 10;
      break;
    case dnssd::UpdateVerdict::kRefused:
      rcode = 5;
      break;
  }
  if (rcode) ++updates_refused_;
  notify_.clear();
  dnssd::build_update_response(update.id, rcode, notify_);
  size_t n = dnssd::build_udp_packet(udp.destination, kDnsPort, udp.source, udp.source_port,
                                     notify_, packet_);
  if (n) device_.send_to_peer(asker, ByteView(packet_.data(), n), now);
}

std::optional<Instant> RegistryService::next_deadline() const {
  std::optional<Instant> next;
  for (const auto& [key, r] : candidates_)
    if (!next || r.expires < *next) next = r.expires;
  return next;
}

void RegistryService::run_timers(Now now) {
  size_t before = candidates_.size();
  std::erase_if(candidates_, [&](const auto& kv) { return kv.second.expires <= now.mono; });
  if (candidates_.size() != before) ++candidates_version_;
}

bool RegistryService::wants_inner(const dnssd::UdpDestination& to) const {
  return to.port == kDnsPort && std::find(tunnel_addresses_.begin(), tunnel_addresses_.end(),
                                          to.address) != tunnel_addresses_.end();
}

void RegistryService::handle_plain_query(ByteView query, const Endpoint& from, Now now) {
  refresh();
  // Plain DNS is unauthenticated: only a peer's own WireGuard socket, where
  // an authenticated packet came from, may ask, unless the zone is public.
  // Anyone else: silence, as WireGuard itself gives strangers.
  if (!config_.is_public && !confirmed_at_.contains(from)) {
    ++ignored_;
    return;
  }
  if (!plain_budget_.allow(from.address, now.mono)) {
    ++plain_limited_;
    return;
  }
  auto result = responder_.answer(query, dnssd::QueryAccess::kAllowed,
                                  MutableByteView(answer_.data(), kMaxPlainAnswer));
  if (!result.length) {
    ++dropped_;  // not even a readable DNS header, or a response
    return;
  }
  ++plain_answered_;
  send_(from, ByteView(answer_.data(), result.length));
}

void RegistryService::handle_inner(Peer& asker, ByteView ip_packet, Now now) {
  auto udp = dnssd::parse_udp_packet(ip_packet);
  if (!udp) {
    ++dropped_;
    return;
  }
  // A NOTIFY acknowledgement from a peer we notified: nothing more to do.
  if (dnssd::is_notify_ack(udp->payload)) return;
  if (udp->payload.size() >= 12 && ((udp->payload[2] >> 3) & 0x0F) == dnssd::kOpcodeUpdate) {
    handle_update(asker, *udp, now);
    return;
  }
  if (answer_relay_offer(asker, *udp, now)) return;
  refresh();
  // The answer, in its IP and UDP headers, must fit the tunnel MTU: a larger
  // inner packet would leave as IP fragments. TC tells the asker to use TCP.
  size_t headers = dnssd::udp_packet_size(udp->destination.family, 0);
  size_t room = tunnel_mtu_ > headers ? std::min(tunnel_mtu_ - headers, kMaxDnsMessage) : 0;
  auto result = responder_.answer(udp->payload, dnssd::QueryAccess::kAllowed,
                                  MutableByteView(answer_.data(), room));
  if (!result.length) {
    ++dropped_;
    return;
  }
  size_t n = dnssd::build_udp_packet(udp->destination, kDnsPort, udp->source, udp->source_port,
                                     ByteView(answer_.data(), result.length), packet_);
  if (n) {
    ++tunnel_answered_;
    device_.send_to_peer(asker, ByteView(packet_.data(), n), now);
  }
  if (udp->source_port == kDnsPort) discovering_.insert(asker.public_key());
  if (result.asked_about) {
    notify(*result.asked_about, asker.public_key(), now);
    if (udp->source_port == kDnsPort)
      note_question(asker.public_key(), *result.asked_about, now.mono);
    // Looking a peer up in the tunnel is what entitles the pair to our relay.
    if (config_.relay) device_.permit_relay(asker.public_key(), *result.asked_about, now.mono);
  }
}

ByteView RegistryService::answer_stream_query(ByteView query) {
  refresh();
  auto result =
      responder_.answer(query, dnssd::QueryAccess::kAllowed,
                        MutableByteView(answer_.data(), kMaxDnsMessage), dnssd::Transport::kStream);
  if (!result.length) return {};
  ++stream_answered_;
  return ByteView(answer_.data(), result.length);
}

const dnssd::ZoneView& RegistryService::zone() {
  refresh();
  return responder_.zone_view();
}

ByteView RegistryService::answer_secondary(ByteView query, size_t limit,
                                           dnssd::Transport transport) {
  refresh();
  auto result = responder_.answer(query, dnssd::QueryAccess::kAllowed,
                                  MutableByteView(answer_.data(), std::min(limit, answer_.size())),
                                  transport);
  return ByteView(answer_.data(), result.length);
}

void RegistryService::notify(const PublicKey& target_key, const PublicKey& asker, Now now) {
  if (target_key == asker || !discovering_.contains(target_key)) return;
  // The target asked about the asker itself moments ago: it looks already
  // (and this question may well answer its NOTIFY). Telling it again would
  // make it ask again, and so on, every kNotifyInterval.
  if (asked_within(target_key, asker, now.mono, kNotifyInterval)) return;
  Peer* target = device_.find_peer(target_key);
  if (!target) return;
  auto pair = std::make_pair(target_key, asker);
  if (auto it = last_notify_.find(pair);
      it != last_notify_.end() && now.mono - it->second < kNotifyInterval)
    return;
  if (last_notify_.size() > 4096)
    std::erase_if(last_notify_,
                  [&](const auto& kv) { return now.mono - kv.second >= kNotifyInterval; });
  last_notify_[pair] = now.mono;
  send_notify(*target, asker, now);
}

void RegistryService::add_status(ExtraFields& extra) const {
  const_cast<RegistryService*>(this)->refresh();
  extra.emplace_back("registry_zone", config_.zone);
  extra.emplace_back("registry_public", config_.is_public ? "yes" : "no");
  extra.emplace_back("registry_relay", config_.relay ? "yes" : "no");
  if (config_.relay)
    extra.emplace_back("registry_relayed_bytes", std::to_string(device_.relayed_total()));
  extra.emplace_back("registry_published_records", std::to_string(responder_.published_records()));
  extra.emplace_back("registry_queries_answered", std::to_string(responder_.queries_answered()));
  extra.emplace_back("registry_answered_in_tunnel", std::to_string(tunnel_answered_));
  extra.emplace_back("registry_answered_tcp", std::to_string(stream_answered_));
  extra.emplace_back("registry_answered_plain", std::to_string(plain_answered_));
  extra.emplace_back("registry_ignored_strangers", std::to_string(ignored_));
  if (plain_limited_)
    extra.emplace_back("registry_plain_rate_limited", std::to_string(plain_limited_));
  extra.emplace_back("registry_notifies_sent", std::to_string(notifies_sent_));
  if (move_notifies_)
    extra.emplace_back("registry_notifies_for_moves", std::to_string(move_notifies_));
  extra.emplace_back("registry_candidates_registered", std::to_string(candidates_.size()));
  if (updates_refused_)
    extra.emplace_back("registry_updates_refused", std::to_string(updates_refused_));
  if (dropped_) extra.emplace_back("registry_dropped_malformed", std::to_string(dropped_));
}

}  // namespace wgp
