// Per-source budget for handshake messages under load (PROTOCOL.md §3.5):
// a token bucket of 20 packets per second with a burst of 5 for each source
// address, IPv6 grouped by /64 as the kernel does, so one host cannot buy
// all our Diffie-Hellman time even with valid cookies. The registry uses one
// of its own to bound what its plain DNS answers send any one address.
#pragma once

#include <unordered_map>

#include "net/ip.h"
#include "util/time.h"

namespace wgp {

class Ratelimiter {
 public:
  static constexpr int kPacketsPerSecond = 20;
  static constexpr int kBurst = 5;

  // The kernel's budget by default; other users (the registry's plain DNS
  // answers) choose their own.
  explicit Ratelimiter(int per_second = kPacketsPerSecond, int burst = kBurst)
      : packet_cost_(std::chrono::nanoseconds(1'000'000'000 / per_second)),
        max_tokens_(packet_cost_ * burst) {}

  // True when a packet from `source` is within its budget (and takes a token).
  bool allow(const IpAddress& source, Instant now);
  size_t tracked_sources() const { return buckets_.size(); }

 private:
  struct Bucket {
    Duration tokens;  // credit, in units of time: one packet costs packet_cost_
    Instant last;
  };
  Duration packet_cost_;
  Duration max_tokens_;

  void collect_garbage(Instant now);

  std::unordered_map<uint64_t, Bucket> buckets_;
  Instant last_gc_{};
};

}  // namespace wgp
