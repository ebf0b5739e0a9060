// TAI64N timestamps for handshake initiations (PROTOCOL.md §1, §2.2).
#pragma once

#include <array>
#include <cstdint>

#include "util/time.h"

namespace wgp {

using Tai64n = std::array<uint8_t, 12>;

// BE64(0x400000000000000a + unix seconds) ‖ BE32(nanoseconds rounded down to a
// multiple of 2^24 ns), as the kernel sends it, so it leaks no precise clock.
Tai64n tai64n(WallTime now);
// Strictly later (a 12-byte big-endian comparison).
inline bool tai64n_after(const Tai64n& a, const Tai64n& b) { return a > b; }

}  // namespace wgp
