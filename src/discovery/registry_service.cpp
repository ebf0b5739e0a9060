#include "discovery/registry_service.h"

#include <algorithm>

#include "discovery/tunnel_route.h"
#include "dnssd/notify.h"
#include "dnssd/wire_name.h"
#include "net/local_addresses.h"

namespace wgp {

namespace {
constexpr size_t kMaxDnsMessage = 65535;
// At most one NOTIFY per (target, asker) pair in this time: a handshake
// retry's worth, so a lost one is repeated when the asker asks again.
constexpr auto kNotifyInterval = std::chrono::seconds(5);
// A new port mapping is news for the peers its owner looked for this recently.
constexpr auto kMappingNewsWindow = std::chrono::seconds(60);
// Room for the IPv6 + UDP headers around a DNS message.
constexpr size_t kMaxInnerPacket = kMaxDnsMessage + 48;
// A registration of candidates lasts this long unless renewed (nodes renew
// every Interval); a peer gone quiet takes its candidates with it.
constexpr auto kRegistrationLifetime = std::chrono::seconds(180);
// UPDATEs per peer: a node sends one at start, every Interval, when a
// registry's session comes up and when its addresses change.
constexpr BucketRate kUpdateBudget = BucketRate::per_second(1, 10);
// Peers with registrations, budgets or recent NOTIFYs kept at most.
constexpr size_t kMaxTracked = 65536;
}  // namespace

RegistryService::RegistryService(const RegistryConfig& config, std::vector<IpAddress> addresses,
                                 size_t tunnel_mtu, Device& device, SendPlain send)
    : config_(config),
      tunnel_addresses_(std::move(addresses)),
      tunnel_mtu_(tunnel_mtu),
      device_(device),
      send_(std::move(send)),
      responder_(config.zone),
      candidates_(kMaxTracked, kRegistrationLifetime),
      update_budget_(kMaxTracked, kUpdateBudget.refill()),
      answer_(kMaxDnsMessage),
      packet_(kMaxInnerPacket),
      last_notify_(kMaxTracked, kNotifyInterval),
      lookups_(kMaxTracked, kInterest),
      last_move_(kMaxTracked, kMoveNotifyGap) {
  std::vector<std::vector<uint8_t>> name_servers;
  for (const std::string& name : config.name_servers)
    if (auto wire = dnssd::wire_name(name)) name_servers.push_back(std::move(*wire));
  responder_.set_name_servers(std::move(name_servers));
}

void RegistryService::refresh() {
  const uint64_t generation = device_.endpoint_generation();
  if (generation == generation_) return;
  std::vector<PublicKey> changed;
  bool incremental = generation_ != UINT64_MAX &&
                     device_.endpoint_changes_since(
                         generation_, [&](const PublicKey& k) { changed.push_back(k); });
  generation_ = generation;
  if (!incremental) return republish_all();
  std::sort(changed.begin(), changed.end());
  changed.erase(std::unique(changed.begin(), changed.end()), changed.end());
  for (const PublicKey& k : changed) republish(k);
}

dnssd::PublishedPeer RegistryService::published_peer(const Peer& peer) const {
  dnssd::PublishedPeer p{peer.public_key(), *peer.endpoint, 0, {}};
  if (const dnssd::CandidateSet* set = candidates_.get(peer.public_key())) {
    p.candidate_port = set->port;
    p.candidates = set->addresses;
    p.mapped = set->mapped;
  }
  p.allowed = device_.allowed_ips().prefixes_of(&peer);  // wgsd's TXT (§11)
  if (auto it = names_.find(peer.public_key()); it != names_.end()) p.name = it->second;
  return p;
}

dnssd::PublishedPeer RegistryService::self_peer() const {
  // As wgsd's `self`: at SelfEndpoint, else at our port on the address each
  // query came to; allowed = our own tunnel addresses, as hosts.
  dnssd::PublishedPeer p;
  p.key = device_.identity().public_key;
  if (config_.self_endpoint) {
    p.endpoint = *config_.self_endpoint;
  } else {
    p.endpoint.port = listen_port_;
    p.at_local_address = true;
  }
  for (const IpAddress& a : tunnel_addresses_) p.allowed.push_back({a, uint8_t(a.size() * 8)});
  return p;
}

void RegistryService::set_names(std::map<PublicKey, std::string> names) {
  if (names == names_) return;
  names_ = std::move(names);
  ++names_version_;
  generation_ = UINT64_MAX;  // every record may change: republish_all at the next refresh
}

void RegistryService::set_listen_port(uint16_t port) {
  if (port == listen_port_) return;
  listen_port_ = port;
  ++names_version_;  // the self record moves
  generation_ = UINT64_MAX;
}

void RegistryService::republish_all() {
  std::vector<dnssd::PublishedPeer> published;
  confirmed_at_.clear();
  published_at_.clear();
  for (const Peer& peer : device_.peers()) {
    // Only where a peer was seen, never where someone merely told us to aim.
    if (!peer.endpoint || !peer.endpoint_confirmed) continue;
    ++confirmed_at_[*peer.endpoint];
    published_at_[peer.public_key()] = *peer.endpoint;
    published.push_back(published_peer(peer));
  }
  if (config_.self) published.push_back(self_peer());
  responder_.set_peers(std::move(published));
}

void RegistryService::republish(const PublicKey& key) {
  bool was = false;
  if (auto it = published_at_.find(key); it != published_at_.end()) {
    if (auto c = confirmed_at_.find(it->second); c != confirmed_at_.end() && --c->second == 0)
      confirmed_at_.erase(c);
    published_at_.erase(it);
    was = true;
  }
  const Peer* peer = device_.find_peer(key);
  if (!peer || !peer->endpoint || !peer->endpoint_confirmed) {
    if (was) responder_.remove_peer(key);
    return;
  }
  ++confirmed_at_[*peer->endpoint];
  published_at_[key] = *peer->endpoint;
  responder_.upsert_peer(published_peer(*peer));
}

void RegistryService::handle_update(Peer& asker, const dnssd::UdpPacketView& udp, Now now) {
  const PublicKey& key = asker.public_key();
  TokenBucket* budget = update_budget_.touch_or_insert(
      key, now.mono, [&] { return TokenBucket(kUpdateBudget, now.mono); });
  dnssd::ReadUpdate update;
  uint8_t rcode = 0;
  if (!budget || !budget->take(kUpdateBudget, now.mono)) {
    ++updates_limited_;
    update.id = load_be16(udp.payload.data());
    rcode = 5;  // REFUSED: the node tries again at its next Interval
  } else {
    update = dnssd::read_candidate_update(udp.payload, key, config_.zone);
  }
  switch (rcode ? dnssd::UpdateVerdict::kRefused : update.verdict) {
    case dnssd::UpdateVerdict::kOk:
      ++updates_accepted_;
      // Only addresses the peer could own: never ours, loopback, multicast,
      // broadcast or unspecified (every node that looks it up would probe them).
      candidates_refused_ += std::erase_if(
          update.set.addresses, [&](const IpAddress& a) { return refused_candidate(a); });
      if (update.set.addresses.empty()) update.set.port = 0;
      if (update.set.mapped && refused_candidate(update.set.mapped->address)) {
        ++candidates_refused_;
        update.set.mapped.reset();
      }
      set_candidates(key, std::move(update.set), now);
      break;
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

bool RegistryService::refused_candidate(const IpAddress& a) const {
  auto ours = [&](const std::vector<IpAddress>& list) {
    return std::find(list.begin(), list.end(), a) != list.end();
  };
  return !is_candidate_address(a) || ours(own_addresses_) || ours(tunnel_addresses_);
}

void RegistryService::set_own_addresses(std::vector<IpAddress> addresses) {
  own_addresses_ = std::move(addresses);
}

void RegistryService::set_candidates(const PublicKey& peer, dnssd::CandidateSet set, Now now) {
  // Expired or not: an expiry not yet run is still what the responder has.
  const dnssd::CandidateSet* before = candidates_.get(peer);
  const bool new_mapping = set.mapped && (!before || before->mapped != set.mapped);
  if (set.addresses.empty() && !set.mapped) {
    if (!before) return;
    candidates_.erase(peer);
  } else {
    bool same = before && *before == set;
    candidates_.insert(peer, set, now.mono);  // renewed either way
    if (same) return;
  }
  // One peer's records change: the zone's version (source_generation) and
  // that peer's answers, not a rebuild of the table.
  ++candidates_version_;
  responder_.set_candidates(peer, set.port, std::move(set.addresses), set.mapped);
  if (new_mapping) notify_new_mapping(peer, now);
}

void RegistryService::notify_new_mapping(const PublicKey& asker, Now now) {
  for (const PublicKey& target : lookups_.asked_by(asker, now.mono, kMappingNewsWindow))
    notify(target, asker, now, true);
}

std::optional<Instant> RegistryService::next_deadline() const { return candidates_.next_expiry(); }

void RegistryService::run_timers(Now now) {
  std::vector<PublicKey> expired;
  candidates_.expire(now.mono, [&](const PublicKey& k, const auto&) { expired.push_back(k); });
  for (const PublicKey& k : expired) {
    ++candidates_version_;
    responder_.set_candidates(k, 0, {});
  }
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
  if (!plain_budget_allows(from, now)) return;
  auto result = responder_.answer(query, dnssd::QueryAccess::kAllowed,
                                  MutableByteView(answer_.data(), kMaxPlainAnswer));
  if (!result.length) {
    ++dropped_;  // not even a readable DNS header, or a response
    return;
  }
  ++plain_answered_;
  send_(from, ByteView(answer_.data(), result.length));
}

bool RegistryService::plain_budget_allows(const Endpoint& from, Now now) {
  if (plain_budget_.allow(from.address, now.mono)) return true;
  ++plain_limited_;
  return false;
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
                                  MutableByteView(answer_.data(), room),
                                  dnssd::Transport::kDatagram, udp->destination);
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
      lookups_.record(asker.public_key(), *result.asked_about, now.mono);
    // Looking a peer up in the tunnel is what entitles the pair to our relay.
    if (config_.relay) device_.permit_relay(asker.public_key(), *result.asked_about, now.mono);
  }
}

ByteView RegistryService::answer_stream_query(ByteView query,
                                              const std::optional<IpAddress>& from) {
  refresh();
  std::optional<IpAddress> local;
  for (const IpAddress& a : tunnel_addresses_)
    if (from && a.family == from->family && !local) local = a;
  auto result = responder_.answer(query, dnssd::QueryAccess::kAllowed,
                                  MutableByteView(answer_.data(), kMaxDnsMessage),
                                  dnssd::Transport::kStream, local);
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

void RegistryService::notify(const PublicKey& target_key, const PublicKey& asker, Now now,
                             bool again) {
  if (target_key == asker || !discovering_.contains(target_key)) return;
  // The target asked about the asker itself moments ago: it looks already
  // (and this question may well answer its NOTIFY). Telling it again would
  // make it ask again, and so on, every kNotifyInterval. News (`again`) is
  // what its last answer lacked: that goes out.
  if (!again && lookups_.asked_within(target_key, asker, now.mono, kNotifyInterval)) return;
  Peer* target = device_.find_peer(target_key);
  if (!target) return;
  auto pair = std::make_pair(target_key, asker);
  if (!again && last_notify_.find(pair, now.mono)) return;
  if (!tunnel_route(device_, *target, tunnel_addresses_)) return;
  last_notify_.insert(pair, true, now.mono);
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
  if (updates_limited_)
    extra.emplace_back("registry_updates_rate_limited", std::to_string(updates_limited_));
  if (candidates_refused_)
    extra.emplace_back("registry_candidates_refused", std::to_string(candidates_refused_));
  if (dropped_) extra.emplace_back("registry_dropped_malformed", std::to_string(dropped_));
}

}  // namespace wgp
