// Per-source budget for handshake messages under load (PROTOCOL.md §3.5):
// a token bucket of 20 packets per second with a burst of 5 for each source
// address, IPv6 grouped by /64 as the kernel does, so one host cannot buy
// all our Diffie-Hellman time even with valid cookies. The registry uses one
// of its own to bound what its plain DNS answers send any one address.
//
// Sources are chosen by strangers (any IPv6 /64 is theirs to send from), so
// the table is bounded and keyed (util/lru_table.h, crypto/keyed_hash.h): a
// bucket idle long enough to be full again is forgotten, and when the table
// is full of busy sources a new one is refused, as the kernel's is.
#pragma once

#include "crypto/keyed_hash.h"
#include "net/ip.h"
#include "util/lru_table.h"
#include "util/time.h"
#include "util/token_bucket.h"

namespace wgp {

class Ratelimiter {
 public:
  static constexpr int kPacketsPerSecond = 20;
  static constexpr int kBurst = 5;
  static constexpr size_t kMaxSources = 65536;

  // The kernel's budget by default; other users (the registry's plain DNS
  // answers) choose their own.
  explicit Ratelimiter(int per_second = kPacketsPerSecond, int burst = kBurst,
                       size_t max_sources = kMaxSources);

  // True when a packet from `source` is within its budget (and takes a token).
  bool allow(const IpAddress& source, Instant now);
  size_t tracked_sources() const { return buckets_.size(); }

 private:
  BucketRate rate_;
  LruTable<uint64_t, TokenBucket, KeyedHash> buckets_;
};

}  // namespace wgp
