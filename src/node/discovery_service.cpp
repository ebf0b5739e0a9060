#include "node/discovery_service.h"

#include <algorithm>

#include "crypto/keys.h"
#include "dnssd/discovery_query.h"
#include "dnssd/notify.h"
#include "util/log.h"

namespace wgp {

namespace {
constexpr uint16_t kSrv = 33;
constexpr uint16_t kDnsPort = 53;
// An answer not back within this time counts as a failure.
constexpr auto kQueryTimeout = std::chrono::seconds(3);
// While a question about a peer is unanswered, do not repeat it sooner.
constexpr auto kMinQueryGap = std::chrono::milliseconds(500);
// How long the greater key waits before punching (see punch_at_): a few
// round trips on most paths, far below the 5 s retry of a lost handshake.
constexpr auto kPunchStagger = std::chrono::milliseconds(300);
}  // namespace

DiscoveryService::DiscoveryService(const DiscoveryConfig& config, Device& device, Random& rng,
                                   SendPlain send)
    : config_(config), device_(device), rng_(rng), send_(std::move(send)) {}

bool DiscoveryService::has_live_session(const Peer& peer, Instant now) const {
  const Keypair* kp = peer.keypairs.current();
  return kp && kp->usable_for_sending(now) && !peer.timers.pending(PeerTimer::kRetransmitHandshake);
}

void DiscoveryService::refresh_all(Now now) {
  next_refresh_ = now.mono + std::chrono::seconds(config_.interval_seconds);
  query(device_.identity().public_key, now);  // where the registry sees us
  for (const Peer& peer : device_.peers())
    if (peer.public_key() != config_.registry && !has_live_session(peer, now.mono))
      query(peer.public_key(), now);
}

void DiscoveryService::on_handshake_unanswered(Peer& peer, Now now) {
  if (peer.public_key() != config_.registry) query(peer.public_key(), now);
}

void DiscoveryService::query(const PublicKey& key, Now now) {
  const Peer* registry = device_.find_peer(config_.registry);
  if (!registry || !registry->endpoint) return;
  // One question about a peer in flight at a time (NOTIFY storms, many
  // unanswered handshakes); once answered, a new reason asks again at once.
  for (const auto& [id, p] : pending_)
    if (p.key == key && now.mono - p.sent < kMinQueryGap) return;

  // Ids 0x0100..0x0400 would make the query start like a WireGuard header
  // (`0N 00 00 00`); the demultiplexer copes, but why make it.
  auto looks_like_wireguard = [](uint16_t id) { return (id & 0xff) == 0 && id >> 8 >= 1 && id >> 8 <= 4; };
  uint16_t id;
  do id = uint16_t(rng_.u32()); while (pending_.count(id) || looks_like_wireguard(id));
  pending_[id] = {key, now.mono};
  buffer_.clear();
  dnssd::build_query(id, dnssd::instance_name(key, config_.zone), kSrv, buffer_);
  send_(*registry->endpoint, buffer_);
}

void DiscoveryService::on_handshake_complete(Peer& peer, Now now) {
  Log::info("handshake with ", key_to_base64(peer.public_key()), " at ",
            peer.endpoint ? peer.endpoint->to_string() : "?", " complete");
  if (peer.public_key() == config_.registry) refresh_all(now);
}

bool DiscoveryService::handle_response(ByteView datagram, const Endpoint& from, Now now) {
  auto id = dnssd::response_id(datagram);
  if (!id) return false;
  auto it = pending_.find(*id);
  if (it == pending_.end()) return false;
  // Only the registry's endpoint may answer: anything else is a spoof.
  const Peer* registry = device_.find_peer(config_.registry);
  if (!registry || registry->endpoint != from) return false;
  PublicKey key = it->second.key;
  auto answer = dnssd::parse_srv_response(datagram, *id, key, config_.zone);
  // Not the answer to our question (a stray or forged reply): keep waiting.
  if (answer.status == dnssd::AnswerStatus::kWrongId ||
      answer.status == dnssd::AnswerStatus::kWrongQuestion ||
      answer.status == dnssd::AnswerStatus::kMalformed)
    return true;
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
    return true;
  }
  ++answers_;
  const Endpoint& endpoint = answer.peer->endpoint;
  if (key == device_.identity().public_key) {
    if (public_endpoint_ == endpoint) return true;
    Log::info("discovery: our public endpoint is ", endpoint.to_string());
    bool moved = public_endpoint_.has_value();
    public_endpoint_ = endpoint;
    // Our NAT gave us a new mapping: every direct peer still aims at the old
    // one, and its NAT admits only that. Punch again towards each; asking
    // about them makes the registry NOTIFY them, so they punch back.
    if (moved) {
      for (Peer& peer : device_.peers()) {
        if (peer.public_key() == config_.registry || !peer.endpoint) continue;
        peer.last_sent_handshake.reset();
        device_.initiate_handshake(peer, now);
        query(peer.public_key(), now);
      }
    }
    return true;
  }
  Peer* peer = device_.find_peer(key);
  if (!peer || peer->endpoint_source == EndpointSource::kConfig) return true;  // static wins
  bool moved = peer->endpoint != endpoint;
  if (moved) {
    Log::info("discovery: peer ", key_to_base64(key), " is at ", endpoint.to_string());
    device_.set_endpoint(*peer, endpoint, EndpointSource::kDiscovered);
    // A fresh address deserves a handshake now, not after the 5 s rate limit
    // that an initiation to the old address started.
    peer->last_sent_handshake.reset();
  }
  if (moved || !has_live_session(*peer, now.mono)) {
    if (device_.identity().public_key < key)
      punch(key, now);
    else
      punch_at_.try_emplace(key, now.mono + kPunchStagger);
  }
  return true;
}

void DiscoveryService::punch(PublicKey key, Now now) {
  punch_at_.erase(key);
  Peer* peer = device_.find_peer(key);
  if (peer && peer->endpoint && !has_live_session(*peer, now.mono))
    device_.initiate_handshake(*peer, now);
}

bool DiscoveryService::handle_inner(Peer& peer, const dnssd::UdpPacketView& udp, Now now) {
  if (peer.public_key() != config_.registry || udp.source_port != kDnsPort) return false;
  auto notify = dnssd::parse_notify(udp.payload, config_.zone);
  if (!notify) return false;
  ++notifies_;
  Log::info("discovery: the registry says ", key_to_base64(notify->asker), " is looking for us");
  // Acknowledge (RFC 1996 §4.7) so the registry does not wonder, then look
  // the asker up and punch towards it.
  buffer_.clear();
  dnssd::build_notify_ack(*notify, config_.zone, buffer_);
  std::vector<uint8_t> packet(buffer_.size() + 48);
  size_t n = dnssd::build_udp_packet(udp.destination, udp.destination_port, udp.source,
                                     udp.source_port, buffer_, packet);
  if (n) device_.send_to_peer(peer, ByteView(packet.data(), n), now);
  // Ask even with a live session: the asker may have moved and no longer
  // reach us. The registry sends one NOTIFY per pair per 5 s, which is what
  // keeps NOTIFY → query → NOTIFY from ping-ponging.
  query(notify->asker, now);
  return true;
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
  for (const auto& [key, when] : punch_at_)
    if (!next || when < *next) next = when;
  return next;
}

void DiscoveryService::run_timers(Now now) {
  expire_pending(now.mono);
  while (!punch_at_.empty()) {
    auto due = std::find_if(punch_at_.begin(), punch_at_.end(),
                            [&](const auto& kv) { return kv.second <= now.mono; });
    if (due == punch_at_.end()) break;
    PublicKey key = due->first;  // punch() erases the entry `due` points into
    punch(key, now);
  }
  if (next_refresh_ && now.mono >= *next_refresh_) refresh_all(now);
}

void DiscoveryService::add_status(ExtraFields& extra, Now now) const {
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
}

}  // namespace wgp
