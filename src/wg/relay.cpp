#include "wg/relay.h"

#include <algorithm>

namespace wgp {

void Relay::permit(const PublicKey& a, const PublicKey& b, Instant now) {
  if (a == b) return;
  add_partner(a, b, now);
  add_partner(b, a, now);
}

void Relay::add_partner(const PublicKey& of, const PublicKey& partner, Instant now) {
  PeerState* s = peers_.touch_or_insert(of, now, [&] {
    PeerState fresh;
    fresh.budget = TokenBucket(kSenderBudget, now);
    return fresh;
  });
  auto begin = s->partners.begin();
  auto end = begin + s->count;
  auto it = std::find_if(begin, end, [&](const Partner& p) { return p.key == partner; });
  Partner entry;
  if (it != end) {
    entry = *it;  // keeps its budget
  } else {
    entry.key = partner;
    entry.budget = TokenBucket(kPairBudget, now);
    // Full: the least recent lookup (last) makes room.
    if (s->count < kPartnersTried) ++s->count;
    it = begin + s->count - 1;
  }
  entry.permitted = now;
  // Most recent first: shift the ones before it down by one.
  std::move_backward(begin, it, it + 1);
  s->partners[0] = entry;
}

bool Relay::permitted(const PublicKey& a, const PublicKey& b, Instant now) const {
  bool found = false;
  for (auto [x, y] : {std::pair(&a, &b), std::pair(&b, &a)})
    for_each_partner(*x, now, [&](const PublicKey& k) { return found = found || k == *y; });
  return found;
}

bool Relay::allow_initiation(const PublicKey& sender, const PublicKey& target, Instant now) {
  PeerState* s = peers_.find(sender, now);
  if (!s) return false;
  for (size_t i = 0; i < s->count; ++i) {
    Partner& p = s->partners[i];
    if (p.key != target || now - p.permitted >= kPermitLifetime) continue;
    // Both or neither: a refused initiation costs the other budget nothing.
    if (!s->budget.ready(kSenderBudget, now) || !p.budget.ready(kPairBudget, now)) return false;
    return s->budget.take(kSenderBudget, now) && p.budget.take(kPairBudget, now);
  }
  return false;
}

bool Relay::bind(uint32_t index, const Route& route, Instant now) {
  if (const Route* bound = routes_.find(index, now))
    return bound->to == route.to && bound->from == route.from && bound->kind == route.kind;
  routes_.insert(index, route, now);
  return true;
}

bool Relay::carries(const Route& route, uint32_t type) {
  switch (type) {
    case uint32_t(noise::MessageType::kResponse):
      return route.kind == Kind::kInitiation;
    case uint32_t(noise::MessageType::kCookieReply):
    case uint32_t(noise::MessageType::kTransport):
      return true;
  }
  return false;
}

bool Relay::answer(uint32_t index, uint32_t responder_index, Instant now) {
  Route* r = routes_.find(index, now);
  if (!r || r->kind != Kind::kInitiation) return false;
  if (r->answered) return r->answer == responder_index;  // the same response again
  Route back{r->from, r->to, Kind::kResponse};
  if (!bind(responder_index, back, now)) return false;
  // Found again: binding may have evicted the oldest route, this one too.
  if ((r = routes_.find(index, now))) {
    r->answered = true;
    r->answer = responder_index;
  }
  return true;
}

}  // namespace wgp
