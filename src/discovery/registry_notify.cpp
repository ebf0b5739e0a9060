// RegistryService: whom a NOTIFY goes to besides the peer someone asked
// about (registry_service.cpp), and the relay offer. The registry remembers
// who asked about whom in the tunnel for kInterest; when a peer's endpoint
// moves, that peer and those who asked about it are told at once, so the
// two sides of a tunnel punch the new mapping together within a second or
// so, whatever their Interval (docs/discovery.md, "When a NAT remaps").
#include "crypto/keys.h"
#include "discovery/registry_service.h"
#include "discovery/tunnel_route.h"
#include "dnssd/notify.h"
#include "dnssd/relay_offer.h"
#include "util/log.h"

namespace wgp {

namespace {
// How long a question marks the asker as interested in a peer's moves: a
// node asks when it starts talking to a peer (and again only when that goes
// wrong), so this covers the first minutes of a tunnel; later moves reach
// its peers through the moved peer itself (DiscoveryService asks about each
// peer it talks to when the registry tells it it moved).
constexpr auto kInterest = std::chrono::minutes(10);
// At most this many remembered questions; the oldest go first.
constexpr size_t kMaxQuestions = 65536;
// A moved peer's NOTIFYs at most this often.
constexpr auto kMoveNotifyGap = std::chrono::seconds(1);
}  // namespace

void RegistryService::note_question(const PublicKey& asker, const PublicKey& about, Instant now) {
  auto key = std::make_pair(about, asker);
  questions_[key] = now;
  question_order_.emplace_back(now, key);
  // Expired (or superseded by a later question of the same pair) from the
  // front; past the bound, the oldest.
  while (!question_order_.empty()) {
    auto& [when, pair] = question_order_.front();
    auto it = questions_.find(pair);
    const bool stale = it == questions_.end() || it->second != when;
    if (!stale && now - when < kInterest && questions_.size() <= kMaxQuestions) break;
    if (!stale) questions_.erase(it);
    question_order_.pop_front();
  }
}

bool RegistryService::asked_within(const PublicKey& asker, const PublicKey& about, Instant now,
                                   Duration window) const {
  auto it = questions_.find(std::make_pair(about, asker));
  return it != questions_.end() && now - it->second < window;
}

void RegistryService::send_notify(Peer& target, const PublicKey& about, Now now) {
  auto route = tunnel_route(device_, target, tunnel_addresses_);
  if (!route) return;
  notify_.clear();
  if (!dnssd::build_notify(next_notify_id_++, about, config_.zone, notify_)) return;
  size_t n =
      dnssd::build_udp_packet(route->ours, kDnsPort, route->theirs, kDnsPort, notify_, packet_);
  if (!n) return;
  ++notifies_sent_;
  device_.send_to_peer(target, ByteView(packet_.data(), n), now);
}

void RegistryService::on_endpoint_moved(Peer& peer, Now now) {
  const PublicKey key = peer.public_key();
  if (!discovering_.contains(key)) return;  // a stock peer: nobody to tell
  auto last = last_move_.find(key);
  if (last != last_move_.end() && now.mono - last->second < kMoveNotifyGap) return;
  if (last_move_.size() > 4096)
    std::erase_if(last_move_,
                  [&](const auto& kv) { return now.mono - kv.second >= kMoveNotifyGap; });
  last_move_[key] = now.mono;
  // The peer itself: "your record changed" (it opens its NAT towards the
  // peers it talks to and asks about them, which tells them too).
  send_notify(peer, key, now);
  size_t told = 0;
  for (auto it = questions_.lower_bound({key, PublicKey{}});
       it != questions_.end() && it->first.first == key; ++it) {
    if (now.mono - it->second >= kInterest || !discovering_.contains(it->first.second)) continue;
    if (Peer* asker = device_.find_peer(it->first.second)) {
      send_notify(*asker, key, now);
      ++told;
    }
  }
  move_notifies_ += 1 + told;
  Log::info("registry: peer ", key_to_base64(key), " moved to ",
            peer.endpoint ? peer.endpoint->to_string() : "?", "; told it and ", told,
            told == 1 ? " peer that asked about it" : " peers that asked about it");
}

bool RegistryService::answer_relay_offer(Peer& asker, const dnssd::UdpPacketView& udp, Now now) {
  const PublicKey& self = device_.identity().public_key;
  auto id = dnssd::relay_offer_question(udp.payload, self, config_.zone);
  if (!id) return false;
  notify_.clear();
  if (!dnssd::build_relay_offer(*id, self, config_.zone, config_.relay, notify_)) return true;
  size_t n = dnssd::build_udp_packet(udp.destination, kDnsPort, udp.source, udp.source_port,
                                     notify_, packet_);
  if (n) {
    ++tunnel_answered_;
    device_.send_to_peer(asker, ByteView(packet_.data(), n), now);
  }
  return true;
}

}  // namespace wgp
