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
}  // namespace

DiscoveryService::DiscoveryService(const DiscoveryConfig& config,
                                   std::vector<IpAddress> tunnel_addresses, Device& device,
                                   Random& rng)
    : config_(config), tunnel_addresses_(std::move(tunnel_addresses)), device_(device), rng_(rng) {}

void DiscoveryService::refresh_all(Now now) {
  next_refresh_ = now.mono + std::chrono::seconds(config_.interval_seconds);
  query(device_.identity().public_key, now);  // where the registry sees us
  for (const Peer& peer : device_.peers())
    if (peer.public_key() != config_.registry && !device_.has_live_session(peer, now.mono))
      query(peer.public_key(), now);
}

void DiscoveryService::on_handshake_unanswered(const PublicKey& peer, Now now) {
  if (peer != config_.registry) query(peer, now);
}

void DiscoveryService::on_handshake_complete(const PublicKey& peer, Now now) {
  const Peer* p = device_.find_peer(peer);
  Log::info("handshake with ", key_to_base64(peer), " at ",
            p && p->endpoint ? p->endpoint->to_string() : "?", " complete");
  if (peer == config_.registry) refresh_all(now);
}

bool DiscoveryService::send_to_registry(ByteView dns, Now now) {
  Peer* registry = device_.find_peer(config_.registry);
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

void DiscoveryService::query(const PublicKey& key, Now now) {
  // One question about a peer in flight at a time (NOTIFY storms, many
  // unanswered handshakes); once answered, a new reason asks again at once.
  for (const auto& [id, p] : pending_)
    if (p.key == key && now.mono - p.sent < kMinQueryGap) return;
  // Ids 0x0100..0x0400 would make a plain query start like a WireGuard
  // header (`0N 00 00 00`); harmless in the tunnel, but no reason to.
  auto looks_like_wireguard = [](uint16_t id) { return (id & 0xff) == 0 && id >> 8 >= 1 && id >> 8 <= 4; };
  uint16_t id;
  do id = uint16_t(rng_.u32());
  while (pending_.count(id) || looks_like_wireguard(id));
  dns_.clear();
  if (!dnssd::build_query(id, dnssd::instance_name(key, config_.zone), dnssd::kQueryTypeSrv, dns_))
    return;
  if (!send_to_registry(dns_, now)) {
    ++unroutable_;
    return;
  }
  pending_[id] = {key, now.mono};
}

bool DiscoveryService::wants_inner(const Peer& peer, const dnssd::UdpDestination& to) const {
  return to.port == kDnsPort && peer.public_key() == config_.registry &&
         std::find(tunnel_addresses_.begin(), tunnel_addresses_.end(), to.address) !=
             tunnel_addresses_.end();
}

void DiscoveryService::handle_inner(Peer& registry, ByteView ip_packet, Now now) {
  auto udp = dnssd::parse_udp_packet(ip_packet);
  if (!udp || udp->source_port != kDnsPort || udp->payload.size() < 4) return;
  (void)registry;
  bool is_response = udp->payload[2] & 0x80;
  unsigned opcode = (udp->payload[2] >> 3) & 0xF;
  if (is_response && opcode == 0)
    handle_answer(udp->payload, now);
  else if (!is_response && opcode == dnssd::kOpcodeNotify)
    handle_notify(*udp, now);
}

void DiscoveryService::handle_answer(ByteView response, Now now) {
  auto id = dnssd::response_id(response);
  if (!id) return;
  auto it = pending_.find(*id);
  if (it == pending_.end()) return;  // late, after its timeout
  PublicKey key = it->second.key;
  auto answer = dnssd::parse_srv_response(response, *id, key, config_.zone);
  if (answer.status == dnssd::AnswerStatus::kWrongQuestion ||
      answer.status == dnssd::AnswerStatus::kMalformed)
    return;  // not the answer to our question: keep waiting for it
  pending_.erase(it);
  last_answer_ = now.wall;
  if (answer.status != dnssd::AnswerStatus::kOk || !answer.peer) {
    // NXDOMAIN is an answer too: that peer has not reached the registry yet.
    if (answer.status != dnssd::AnswerStatus::kNxDomain &&
        answer.status != dnssd::AnswerStatus::kNoData) {
      ++failures_;
      last_failure_ = answer.status == dnssd::AnswerStatus::kRefused     ? "refused"
                      : answer.status == dnssd::AnswerStatus::kTruncated ? "truncated"
                                                                         : "server error";
    }
    return;
  }
  ++answers_;
  const Endpoint& endpoint = answer.peer->endpoint;
  if (key == device_.identity().public_key) {
    on_own_endpoint(endpoint, now);
    return;
  }
  // Both sides usually learn of each other within a round trip (NOTIFY) and
  // try at once; if their initiations cross, the device sorts it out in a
  // round trip (Device::receive_response).
  Peer* peer = device_.find_peer(key);
  if (!peer) return;
  if (device_.try_candidate(*peer, endpoint, now) == Device::CandidateOutcome::kTried)
    Log::info("discovery: trying peer ", key_to_base64(key), " at ", endpoint.to_string());
}

void DiscoveryService::on_own_endpoint(const Endpoint& endpoint, Now now) {
  if (public_endpoint_ == endpoint) return;
  Log::info("discovery: our public endpoint is ", endpoint.to_string());
  bool moved = public_endpoint_.has_value();
  public_endpoint_ = endpoint;
  if (!moved) return;
  // Our NAT gave us a new mapping (the registry saw it through our
  // authenticated session). Our peers still aim at the old one. A packet to
  // each opens the new mapping towards them; asking about each makes the
  // registry NOTIFY them, so they look us up and try our new address.
  for (Peer& peer : device_.peers()) {
    if (peer.public_key() == config_.registry || !peer.endpoint) continue;
    device_.send_keepalive(peer, now);
    query(peer.public_key(), now);
  }
}

void DiscoveryService::handle_notify(const dnssd::UdpPacketView& udp, Now now) {
  auto notify = dnssd::parse_notify(udp.payload, config_.zone);
  if (!notify) return;
  ++notifies_;
  Log::info("discovery: the registry says ", key_to_base64(notify->asker), " is looking for us");
  // Acknowledge (RFC 1996 §4.7), then look the asker up and try it. Ask even
  // with a live session: the asker may have moved and no longer reach us.
  // The registry sends one NOTIFY per pair per 5 s, which keeps NOTIFY →
  // query → NOTIFY from ping-ponging.
  dns_.clear();
  if (dnssd::build_notify_ack(*notify, config_.zone, dns_)) (void)send_to_registry(dns_, now);
  query(notify->asker, now);
}

void DiscoveryService::expire_pending(Instant now) {
  std::erase_if(pending_, [&](const auto& kv) {
    if (now - kv.second.sent < kQueryTimeout) return false;
    ++failures_;
    last_failure_ = "timeout";
    return true;
  });
}

std::optional<Instant> DiscoveryService::next_deadline() const {
  std::optional<Instant> next = next_refresh_;
  for (const auto& [id, p] : pending_)
    if (!next || p.sent + kQueryTimeout < *next) next = p.sent + kQueryTimeout;
  return next;
}

void DiscoveryService::run_timers(Now now) {
  expire_pending(now.mono);
  if (next_refresh_ && now.mono >= *next_refresh_) refresh_all(now);
}

void DiscoveryService::add_status(ExtraFields& extra) const {
  extra.emplace_back("discovery_registry", key_to_base64(config_.registry));
  extra.emplace_back("discovery_zone", config_.zone);
  extra.emplace_back("public_endpoint", public_endpoint_ ? public_endpoint_->to_string() : "unknown");
  int64_t last_answer =
      last_answer_ ? std::chrono::floor<std::chrono::seconds>(last_answer_->time_since_epoch()).count() : 0;
  extra.emplace_back("discovery_last_answer_unix", std::to_string(last_answer));
  extra.emplace_back("discovery_answers", std::to_string(answers_));
  extra.emplace_back("discovery_failures", std::to_string(failures_));
  if (!last_failure_.empty()) extra.emplace_back("discovery_last_failure", last_failure_);
  extra.emplace_back("discovery_notifies_received", std::to_string(notifies_));
  if (unroutable_)
    extra.emplace_back("discovery_unroutable",
                       std::to_string(unroutable_) + " (no tunnel address towards the registry)");
}

}  // namespace wgp
