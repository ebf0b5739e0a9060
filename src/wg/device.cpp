// Device: configuration, peers and the load estimate. The receive path is in
// device_receive.cpp, the send path in device_send.cpp, timers in
// device_timers.cpp.
#include "wg/device.h"

#include <algorithm>

namespace wgp {

using namespace noise;

namespace {
// The largest datagram (64 KiB) and then some: plaintext or message + headers.
constexpr size_t kScratchSize = 65536 + 64;
// An answer (the observed mapping and the peer's own addresses) and the
// relays fit: a probe's memory is never pushed out by the answer itself.
static_assert(Peer::kMaxCandidates >= 1 + kMaxOwnCandidates + 4);
}  // namespace

Device::Device(Random& rng, DeviceOutput& out)
    : rng_(rng), out_(out), rx_scratch_(kScratchSize), tx_scratch_(kScratchSize) {}

Device::~Device() { remove_all_peers(); }

void Device::set_private_key(const PrivateKey& key) {
  if (identity_.has_private_key && key == identity_.private_key) return;
  identity_ = LocalIdentity::from_private_key(key);
  cookie_checker_.set_keys(identity_.mac1_key, identity_.cookie_key);
  // A peer that now carries our own public key cannot be talked to.
  if (Peer* self = find_peer_mut(identity_.public_key); self && identity_.has_private_key)
    remove_peer(self);
  for (Peer& peer : peers_) {
    peer.keys.rebind(identity_);
    if (peer.handshake.local_index && peer.handshake.state != HandshakeState::kZeroed)
      indices_.release(peer.handshake.local_index);
    peer.handshake.clear();
    release_crossed_index(peer);
    peer.keypairs.invalidate_for_sending();
    peer.last_sent_handshake.reset();  // so a new handshake starts at once
  }
}

Peer* Device::add_peer(const PublicKey& key) {
  if (identity_.has_private_key && key == identity_.public_key) return nullptr;
  if (Peer* existing = find_peer_mut(key)) return existing;
  Peer* peer = &peers_.emplace_back(key, identity_);
  peer->timers.report_deadlines_to(&deadline_bound_);
  peers_by_key_.emplace(key, peer);
  return peer;
}

Peer* Device::find_peer_mut(const PublicKey& key) const {
  auto it = peers_by_key_.find(key);
  return it == peers_by_key_.end() ? nullptr : it->second;
}

Peer* Device::find_peer(const PublicKey& key) { return find_peer_mut(key); }

const Peer* Device::find_peer(const PublicKey& key) const { return find_peer_mut(key); }

void Device::remove_peer(Peer* peer) {
  if (!peer) return;
  allowed_ips_.remove_peer(peer);
  zero_key_material(*peer);
  move_endpoint(*peer, std::nullopt);
  if (relay_) relay_->forget(peer->public_key());
  peers_by_key_.erase(peer->public_key());
  note_endpoint_change(*peer);
  peers_.remove_if([&](const Peer& p) { return &p == peer; });
}

void Device::remove_all_peers() {
  while (!peers_.empty()) remove_peer(&peers_.front());
}

void Device::set_preshared_key(Peer& peer, const PresharedKey& psk) {
  peer.keys.preshared_key = psk.clone();
}

void Device::set_endpoint(Peer& peer, const Endpoint& endpoint, EndpointSource source) {
  if (peer.endpoint != endpoint) {
    peer.endpoint_confirmed = false;
    move_endpoint(peer, endpoint);
  }
  peer.endpoint_source = source;
  note_endpoint_change(peer);
}

void Device::move_endpoint(Peer& peer, const std::optional<Endpoint>& to) {
  if (peer.endpoint) {
    auto [first, last] = by_endpoint_.equal_range(*peer.endpoint);
    for (auto it = first; it != last; ++it)
      if (it->second == &peer) {
        by_endpoint_.erase(it);
        break;
      }
  }
  peer.endpoint = to;
  peer.relay_via.reset();
  if (!to) return;
  // Another peer already there is the relay this one is reached through.
  auto others = by_endpoint_.equal_range(*to);
  if (others.first != others.second) peer.relay_via = others.first->second->public_key();
  by_endpoint_.emplace(*to, &peer);
}

Peer* Device::peer_at(const Endpoint& at, const Peer* except) const {
  auto [first, last] = by_endpoint_.equal_range(at);
  for (auto it = first; it != last; ++it)
    if (it->second != except && it->second->endpoint_confirmed) return it->second;
  return nullptr;
}

bool Device::has_live_session(const Peer& peer, Instant now) const {
  const Keypair* kp = peer.keypairs.current();
  return kp && kp->usable_for_sending(now) && peer.last_authenticated_receive &&
         now - *peer.last_authenticated_receive < kKeepaliveTimeout + kRekeyTimeout;
}

bool Device::has_usable_session(const Peer& peer, Instant now) const {
  if (has_live_session(peer, now)) return true;
  const Keypair* kp = peer.keypairs.current();
  return kp && kp->usable_for_sending(now) && !peer.timers.pending(PeerTimer::kRetransmitHandshake);
}

std::optional<Duration> Device::silent_for(const Peer& peer, Instant now) const {
  constexpr Duration kHealthyReply = kKeepaliveTimeout + std::chrono::seconds(1);
  auto since = peer.timers.awaiting_reply_since();
  if (!since || now - *since <= kHealthyReply) return std::nullopt;
  return now - *since;
}

Device::CandidateOutcome Device::try_candidate(Peer& peer, const Endpoint& address, Now now) {
  CandidateAddress one{address, std::nullopt};
  return try_candidates(peer, std::span(&one, 1), now);
}

Device::CandidateOutcome Device::try_relay(Peer& peer, const Peer& relay, Now now) {
  if (!relay.endpoint) return CandidateOutcome::kPending;
  CandidateAddress one{*relay.endpoint, relay.public_key()};
  return try_candidates(peer, std::span(&one, 1), now);
}

bool Device::acceptable_direct(const CandidateAddress& a) const {
  // Whoever named them, some addresses get no handshake: our own, and what
  // no peer can own (loopback, multicast, broadcast, unspecified).
  return is_peer_destination(a.address.address) && !is_own_address(a.address.address);
}

void Device::offer_candidates(Peer& peer, std::span<const CandidateAddress> addresses) {
  if (std::none_of(addresses.begin(), addresses.end(),
                   [](const CandidateAddress& a) { return !a.relay; }))
    return;  // a relay alone: what was offered stays
  peer.offered.clear();
  for (const CandidateAddress& a : addresses)
    if (!a.relay && acceptable_direct(a)) peer.offered.push_back(a.address);
}

Device::CandidateOutcome Device::try_candidates(Peer& peer,
                                                std::span<const CandidateAddress> addresses,
                                                Now now) {
  if (peer.endpoint_source == EndpointSource::kConfig) return CandidateOutcome::kStatic;
  // A relay is a peer of ours, at its confirmed endpoint.
  auto acceptable = [&](const CandidateAddress& a) { return a.relay || acceptable_direct(a); };
  offer_candidates(peer, addresses);
  const bool live = has_live_session(peer, now.mono);
  const bool usable = has_usable_session(peer, now.mono);
  // A handshake with the peer is under way, younger than REKEY_TIMEOUT: our
  // initiation in flight, or our response to the peer's waiting for its
  // confirmation. Another initiation would only supersede it.
  const bool recent =
      peer.last_sent_handshake && now.mono - *peer.last_sent_handshake < kRekeyTimeout;
  const bool in_flight =
      recent && peer.handshake.state == HandshakeState::kInitiationCreated &&
      peer.handshake.local_index == load_le32(&peer.initiation[kInitiationSenderOffset]);
  const bool handshaking = in_flight || (recent && peer.keypairs.next());
  // Forget what was tried long ago: a handshake gives up after 90 s.
  std::erase_if(peer.candidates,
                [&](const Peer::Candidate& c) { return now.mono - c.tried >= kRekeyAttemptTime; });
  std::vector<Endpoint> due;
  bool all_endpoint = true;
  for (const CandidateAddress& a : addresses) {
    if (!acceptable(a)) continue;
    if (peer.endpoint == a.address && peer.endpoint_confirmed && (usable || handshaking)) continue;
    all_endpoint = false;
    auto known = std::find_if(peer.candidates.begin(), peer.candidates.end(),
                              [&](const Peer::Candidate& c) { return c.address == a.address; });
    // One probe per address per REKEY_TIMEOUT, remembered whatever the
    // answers say: a full list of fresh probes takes no new address.
    if (known != peer.candidates.end() && now.mono - known->tried < kRekeyTimeout) continue;
    if (known != peer.candidates.end()) {
      known->tried = now.mono;
    } else {
      if (peer.candidates.size() >= Peer::kMaxCandidates) {
        auto oldest = std::min_element(
            peer.candidates.begin(), peer.candidates.end(),
            [](const Peer::Candidate& x, const Peer::Candidate& y) { return x.tried < y.tried; });
        if (now.mono - oldest->tried < kRekeyTimeout) continue;
        peer.candidates.erase(oldest);
      }
      peer.candidates.push_back({a.address, now.mono, a.relay});
    }
    if (std::find(due.begin(), due.end(), a.address) == due.end()) due.push_back(a.address);
  }
  if (due.empty())
    return all_endpoint && usable ? CandidateOutcome::kEndpoint : CandidateOutcome::kPending;
  note_endpoint_change(peer);
  if (in_flight) {
    // The initiation in flight goes there too: a new one would restart it.
    for (const Endpoint& to : due) {
      peer.tx_bytes += peer.initiation.size();
      out_.send_datagram(to, peer.initiation);
    }
  } else if (handshaking) {
    // We answered the peer's initiation moments ago: that handshake is the
    // one under way, and a new initiation would supersede it. These
    // addresses wait for the next round.
    for (const Endpoint& e : due)
      std::erase_if(peer.candidates, [&](const Peer::Candidate& c) { return c.address == e; });
    return CandidateOutcome::kPending;
  } else {
    // One initiation for all of them (the peer takes one per 20 ms from us).
    // With a session that works, only the new addresses are probed: were
    // the initiation sent along the working path too, its copy could win
    // the race and the answer would come back that way.
    send_initiation_now(peer, now, due, live);
  }
  return CandidateOutcome::kTried;
}

void Device::set_own_addresses(std::vector<IpAddress> addresses) {
  std::sort(addresses.begin(), addresses.end());
  addresses.erase(std::unique(addresses.begin(), addresses.end()), addresses.end());
  own_addresses_ = std::move(addresses);
}

bool Device::is_own_address(const IpAddress& a) const {
  return std::binary_search(own_addresses_.begin(), own_addresses_.end(), a);
}

void Device::set_persistent_keepalive(Peer& peer, uint16_t seconds, Now now) {
  bool turned_on = seconds && !peer.timers.persistent_keepalive();
  peer.timers.set_persistent_keepalive(seconds);
  if (!seconds) peer.timers.disarm(PeerTimer::kPersistentKeepalive);
  if (turned_on) send_keepalive(peer, now);
}

bool Device::under_load(Instant now) const { return under_load_until_ && now < *under_load_until_; }

}  // namespace wgp
