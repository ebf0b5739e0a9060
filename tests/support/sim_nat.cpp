#include "support/sim_nat.h"

namespace wgp::testing {

void SimNat::expire(const Endpoint& remote, Instant now) {
  if (auto f = flows_.find(remote); f != flows_.end() && !alive(f->second, now)) flows_.erase(f);
  if (auto e = early_.find(remote); e != early_.end() && now - e->second >= kUnreplied)
    early_.erase(e);
}

bool SimNat::outbound(const Endpoint& to, Instant now) {
  expire(to, now);
  auto it = flows_.find(to);
  if (it == flows_.end())
    // A stale entry for `to` holds our port: this flow gets another one,
    // for as long as it lives.
    it = flows_.emplace(to, Flow{.moved = early_.contains(to)}).first;
  it->second.last = now;
  return !it->second.moved;
}

bool SimNat::inbound(const Endpoint& from, Instant now) {
  expire(from, now);
  auto it = flows_.find(from);
  if (it != flows_.end() && !it->second.moved) {
    it->second.last = now;
    it->second.replied = true;
    return true;
  }
  // Unsolicited. With an input filter it is dropped and leaves nothing;
  // without, the box keeps an entry for it (refreshed by each such packet).
  if (!input_filter_) early_[from] = now;
  return false;
}

}  // namespace wgp::testing
