// The receive-side replay filter of one keypair (PROTOCOL.md §4.3, RFC 6479):
// remembers which of the last 8128 counters were already accepted so a captured
// data packet cannot be delivered twice.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace wgp::noise {

// ReplayWindow: an 8192-bit ring of 128 words and the highest counter accepted
// so far. A counter is accepted once if it is below kRejectAfterMessages and
// no more than kWindowSize behind the highest one; everything older is refused
// because its bit has been reused. Work per call is bounded (at most 128 word
// clears), nothing is allocated.
//
// Call only after the packet authenticated: an unauthenticated counter must not
// move the window. Not synchronized: the owner serializes calls (one keypair's
// receive path).
class ReplayWindow {
 public:
  static constexpr size_t kRingWords = 128;
  static constexpr size_t kBitsPerWord = 64;
  // One word of the ring is always being refilled, so the usable window is a
  // word short of the ring (kernel COUNTER_WINDOW_SIZE, wg-go windowSize).
  static constexpr uint64_t kWindowSize = kRingWords * kBitsPerWord - kBitsPerWord;
  static_assert(kWindowSize == 8128);

  // True if `counter` was never seen and is inside the window; it is then
  // recorded. False for a replay, a counter too old, or one at or above
  // kRejectAfterMessages (the window is left unchanged in those cases).
  [[nodiscard]] bool check_and_update(uint64_t counter);

  // Forgets everything, as for a fresh keypair.
  void reset();

 private:
  uint64_t last_ = 0;  // highest counter accepted (0 also when none yet)
  std::array<uint64_t, kRingWords> ring_{};
};

}  // namespace wgp::noise
