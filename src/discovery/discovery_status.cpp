// DiscoveryService: what `wgpunch status` shows of it.
#include "crypto/keys.h"
#include "discovery/discovery_service.h"

namespace wgp {

namespace {
int64_t unix_seconds(const std::optional<WallTime>& t) {
  return t ? std::chrono::floor<std::chrono::seconds>(t->time_since_epoch()).count() : 0;
}
}  // namespace

void DiscoveryService::add_peer_status(const Peer& peer, ExtraFields& extra) const {
  auto it = searches_.find(peer.public_key());
  if (it == searches_.end()) return;
  const Search& s = it->second;
  extra.emplace_back("discovery", s.gave_up ? "gave up: " + s.why
                                            : "searching, round " + std::to_string(s.rounds) +
                                                  " of " + std::to_string(kMaxRounds));
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
  if (gave_up_) extra.emplace_back("discovery_searches_given_up", std::to_string(gave_up_));
  if (!local_.addresses.empty()) {
    std::string own;
    for (const IpAddress& a : local_.addresses)
      own += (own.empty() ? "" : ", ") + Endpoint{a, local_.port}.to_string();
    extra.emplace_back("local_candidates", own);
  }
  if (updates_refused_)
    extra.emplace_back("discovery_updates_refused", std::to_string(updates_refused_));
  // Questions that could not go: no tunnel address of ours in a family the
  // registry has one in.
  if (unroutable_) extra.emplace_back("discovery_unroutable", std::to_string(unroutable_));
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
