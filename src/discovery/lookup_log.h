// Who looked up whom in a registry's tunnel, and when: one record of the
// interest between its peers, read three ways.
// - Did `asker` ask about `about` a moment ago? Then a NOTIFY telling `asker`
//   that `about` looks for it is not sent: it looks already, and the NOTIFY
//   would make it ask again, and so on (issue 22).
// - Who asked about `peer` lately? When `peer`'s endpoint moves, they are
//   told at once (remap news, issue 22).
// - Whom did `peer` ask about lately? When `peer` registers a port mapping,
//   they hear of it at once (mapping news, issue 20).
// Only a peer's discovery asks (from port 53), so a bounded table fills only
// as fast as peers search. Each (asker, about) pair is one entry of an
// LruTable under a keyed hash (DESIGN.md §6: the askers choose the keys),
// its latest question wins, the oldest pair goes when full; beside it each
// peer's askers and askees, kept in step, so a question costs O(1) and a
// reading the pairs it returns.
#pragma once

#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "crypto/keyed_hash.h"
#include "crypto/keys.h"
#include "util/lru_table.h"
#include "util/time.h"

namespace wgp {

class LookupLog {
 public:
  // At most `capacity` pairs, each forgotten `memory` after its last question.
  LookupLog(size_t capacity, Duration memory);

  void record(const PublicKey& asker, const PublicKey& about, Instant now);
  // Whether `asker` asked about `about` less than `window` (≤ memory) ago.
  bool asked_within(const PublicKey& asker, const PublicKey& about, Instant now,
                    Duration window) const;
  // The peers that asked about `about` less than `window` ago, in key order.
  std::vector<PublicKey> askers_of(const PublicKey& about, Instant now, Duration window) const;
  // The peers `asker` asked about less than `window` ago, in key order.
  std::vector<PublicKey> asked_by(const PublicKey& asker, Instant now, Duration window) const;

  size_t size() const { return pairs_.size(); }
  uint64_t evicted() const { return pairs_.evicted(); }

 private:
  using Pair = std::pair<PublicKey, PublicKey>;  // (asker, about)
  using Keys = std::unordered_set<PublicKey, KeyedHash>;
  using Links = std::unordered_map<PublicKey, Keys, KeyedHash>;

  static void link(Links& links, const PublicKey& from, const PublicKey& to, const KeyedHash& h);
  static void unlink(Links& links, const PublicKey& from, const PublicKey& to);
  // The peers `links` holds for `key` whose pair (made by `pair_of`) is
  // younger than `window`.
  template <typename PairOf>
  std::vector<PublicKey> recent(const Links& links, const PublicKey& key, Instant now,
                                Duration window, PairOf pair_of) const;

  KeyedHash hash_;                            // one key for the table and the sets beside it
  LruTable<Pair, Instant, KeyedHash> pairs_;  // → when last asked
  Links askers_;                              // about → askers
  Links asked_;                               // asker → abouts
};

}  // namespace wgp
