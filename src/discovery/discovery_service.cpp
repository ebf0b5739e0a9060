// DiscoveryService: questions to the registries and what comes back (answers,
// NOTIFYs, UPDATE responses). The rounds of a search are in
// discovery_search.cpp, status in discovery_status.cpp.
#include "discovery/discovery_service.h"

#include <algorithm>

#include "crypto/keys.h"
#include "discovery/tunnel_route.h"
#include "dnssd/discovery_query.h"
#include "dnssd/notify.h"
#include "dnssd/relay_offer.h"
#include "util/log.h"

namespace wgp {

namespace {
// An answer not back within this time counts as a failure.
constexpr auto kQueryTimeout = std::chrono::seconds(3);
// While a question about a peer is unanswered, do not repeat it sooner.
constexpr auto kMinQueryGap = std::chrono::milliseconds(500);
// Bytes of IPv6 and UDP headers around a query.
constexpr size_t kHeaderRoom = 48;
// RFC 2136 RCODEs of an UPDATE response that mean "not your zone".
constexpr uint8_t kRcodeRefused = 5;
constexpr uint8_t kRcodeNotZone = 10;
}  // namespace

DiscoveryService::DiscoveryService(const DiscoveryConfig& config,
                                   std::vector<IpAddress> tunnel_addresses, Device& device,
                                   Random& rng)
    : config_(config),
      tunnel_addresses_(std::move(tunnel_addresses)),
      device_(device),
      rng_(rng),
      registering_(config.local_candidates) {
  for (const PublicKey& key : config_.registries) registries_.push_back({.key = key});
}

const DiscoveryService::Registry* DiscoveryService::registry_of(const PublicKey& key) const {
  for (const Registry& r : registries_)
    if (r.key == key) return &r;
  return nullptr;
}

DiscoveryService::Registry* DiscoveryService::registry_of(const PublicKey& key) {
  return const_cast<Registry*>(std::as_const(*this).registry_of(key));
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
  // The peers we look for now try the mapping at once (the registry tells
  // them of our question); the peers we asked about lately hear of it from
  // the registry. An idle one learns of it when it next looks us up.
  for (const Peer& peer : device_.peers())
    if (!registry_of(peer.public_key()) && wanted(peer, now.mono)) query(peer.public_key(), now);
}

void DiscoveryService::register_candidates(size_t index, Now now) {
  if (!registering_) return;
  dns_.clear();
  if (dnssd::build_candidate_update(next_update_id_++, device_.identity().public_key, config_.zone,
                                    local_, dns_))
    (void)send_to_registry(index, dns_, now);
}

void DiscoveryService::start(Now now) {
  for (Registry& r : registries_) r.relays.reset();
  refresh_all(now);
}

void DiscoveryService::refresh_all(Now now) {
  next_refresh_ = now.mono + std::chrono::seconds(config_.interval_seconds);
  for (size_t i = 0; i < registries_.size(); ++i) {
    register_candidates(i, now);
    // Our own record at every registry: each sees our mapping towards itself.
    query(device_.identity().public_key, now, {i});
    if (!registries_[i].relays) query(registries_[i].key, now, {i}, Question::kRelayOffer);
  }
  // A relayed path in use is probed for a direct one; an idle tunnel, relayed
  // or not, is left alone.
  const auto recent = std::chrono::seconds(config_.interval_seconds);
  for (const Peer& peer : device_.peers()) {
    auto sent = peer.timers.last_data_sent();
    if (peer.relay_via && !registry_of(peer.public_key()) && sent && now.mono - *sent < recent)
      query(peer.public_key(), now);
  }
}

void DiscoveryService::on_handshake_complete(const PublicKey& key, Now now) {
  const Peer* peer = device_.find_peer(key);
  if (peer && peer->endpoint && logged_at_[key] != *peer->endpoint) {
    logged_at_[key] = *peer->endpoint;
    Log::info("handshake with ", key_to_base64(key), " at ", peer->endpoint->to_string(),
              " complete");
  }
  if (Registry* registry = registry_of(key)) {
    refresh_all(now);  // also registers our candidates there
    // A new session may be a restarted registry, with another Relay = line.
    if (registry->relays)
      query(key, now, {size_t(registry - registries_.data())}, Question::kRelayOffer);
    return;
  }
  searches_.erase(key);
  relay_at_.erase(key);
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

void DiscoveryService::query(const PublicKey& key, Now now, std::vector<size_t> registries,
                             Question question) {
  // One question about a peer in flight at a time (NOTIFY storms, many
  // unanswered handshakes); once answered, a new reason asks again at once.
  for (const auto& [id, p] : pending_)
    if (p.key == key && p.question == question && p.asked == registries &&
        now.mono - p.sent < kMinQueryGap)
      return;
  // Ids 0x0100..0x0400 would make a plain query start like a WireGuard
  // header (`0N 00 00 00`); harmless in the tunnel, but no reason to.
  auto looks_like_wireguard = [](uint16_t id) {
    return (id & 0xff) == 0 && id >> 8 >= 1 && id >> 8 <= 4;
  };
  uint16_t id;
  do id = uint16_t(rng_.u32());
  while (pending_.count(id) || looks_like_wireguard(id));
  dns_.clear();
  const uint16_t type =
      question == Question::kRelayOffer ? dnssd::kQueryTypeTxt : dnssd::kQueryTypeSrv;
  if (!dnssd::build_query(id, dnssd::instance_name(key, config_.zone), type, dns_)) return;
  std::vector<size_t> asked;
  for (size_t i : registries)
    if (send_to_registry(i, dns_, now)) asked.push_back(i);
  if (asked.empty()) {
    ++unroutable_;
    return;
  }
  pending_[id] = {key, now.mono, std::move(asked), question};
}

bool DiscoveryService::wants_inner(const Peer& peer, const dnssd::UdpDestination& to) const {
  if (to.port != kDnsPort || std::find(tunnel_addresses_.begin(), tunnel_addresses_.end(),
                                       to.address) == tunnel_addresses_.end())
    return false;
  return registry_of(peer.public_key()) != nullptr;
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
    handle_update_response(index, rcode);
    return;
  }
  if (is_response && opcode == 0)
    handle_answer(index, udp->payload, now);
  else if (!is_response && opcode == dnssd::kOpcodeNotify)
    handle_notify(index, *udp, now);
}

void DiscoveryService::handle_update_response(size_t index, uint8_t rcode) {
  if (rcode == 0) return;
  ++updates_refused_;
  if (rcode == kRcodeNotZone || rcode == kRcodeRefused)
    report_zone_refused(registries_[index], "our candidates UPDATE");
}

void DiscoveryService::report_zone_refused(Registry& registry, const char* what) {
  if (registry.zone_refused) return;
  registry.zone_refused = true;
  Log::info("discovery: registry ", key_to_base64(registry.key), " refused ", what, " for zone ",
            config_.zone, ": check that [Discovery] Zone here is the registry's [Registry] Zone");
}

void DiscoveryService::handle_answer(size_t index, ByteView response, Now now) {
  auto id = dnssd::response_id(response);
  if (!id) return;
  auto it = pending_.find(*id);
  // Late (after its timeout), or for a question this registry was not asked.
  if (it == pending_.end() ||
      std::find(it->second.asked.begin(), it->second.asked.end(), index) == it->second.asked.end())
    return;
  if (it->second.question == Question::kRelayOffer) {
    auto offer = dnssd::parse_relay_offer(response, *id, it->second.key, config_.zone);
    if (!offer) return;  // not the answer: keep waiting for it (or time out)
    pending_.erase(it);
    note_relay_offer(registries_[index], *offer);
    return;
  }
  PublicKey key = it->second.key;
  auto answer = dnssd::parse_srv_response(response, *id, key, config_.zone);
  if (answer.status == dnssd::AnswerStatus::kWrongQuestion ||
      answer.status == dnssd::AnswerStatus::kMalformed)
    return;  // not the answer to our question: keep waiting for it
  last_rtt_ = now.mono - it->second.sent;
  pending_.erase(it);
  Registry& registry = registries_[index];
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
      // A registry refuses names outside its zone: ours is not its.
      if (answer.status == dnssd::AnswerStatus::kRefused)
        report_zone_refused(registry, "our question");
    }
    return;
  }
  // "answers" and "last answer" count the same thing: a record given.
  ++answers_;
  ++registry.answers;
  last_answer_ = registry.last_answer = now.wall;
  const Endpoint& endpoint = answer.peer->endpoint;
  if (key == device_.identity().public_key) {
    on_own_endpoint(registry, endpoint, now);
    return;
  }
  Peer* peer = device_.find_peer(key);
  if (!peer) return;
  // The peer's port mapping first (made to be reached from outside), the
  // public endpoint the registry sees, the peer's own addresses (all tried
  // at once; the first authenticated answer wins).
  std::vector<Device::CandidateAddress> addresses;
  if (const auto& mapped = answer.peer->mapped; mapped && *mapped != endpoint)
    addresses.push_back({*mapped, std::nullopt});
  addresses.push_back({endpoint, std::nullopt});
  const size_t behind_nat = addresses.size();
  for (const Endpoint& c : answer.peer->candidates) {
    // The device keeps as many as a peer may publish: the public ones stay.
    if (addresses.size() >= dnssd::kMaxCandidates) break;
    addresses.push_back({c, std::nullopt});
  }
  on_peer_answer(*peer, std::move(addresses), behind_nat, now);
}

void DiscoveryService::note_relay_offer(Registry& registry, bool relays) {
  if (registry.relays != relays)
    Log::info("discovery: registry ", key_to_base64(registry.key),
              relays ? " relays for peers without a direct path" : " offers no relay");
  registry.relays = relays;
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
  // authenticated session). The peers we talk to still aim at the old one:
  // open ours towards them, and ask about each, which makes the registry
  // NOTIFY them, so they look us up and probe our new address.
  open_towards_peers(now);
  for (Peer& peer : device_.peers())
    if (!registry_of(peer.public_key()) && peer.endpoint && peer.endpoint_confirmed &&
        device_.has_usable_session(peer, now.mono))
      query(peer.public_key(), now);
}

void DiscoveryService::open_towards_peers(Now now) {
  for (Peer& peer : device_.peers())
    if (!registry_of(peer.public_key()) && peer.endpoint && peer.endpoint_confirmed &&
        device_.has_usable_session(peer, now.mono))
      device_.send_opener(*peer.endpoint);
}

void DiscoveryService::handle_notify(size_t index, const dnssd::UdpPacketView& udp, Now now) {
  auto notify = dnssd::parse_notify(udp.payload, config_.zone);
  if (!notify) return;
  ++notifies_;
  // Acknowledge (RFC 1996 §4.7) first.
  dns_.clear();
  if (dnssd::build_notify_ack(*notify, config_.zone, dns_))
    (void)send_to_registry(index, dns_, now);
  const std::string registry = key_to_base64(registries_[index].key);
  if (notify->asker == device_.identity().public_key) {
    // Our own record changed: the registry saw us at a new address. Open our
    // NAT towards the peers in use before they probe us there, and look at
    // the record (on_own_endpoint tells those peers).
    Log::info("discovery: registry ", registry, " says our address changed");
    open_towards_peers(now);
    query(notify->asker, now, {index});
    return;
  }
  // A peer looks for us (it has a packet for us, or its handshake went
  // unanswered), or moved: look it up; the answer decides whether to punch.
  // The registry sends no NOTIFY back for our question (the asker looks
  // already), so NOTIFY → query → NOTIFY cannot ping-pong.
  Log::info("discovery: registry ", registry, " says ", key_to_base64(notify->asker),
            " is looking for us or moved");
  if (registry_of(notify->asker)) return;
  // It may have lost its session with us (a restart) while ours looks fine,
  // and will probe where it saw us: our NAT must let that in, so open it
  // now, before the probe arrives.
  if (Peer* peer = device_.find_peer(notify->asker); peer && peer->endpoint)
    device_.send_opener(*peer->endpoint);
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
  auto consider = [&](Instant when) {
    if (!next || when < *next) next = when;
  };
  for (const auto& [id, p] : pending_) consider(p.sent + kQueryTimeout);
  for (const auto& [key, when] : relay_at_) consider(when);
  for (const auto& [key, s] : searches_) {
    if (s.probe_at) consider(*s.probe_at);
    if (s.next_round && !s.gave_up) consider(*s.next_round);
  }
  return next;
}

void DiscoveryService::run_timers(Now now) {
  expire_pending(now.mono);
  run_searches(now);
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

}  // namespace wgp
