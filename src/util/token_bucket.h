// A token bucket kept as time: `credit` is how much sending time has been
// saved up, each event costs `cost`, and the credit never exceeds `burst`
// events' worth. Eight bytes of state and no clock of its own (callers pass
// `now`), so tables of them stay small.
#pragma once

#include <algorithm>

#include "util/time.h"

namespace wgp {

struct BucketRate {
  Duration cost;   // one event: 1 s / events per second
  Duration burst;  // the most credit kept: cost x burst size
  static constexpr BucketRate per_second(int events, int burst) {
    Duration cost = std::chrono::nanoseconds(1'000'000'000 / events);
    return {cost, cost * burst};
  }
  // How long an unused bucket takes to be full again (then it may be forgotten).
  Duration refill() const { return burst; }
};

class TokenBucket {
 public:
  TokenBucket() = default;  // empty; give it a rate before use
  // A new bucket starts full.
  TokenBucket(BucketRate rate, Instant now) : credit_(rate.burst), last_(now) {}
  // Whether one event's worth is there (takes nothing).
  bool ready(BucketRate rate, Instant now) {
    if (now > last_) credit_ = std::min(rate.burst, credit_ + (now - last_));
    last_ = std::max(last_, now);
    return credit_ >= rate.cost;
  }
  // Takes one event's worth when there is enough; false (nothing taken) otherwise.
  bool take(BucketRate rate, Instant now) {
    if (!ready(rate, now)) return false;
    credit_ -= rate.cost;
    return true;
  }

 private:
  Duration credit_{};
  Instant last_{};
};

}  // namespace wgp
