// DiscoveryService: the search for a peer that is needed and not reached, in
// rounds (see the header). A round asks the registry, then sends an opener
// towards the peer's public mapping and, kMinLead or more later, the probe:
// the other side, which the registry NOTIFYs, does the same moments later,
// so each side's NAT has opened towards the other before the other's probe
// arrives. Between rounds nothing goes to the peer's direct addresses, so a
// NAT's entry for a probe that came too early expires (Linux keeps an
// unanswered UDP entry 30 s).
#include <algorithm>

#include "crypto/keys.h"
#include "discovery/discovery_service.h"
#include "util/log.h"

namespace wgp {

namespace {
// The second round follows soon (a lost datagram); later ones leave room for
// a NAT's stale entry to expire (30 s for unanswered UDP in Linux).
constexpr auto kFirstRoundGap = std::chrono::seconds(5);
constexpr auto kRoundGap = std::chrono::seconds(35);
// From a round's opener to its probe: enough for the other side's opener,
// which leaves after a NOTIFY and a question (1.5 round trips to the
// registry after ours), to pass its NAT first.
constexpr auto kMinLead = std::chrono::milliseconds(200);
constexpr auto kMaxLead = std::chrono::seconds(1);
// After giving up, a packet for the peer starts a new search only this much
// later (a NOTIFY from the other side's search joins it at once).
constexpr auto kRetryAfterGiveUp = std::chrono::seconds(120);
// A peer heard from less recently than this sits behind a NAT that has most
// likely forgotten us (Linux: 30 s for a flow that saw one packet back).
constexpr auto kStalePath = std::chrono::seconds(25);
// The last round's probe gets this long before the search gives up: ~90 s
// in all, as WireGuard's own handshake retries.
constexpr auto kLastRoundWait = std::chrono::seconds(15);
// See relay_at_.
constexpr auto kRelayDelay = std::chrono::milliseconds(300);

// `mapped`: the first address is the peer's port mapping.
std::string addresses_text(const std::vector<Device::CandidateAddress>& addresses, bool mapped) {
  std::string out;
  for (const auto& a : addresses) {
    out += (out.empty() ? "" : ", ") + a.address.to_string();
    if (mapped && &a == &addresses.front()) out += " (mapped)";
  }
  return out;
}
}  // namespace

bool DiscoveryService::wanted(const Peer& peer, Instant now) const {
  return !device_.has_usable_session(peer, now) &&
         (!peer.staged.empty() || peer.timers.pending(PeerTimer::kRetransmitHandshake));
}

bool DiscoveryService::holds_for_search(const Peer& peer, Instant now) const {
  if (registry_of(peer.public_key()) || peer.endpoint_source == EndpointSource::kConfig)
    return false;
  if (auto it = searches_.find(peer.public_key());
      it != searches_.end() && it->second.gave_up && now - *it->second.gave_up < kRetryAfterGiveUp)
    return false;  // WireGuard's own handshake, as without discovery
  return !peer.endpoint || !peer.last_authenticated_receive ||
         now - *peer.last_authenticated_receive > kStalePath;
}

void DiscoveryService::on_session_wanted(const PublicKey& key, Now now) {
  on_handshake_unanswered(key, now);
}

void DiscoveryService::on_handshake_unanswered(const PublicKey& key, Now now) {
  if (registry_of(key)) return;
  auto it = searches_.find(key);
  if (it != searches_.end()) {
    // A search under way asks at its rounds' times, not at every retry.
    if (!it->second.gave_up || now.mono - *it->second.gave_up < kRetryAfterGiveUp) return;
    searches_.erase(it);
  }
  Search& search = searches_[key];
  search.rounds = 1;
  search.next_round = now.mono + kFirstRoundGap;
  search.asking = true;
  query(key, now);
}

void DiscoveryService::on_peer_answer(Peer& peer, std::vector<Device::CandidateAddress> addresses,
                                      size_t behind_nat, Now now) {
  const PublicKey& key = peer.public_key();
  // Reached where the registry sees it: nothing to do, whoever asked.
  const bool there = std::any_of(addresses.begin(), addresses.end(),
                                 [&](const auto& a) { return peer.endpoint == a.address; });
  if (there && peer.endpoint_confirmed && device_.has_usable_session(peer, now.mono)) {
    searches_.erase(key);
    return;
  }
  if (peer.endpoint_source == EndpointSource::kConfig) return;  // a static endpoint stays
  auto it = searches_.find(key);
  if (it != searches_.end() && it->second.gave_up) {
    searches_.erase(it);  // the other side looks for us (NOTIFY): join its search
    it = searches_.end();
  }
  if (it == searches_.end()) {
    // Not ours: a NOTIFY (the peer looks for us, or moved) or a relayed path
    // probed. Our first round starts now.
    Search& fresh = searches_[key];
    fresh.rounds = 1;
    fresh.next_round = now.mono + kFirstRoundGap;
    fresh.asking = true;
    it = searches_.find(key);
  }
  Search& search = it->second;
  // An address the last probe did not try (a port mapping made since, a
  // move): worth a round now, not at the next one.
  const bool news = std::any_of(addresses.begin(), addresses.end(), [&](const auto& a) {
    return std::none_of(search.addresses.begin(), search.addresses.end(),
                        [&](const auto& b) { return b.address == a.address; });
  });
  search.addresses = std::move(addresses);
  search.behind_nat = std::min(behind_nat, search.addresses.size());
  search.found = true;
  // Known to the device before our probe leaves: the peer's may come first.
  device_.offer_candidates(peer, search.addresses);
  // A round now for the answer a round waits for, or for news; any other
  // answer between rounds only updates what the next round tries.
  if (search.asking || (news && !search.probe_at)) start_round(peer, search, now);
}

void DiscoveryService::start_round(Peer& peer, Search& search, Now now) {
  search.asking = false;
  // Only the peer's port mapping and public mapping sit behind a NAT that
  // must open; its own addresses are reached without one (a LAN) or through
  // a firewall that keeps no entry for what it drops.
  for (size_t i = 0; i < search.behind_nat; ++i) {
    const Device::CandidateAddress& at = search.addresses[i];
    if (!at.relay && at.address.address.is_v4()) device_.send_opener(at.address);
  }
  Duration lead = std::clamp<Duration>(3 * last_rtt_, kMinLead, kMaxLead);
  search.probe_at = now.mono + lead;
  (void)peer;
}

void DiscoveryService::probe(Peer& peer, Search& search, Now now) {
  search.probe_at.reset();
  // Judged before the try: a probe's own initiation makes any session look
  // unsettled for a moment, and a working path (a relayed one included)
  // needs no relay as a fallback.
  const bool had_session = device_.has_usable_session(peer, now.mono);
  auto outcome = device_.try_candidates(peer, search.addresses, now);
  if (outcome == Device::CandidateOutcome::kTried)
    Log::info("discovery: trying peer ", key_to_base64(peer.public_key()), " at ",
              addresses_text(search.addresses, search.behind_nat > 1));
  if (outcome != Device::CandidateOutcome::kStatic && !had_session) {
    // kRelayDelay after the latest probe: a new address gets its chance.
    Instant& at = relay_at_[peer.public_key()];
    at = std::max(at, now.mono + kRelayDelay);
  }
}

void DiscoveryService::give_up(Peer& peer, Search& search, Now now) {
  search.gave_up = now.mono;
  search.next_round.reset();
  ++gave_up_;
  search.why = search.found ? "no direct path after " + std::to_string(search.rounds) +
                                  " rounds; " + relay_verdict()
                            : "the registry does not know where it is (it has not registered)";
  Log::info("discovery: giving up on peer ", key_to_base64(peer.public_key()),
            " for now: ", search.why);
}

std::string DiscoveryService::relay_verdict() const {
  bool all_no = true;
  for (const Registry& r : registries_) {
    if (r.relays == true) return "no answer through the registry's relay either";
    all_no = all_no && r.relays == false;
  }
  return all_no ? "the registry offers no relay" : "the registry has not said whether it relays";
}

void DiscoveryService::run_searches(Now now) {
  for (auto it = searches_.begin(); it != searches_.end();) {
    Peer* peer = device_.find_peer(it->first);
    Search& search = it->second;
    if (!peer) {
      it = searches_.erase(it);
      continue;
    }
    if (search.probe_at && now.mono >= *search.probe_at) probe(*peer, search, now);
    if (!search.gave_up && search.next_round && now.mono >= *search.next_round) {
      if (!wanted(*peer, now.mono)) {  // reached, or nobody needs it now
        it = searches_.erase(it);
        continue;
      }
      if (search.rounds >= kMaxRounds) {
        give_up(*peer, search, now);
      } else {
        ++search.rounds;
        search.asking = true;
        search.next_round = now.mono + (search.rounds < kMaxRounds ? kRoundGap : kLastRoundWait);
        query(peer->public_key(), now);
      }
    }
    ++it;
  }
}

void DiscoveryService::try_relays(Peer& peer, Now now) {
  for (const Registry& r : registries_) {
    if (r.relays != true) continue;  // never claim a path a registry does not offer
    const Peer* registry = device_.find_peer(r.key);
    if (!registry || !device_.has_usable_session(*registry, now.mono)) continue;
    if (device_.try_relay(peer, *registry, now) == Device::CandidateOutcome::kTried)
      Log::info("discovery: trying peer ", key_to_base64(peer.public_key()), " through registry ",
                key_to_base64(r.key));
  }
}

}  // namespace wgp
