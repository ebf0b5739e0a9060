#include "discovery/lookup_log.h"

#include <algorithm>

namespace wgp {

LookupLog::LookupLog(size_t capacity, Duration memory)
    : pairs_(capacity, memory, LruTable<Pair, Instant, KeyedHash>::WhenFull::kEvictOldest, hash_),
      askers_(16, hash_),
      asked_(16, hash_) {}

void LookupLog::link(Links& links, const PublicKey& from, const PublicKey& to, const KeyedHash& h) {
  auto it = links.find(from);
  if (it == links.end()) it = links.emplace(from, Keys(4, h)).first;
  it->second.insert(to);
}

void LookupLog::unlink(Links& links, const PublicKey& from, const PublicKey& to) {
  auto it = links.find(from);
  if (it == links.end()) return;
  it->second.erase(to);
  if (it->second.empty()) links.erase(it);
}

void LookupLog::record(const PublicKey& asker, const PublicKey& about, Instant now) {
  auto forget = [this](const Pair& pair, const Instant&) {
    unlink(asked_, pair.first, pair.second);
    unlink(askers_, pair.second, pair.first);
  };
  pairs_.expire(now, forget);  // each pair leaves once: O(1) amortised
  Instant* when = pairs_.touch_or_insert(
      {asker, about}, now, [&] { return now; }, forget);
  if (!when) return;  // a refusing table would say so; ours evicts
  *when = now;
  link(asked_, asker, about, hash_);
  link(askers_, about, asker, hash_);
}

bool LookupLog::asked_within(const PublicKey& asker, const PublicKey& about, Instant now,
                             Duration window) const {
  const Instant* when = pairs_.peek({asker, about}, now);
  return when && now - *when < window;
}

template <typename PairOf>
std::vector<PublicKey> LookupLog::recent(const Links& links, const PublicKey& key, Instant now,
                                         Duration window, PairOf pair_of) const {
  std::vector<PublicKey> out;
  auto it = links.find(key);
  if (it == links.end()) return out;
  for (const PublicKey& other : it->second) {
    const Instant* when = pairs_.peek(pair_of(other), now);
    if (when && now - *when < window) out.push_back(other);
  }
  std::sort(out.begin(), out.end());  // the same order every run, whatever the hash key
  return out;
}

std::vector<PublicKey> LookupLog::askers_of(const PublicKey& about, Instant now,
                                            Duration window) const {
  return recent(askers_, about, now, window, [&](const PublicKey& a) { return Pair{a, about}; });
}

std::vector<PublicKey> LookupLog::asked_by(const PublicKey& asker, Instant now,
                                           Duration window) const {
  return recent(asked_, asker, now, window, [&](const PublicKey& b) { return Pair{asker, b}; });
}

}  // namespace wgp
