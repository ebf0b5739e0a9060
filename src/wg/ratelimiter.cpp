#include "wg/ratelimiter.h"

namespace wgp {

// The source, reduced to 64 bits: an IPv4 address, or an IPv6 /64 tagged so
// it cannot equal any IPv4 key.
static uint64_t source_key(const IpAddress& a) {
  if (a.is_v4()) return uint64_t(load_be16(&a.bytes[0])) << 16 | load_be16(&a.bytes[2]);
  uint64_t prefix = 0;
  for (int i = 0; i < 8; ++i) prefix = prefix << 8 | a.bytes[i];
  return prefix ^ (uint64_t(1) << 63 | uint64_t(1) << 32);
}

Ratelimiter::Ratelimiter(int per_second, int burst, size_t max_sources)
    : rate_(BucketRate::per_second(per_second, burst)),
      // A bucket idle this long is full again: forgetting it changes nothing.
      buckets_(max_sources, std::max<Duration>(rate_.refill(), std::chrono::seconds(1)),
               LruTable<uint64_t, TokenBucket, KeyedHash>::WhenFull::kRefuse) {}

bool Ratelimiter::allow(const IpAddress& source, Instant now) {
  TokenBucket* b =
      buckets_.touch_or_insert(source_key(source), now, [&] { return TokenBucket(rate_, now); });
  return b && b->take(rate_, now);
}

}  // namespace wgp
