// Time as the protocol core sees it: a monotonic clock that keeps counting
// through suspend (CLOCK_BOOTTIME, so a laptop lid does not stretch a
// keypair's life) and the wall clock for TAI64N and "latest handshake".
// The core never reads either clock itself; callers pass `now` in.
#pragma once

#include <chrono>
#include <ctime>

namespace wgp {

struct BootClock {
  using duration = std::chrono::nanoseconds;
  using rep = duration::rep;
  using period = duration::period;
  using time_point = std::chrono::time_point<BootClock>;
  static constexpr bool is_steady = true;
  static time_point now() {
    timespec ts;
    clock_gettime(CLOCK_BOOTTIME, &ts);
    return time_point(std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec));
  }
};

using Instant = BootClock::time_point;
using Duration = std::chrono::nanoseconds;
using WallTime = std::chrono::system_clock::time_point;

}  // namespace wgp
