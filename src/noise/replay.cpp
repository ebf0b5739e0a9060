// Replay window check (PROTOCOL.md §4.3). Counters live in a ring indexed by
// counter / 64; moving the top forward clears the words it skips over so stale
// bits from a previous lap never look like "seen".
#include "noise/replay.h"

#include <algorithm>

#include "noise/wire.h"

namespace wgp::noise {

bool ReplayWindow::check_and_update(uint64_t counter) {
  if (counter >= kRejectAfterMessages) return false;
  const uint64_t block = counter / kBitsPerWord;
  if (counter > last_) {
    // Clear every word between the old top word and the new one (exclusive of
    // the old, inclusive of the new); a jump of a whole ring or more clears all.
    const uint64_t current = last_ / kBitsPerWord;
    const uint64_t skipped = std::min<uint64_t>(block - current, kRingWords);
    for (uint64_t i = 1; i <= skipped; ++i) ring_[(current + i) % kRingWords] = 0;
    last_ = counter;
  } else if (last_ - counter > kWindowSize) {
    return false;  // too old: its bit may already belong to a newer counter
  }
  uint64_t& word = ring_[block % kRingWords];
  const uint64_t bit = uint64_t(1) << (counter % kBitsPerWord);
  if (word & bit) return false;  // replay
  word |= bit;
  return true;
}

void ReplayWindow::reset() {
  last_ = 0;
  ring_.fill(0);
}

}  // namespace wgp::noise
