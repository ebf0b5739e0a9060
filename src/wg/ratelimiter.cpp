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

bool Ratelimiter::allow(const IpAddress& source, Instant now) {
  if (now - last_gc_ > std::chrono::seconds(1)) collect_garbage(now);
  auto [it, inserted] = buckets_.try_emplace(source_key(source), Bucket{max_tokens_, now});
  Bucket& b = it->second;
  if (!inserted) {
    b.tokens = std::min(max_tokens_, b.tokens + (now - b.last));
    b.last = now;
  }
  if (b.tokens < packet_cost_) return false;
  b.tokens -= packet_cost_;
  return true;
}

void Ratelimiter::collect_garbage(Instant now) {
  // A bucket idle for a second is full again: forgetting it changes nothing.
  std::erase_if(buckets_, [&](const auto& kv) { return now - kv.second.last > std::chrono::seconds(1); });
  last_gc_ = now;
}

}  // namespace wgp
