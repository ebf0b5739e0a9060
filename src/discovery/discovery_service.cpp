#include "discovery/discovery_service.h"

#include <algorithm>

#include "crypto/keys.h"
#include "discovery/tunnel_route.h"
#include "dnssd/discovery_query.h"
#include "dnssd/notify.h"
#include "util/log.h"

namespace wgp {

namespace {
// An answer not back within this time counts as a failure.
constexpr auto kQueryTimeout = std::chrono::seconds(3);
// While a question about a peer is unanswered, do not repeat it sooner.
constexpr auto kMinQueryGap = std::chrono::milliseconds(500);
// Bytes of IPv6 and UDP headers around a query.
constexpr size_t kHeaderRoom = 48;
// See relay_at_.
constexpr auto kRelayDelay = std::chrono::milliseconds(300);

int64_t unix_seconds(const std::optional<WallTime>& t) {
  return t ? std::chrono::floor<std::chrono::seconds>(t->time_since_epoch()).count() : 0;
}
}  // namespace

DiscoveryService::DiscoveryService(const DiscoveryConfig& config,
                                   std::vector<IpAddress> tunnel_addresses, Device& device,
                                   Random& rng)
    : config_(config),
      tunnel_addresses_(std::move(tunnel_addresses)),
      device_(device),
      rng_(rng),
      registering_(config.local_candidates) {
  for (const PublicKey& key : config_.registries) registries_.push_back({key, {}, {}, 0, 0});
}

DiscoveryService::Registry* DiscoveryService::registry_of(const PublicKey& key) {
  for (Registry& r : registries_)
    if (r.key == key) return &r;
  return nullptr;
}

std::vector<size_t> DiscoveryService::whom_to_ask(Instant now) const {
  auto live = [&](size_t i) {
    const Peer* p = device_.find_peer(registries_[i].key);
    return p && device_.has_live_session(*p, now);
  };
  if (last_answered_ && live(*last_answered_)) return {*last_answered_};
  for (size_t i = 0; i < registries_.size(); ++i)
    if (live(i)) return {i};
  std::vector<size_t> all(registries_.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = i;
  return all;
}

void DiscoveryService::set_local_addresses(std::vector<IpAddress> addresses, uint16_t port,
                                           Now now) {
  if (!config_.local_candidates) return;
  if (addresses.size() > dnssd::kMaxCandidates) addresses.resize(dnssd::kMaxCandidates);
  dnssd::CandidateSet fresh{addresses.empty() ? uint16_t(0) : port, std::move(addresses),
                            local_.mapped};
  if (fresh == local_) return;
  local_ = std::move(fresh);
  for (size_t i = 0; i < registries_.size(); ++i) register_candidates(i, now);
}

void DiscoveryService::set_port_mapping(std::optional<Endpoint> mapped, Now now) {
  if (mapped == local_.mapped) return;
  local_.mapped = mapped;
  registering_ = true;  // from now on, also to withdraw it
  for (size_t i = 0; i < registries_.size(); ++i) register_candidates(i, now);
  if (!mapped) return;
  for (const Peer& peer : device_.peers())
    if (!registry_of(peer.public_key()) && !device_.has_usable_session(peer, now.mono))
      query(peer.public_key(), now);
}

void DiscoveryService::register_candidates(size_t index, Now now) {
  if (!registering_) return;
  dns_.clear();
  if (dnssd::build_candidate_update(next_update_id_++, device_.identity().public_key, config_.zone,
                                    local_, dns_))
    (void)send_to_registry(index, dns_, now);
}

void DiscoveryService::refresh_all(Now now) {
  next_refresh_ = now.mono + std::chrono::seconds(config_.interval_seconds);
  for (size_t i = 0; i < registries_.size(); ++i) register_candidates(i, now);
  // Our own record at every registry: each sees our mapping towards itself.
  for (size_t i = 0; i < registries_.size(); ++i) query(device_.identity().public_key, now, {i});
  for (const Peer& peer : device_.peers())
    if (!registry_of(peer.public_key()) &&
        (!device_.has_usable_session(peer, now.mono) || peer.relay_via))
      query(peer.public_key(), now);
}

void DiscoveryService::on_handshake_unanswered(const PublicKey& peer, Now now) {
  if (!registry_of(peer)) query(peer, now);
}

void DiscoveryService::on_handshake_complete(const PublicKey& peer, Now now) {
  const Peer* p = device_.find_peer(peer);
  Log::info("handshake with ", key_to_base64(peer), " at ",
            p && p->endpoint ? p->endpoint->to_string() : "?", " complete");
  if (registry_of(peer)) refresh_all(now);  // also registers our candidates there
}

bool DiscoveryService::send_to_registry(size_t index, ByteView dns, Now now) {
  Peer* registry = device_.find_peer(registries_[index].key);
  if (!registry) return false;
  auto route = tunnel_route(device_, *registry, tunnel_addresses_);
  if (!route) return false;
  packet_.resize(dns.size() + kHeaderRoom);
  size_t n = dnssd::build_udp_packet(route->ours, kDnsPort, route->theirs, kDnsPort, dns, packet_);
  if (!n) return false;
  // Staged until the registry's session exists (its handshake starts now).
  device_.send_to_peer(*registry, ByteView(packet_.data(), n), now);
  return true;
}

void DiscoveryService::query(const PublicKey& key, Now now, std::vector<size_t> registries) {
  // One question about a peer in flight at a time (NOTIFY storms, many
  // unanswered handshakes); once answered, a new reason asks again at once.
  for (const auto& [id, p] : pending_)
    if (p.key == key && p.asked == registries && now.mono - p.sent < kMinQueryGap) return;
  // Ids 0x0100..0x0400 would make a plain query start like a WireGuard
  // header (`0N 00 00 00`); harmless in the tunnel, but no reason to.
  auto looks_like_wireguard = [](uint16_t id) {
    return (id & 0xff) == 0 && id >> 8 >= 1 && id >> 8 <= 4;
  };
  uint16_t id;
  do id = uint16_t(rng_.u32());
  while (pending_.count(id) || looks_like_wireguard(id));
  dns_.clear();
  if (!dnssd::build_query(id, dnssd::instance_name(key, config_.zone), dnssd::kQueryTypeSrv, dns_))
    return;
  std::vector<size_t> asked;
  for (size_t i : registries)
    if (send_to_registry(i, dns_, now)) asked.push_back(i);
  if (asked.empty()) {
    ++unroutable_;
    return;
  }
  pending_[id] = {key, now.mono, std::move(asked)};
}

bool DiscoveryService::wants_inner(const Peer& peer, const dnssd::UdpDestination& to) const {
  if (to.port != kDnsPort || std::find(tunnel_addresses_.begin(), tunnel_addresses_.end(),
                                       to.address) == tunnel_addresses_.end())
    return false;
  return std::any_of(registries_.begin(), registries_.end(),
                     [&](const Registry& r) { return r.key == peer.public_key(); });
}

void DiscoveryService::handle_inner(Peer& registry, ByteView ip_packet, Now now) {
  auto it = std::find_if(registries_.begin(), registries_.end(),
                         [&](const Registry& r) { return r.key == registry.public_key(); });
  if (it == registries_.end()) return;
  size_t index = size_t(it - registries_.begin());
  auto udp = dnssd::parse_udp_packet(ip_packet);
  if (!udp || udp->source_port != kDnsPort || udp->payload.size() < 4) return;
  bool is_response = udp->payload[2] & 0x80;
  unsigned opcode = (udp->payload[2] >> 3) & 0xF;
  uint8_t rcode = 0;
  if (dnssd::is_update_response(udp->payload, &rcode)) {
    if (rcode != 0) ++updates_refused_;
    return;
  }
  if (is_response && opcode == 0)
    handle_answer(index, udp->payload, now);
  else if (!is_response && opcode == dnssd::kOpcodeNotify)
    handle_notify(index, *udp, now);
}

void DiscoveryService::handle_answer(size_t index, ByteView response, Now now) {
  auto id = dnssd::response_id(response);
  if (!id) return;
  auto it = pending_.find(*id);
  // Late (after its timeout), or for a question this registry was not asked.
  if (it == pending_.end() ||
      std::find(it->second.asked.begin(), it->second.asked.end(), index) == it->second.asked.end())
    return;
  PublicKey key = it->second.key;
  auto answer = dnssd::parse_srv_response(response, *id, key, config_.zone);
  if (answer.status == dnssd::AnswerStatus::kWrongQuestion ||
      answer.status == dnssd::AnswerStatus::kMalformed)
    return;  // not the answer to our question: keep waiting for it
  pending_.erase(it);
  Registry& registry = registries_[index];
  last_answer_ = registry.last_answer = now.wall;
  last_answered_ = index;
  if (answer.status != dnssd::AnswerStatus::kOk || !answer.peer) {
    // NXDOMAIN is an answer too: that peer has not reached the registry yet.
    if (answer.status != dnssd::AnswerStatus::kNxDomain &&
        answer.status != dnssd::AnswerStatus::kNoData) {
      ++failures_;
      ++registry.failures;
      last_failure_ = answer.status == dnssd::AnswerStatus::kRefused     ? "refused"
                      : answer.status == dnssd::AnswerStatus::kTruncated ? "truncated"
                                                                         : "server error";
    }
    return;
  }
  ++answers_;
  ++registry.answers;
  const Endpoint& endpoint = answer.peer->endpoint;
  if (key == device_.identity().public_key) {
    on_own_endpoint(registry, endpoint, now);
    return;
  }
  // Both sides usually learn of each other within a round trip (NOTIFY) and
  // try at once; if their initiations cross, the device sorts it out in a
  // round trip (Device::receive_response).
  Peer* peer = device_.find_peer(key);
  if (!peer) return;
  // The peer's port mapping first (made to be reached from outside), the
  // public endpoint the registry sees, the peer's own addresses: all at once
  // (one initiation to every address; the first authenticated answer wins).
  std::vector<Device::CandidateAddress> addresses;
  std::string tried;
  if (const auto& mapped = answer.peer->mapped; mapped && *mapped != endpoint) {
    addresses.push_back({*mapped, std::nullopt});
    tried = mapped->to_string() + " (mapped), ";
  }
  addresses.push_back({endpoint, std::nullopt});
  tried += endpoint.to_string();
  for (const Endpoint& c : answer.peer->candidates) {
    // The device keeps as many as a peer may publish: the public ones stay.
    if (addresses.size() >= dnssd::kMaxCandidates) break;
    addresses.push_back({c, std::nullopt});
    tried += ", " + c.to_string();
  }
  // Judged before the try: a probe's own initiation makes any session look
  // unsettled for a moment, and a working path (a relayed one included) needs
  // no relay as a fallback.
  const bool had_session = device_.has_usable_session(*peer, now.mono);
  auto outcome = device_.try_candidates(*peer, addresses, now);
  if (outcome == Device::CandidateOutcome::kTried)
    Log::info("discovery: trying peer ", key_to_base64(key), " at ", tried);
  if (outcome != Device::CandidateOutcome::kStatic && !had_session)
    relay_at_.try_emplace(key, now.mono + kRelayDelay);
}

void DiscoveryService::try_relays(Peer& peer, Now now) {
  for (const Registry& r : registries_) {
    const Peer* registry = device_.find_peer(r.key);
    if (!registry || !device_.has_usable_session(*registry, now.mono)) continue;
    if (device_.try_relay(peer, *registry, now) == Device::CandidateOutcome::kTried)
      Log::info("discovery: trying peer ", key_to_base64(peer.public_key()), " through registry ",
                key_to_base64(r.key));
  }
}

void DiscoveryService::on_own_endpoint(Registry& registry, const Endpoint& endpoint, Now now) {
  public_endpoint_ = endpoint;
  if (registry.sees_us_at == endpoint) return;
  Log::info("discovery: registry ", key_to_base64(registry.key), " sees us at ",
            endpoint.to_string());
  bool moved = registry.sees_us_at.has_value();
  registry.sees_us_at = endpoint;
  if (!moved) return;
  // Our NAT gave us a new mapping (the registry saw it through our
  // authenticated session). Our peers still aim at the old one. A packet to
  // each opens the new mapping towards them; asking about each makes the
  // registry NOTIFY them, so they look us up and try our new address.
  for (Peer& peer : device_.peers()) {
    if (registry_of(peer.public_key()) || !peer.endpoint) continue;
    device_.send_keepalive(peer, now);
    query(peer.public_key(), now);
  }
}

void DiscoveryService::handle_notify(size_t index, const dnssd::UdpPacketView& udp, Now now) {
  auto notify = dnssd::parse_notify(udp.payload, config_.zone);
  if (!notify) return;
  ++notifies_;
  Log::info("discovery: registry ", key_to_base64(registries_[index].key), " says ",
            key_to_base64(notify->asker), " is looking for us");
  // Acknowledge (RFC 1996 §4.7), then look the asker up and try it. Ask even
  // with a live session: the asker may have moved and no longer reach us.
  // A registry sends one NOTIFY per pair per 5 s, which keeps NOTIFY →
  // query → NOTIFY from ping-ponging.
  dns_.clear();
  if (dnssd::build_notify_ack(*notify, config_.zone, dns_))
    (void)send_to_registry(index, dns_, now);
  query(notify->asker, now);
}

void DiscoveryService::expire_pending(Instant now) {
  std::erase_if(pending_, [&](const auto& kv) {
    if (now - kv.second.sent < kQueryTimeout) return false;
    ++failures_;
    for (size_t i : kv.second.asked) ++registries_[i].failures;
    last_failure_ = "timeout";
    return true;
  });
}

std::optional<Instant> DiscoveryService::next_deadline() const {
  std::optional<Instant> next = next_refresh_;
  for (const auto& [id, p] : pending_)
    if (!next || p.sent + kQueryTimeout < *next) next = p.sent + kQueryTimeout;
  for (const auto& [key, when] : relay_at_)
    if (!next || when < *next) next = when;
  return next;
}

void DiscoveryService::run_timers(Now now) {
  expire_pending(now.mono);
  for (auto it = relay_at_.begin(); it != relay_at_.end();) {
    if (it->second > now.mono) {
      ++it;
      continue;
    }
    Peer* peer = device_.find_peer(it->first);
    it = relay_at_.erase(it);
    if (peer && !device_.has_usable_session(*peer, now.mono)) try_relays(*peer, now);
  }
  if (next_refresh_ && now.mono >= *next_refresh_) refresh_all(now);
}

void DiscoveryService::add_status(ExtraFields& extra) const {
  std::string keys;
  for (const Registry& r : registries_) keys += (keys.empty() ? "" : ", ") + key_to_base64(r.key);
  extra.emplace_back("discovery_registry", keys);
  extra.emplace_back("discovery_zone", config_.zone);
  extra.emplace_back("public_endpoint",
                     public_endpoint_ ? public_endpoint_->to_string() : "unknown");
  extra.emplace_back("discovery_last_answer_unix", std::to_string(unix_seconds(last_answer_)));
  extra.emplace_back("discovery_answers", std::to_string(answers_));
  extra.emplace_back("discovery_failures", std::to_string(failures_));
  if (!last_failure_.empty()) extra.emplace_back("discovery_last_failure", last_failure_);
  extra.emplace_back("discovery_notifies_received", std::to_string(notifies_));
  if (!local_.addresses.empty()) {
    std::string own;
    for (const IpAddress& a : local_.addresses)
      own += (own.empty() ? "" : ", ") + Endpoint{a, local_.port}.to_string();
    extra.emplace_back("local_candidates", own);
  }
  if (updates_refused_)
    extra.emplace_back("discovery_updates_refused", std::to_string(updates_refused_));
  if (unroutable_)
    extra.emplace_back("discovery_unroutable",
                       std::to_string(unroutable_) + " (no tunnel address towards the registry)");
  // Each registry's state, when there are several.
  if (registries_.size() < 2) return;
  for (size_t i = 0; i < registries_.size(); ++i) {
    const Registry& r = registries_[i];
    const Peer* p = device_.find_peer(r.key);
    bool live = p && p->keypairs.current() && p->last_authenticated_receive;
    std::string state = key_to_base64(r.key) + (live ? " up" : " down") + ", sees us at " +
                        (r.sees_us_at ? r.sees_us_at->to_string() : "unknown") + ", " +
                        std::to_string(r.answers) + " answers, " + std::to_string(r.failures) +
                        " failures";
    extra.emplace_back("discovery_registry_" + std::to_string(i + 1), state);
  }
}

}  // namespace wgp
