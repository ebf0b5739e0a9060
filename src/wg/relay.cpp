#include "wg/relay.h"

#include <algorithm>

namespace wgp {

void Relay::permit(const PublicKey& a, const PublicKey& b, Instant now) {
  if (a == b) return;
  permits_[{a, b}] = now;
  permits_[{b, a}] = now;
  // Expired permits go when new ones come: their number stays bounded by
  // the lookups of the last kPermitLifetime.
  if (permits_.size() > 2 * kMaxRoutes)
    std::erase_if(permits_, [&](const auto& kv) { return now - kv.second >= kPermitLifetime; });
}

bool Relay::permitted(const PublicKey& a, const PublicKey& b, Instant now) const {
  auto it = permits_.find({a, b});
  return it != permits_.end() && now - it->second < kPermitLifetime;
}

void Relay::learn(uint32_t index, const PublicKey& to, const PublicKey& from, Instant now) {
  if (routes_.size() >= kMaxRoutes && !routes_.contains(index)) {
    std::erase_if(routes_, [&](const auto& kv) { return now - kv.second.last >= kRouteLifetime; });
    if (routes_.size() >= kMaxRoutes) {
      auto oldest = std::min_element(routes_.begin(), routes_.end(), [](const auto& x, const auto& y) {
        return x.second.last < y.second.last;
      });
      routes_.erase(oldest);
    }
  }
  routes_[index] = {to, from, now};
}

const Relay::Route* Relay::route(uint32_t index, Instant now) {
  auto it = routes_.find(index);
  if (it == routes_.end()) return nullptr;
  if (now - it->second.last >= kRouteLifetime) {
    routes_.erase(it);
    return nullptr;
  }
  it->second.last = now;
  return &it->second;
}

void Relay::forget(const PublicKey& peer) {
  std::erase_if(permits_, [&](const auto& kv) { return kv.first.first == peer || kv.first.second == peer; });
  std::erase_if(routes_, [&](const auto& kv) { return kv.second.to == peer || kv.second.from == peer; });
  relayed_.erase(peer);
}

}  // namespace wgp
