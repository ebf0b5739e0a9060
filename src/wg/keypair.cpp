#include "wg/keypair.h"

#include <atomic>

#include "wg/index_table.h"

namespace wgp {

uint64_t next_keypair_serial() {
  static std::atomic<uint64_t> serial{0};
  return serial.fetch_add(1, std::memory_order_relaxed) + 1;
}

void KeypairSlots::drop(std::unique_ptr<Keypair>& slot, IndexTable& indices) {
  if (slot) indices.release(slot->local_index);
  slot.reset();
}

void KeypairSlots::install_as_initiator(std::unique_ptr<Keypair> kp, IndexTable& indices) {
  if (next_) {
    // A responder-side session was never confirmed: it becomes previous so
    // that packets the peer already sent on it still decrypt.
    drop(previous_, indices);
    previous_ = std::move(next_);
    drop(current_, indices);
  } else {
    drop(previous_, indices);
    previous_ = std::move(current_);
  }
  current_ = std::move(kp);
}

void KeypairSlots::install_as_responder(std::unique_ptr<Keypair> kp, IndexTable& indices) {
  drop(next_, indices);
  next_ = std::move(kp);
  drop(previous_, indices);
}

bool KeypairSlots::promote_next(const Keypair* kp, IndexTable& indices) {
  if (!next_ || next_.get() != kp) return false;
  drop(previous_, indices);
  previous_ = std::move(current_);
  current_ = std::move(next_);
  return true;
}

void KeypairSlots::invalidate_for_sending() {
  if (current_) current_->can_send = false;
  if (next_) next_->can_send = false;
}

void KeypairSlots::clear(IndexTable& indices) {
  drop(previous_, indices);
  drop(current_, indices);
  drop(next_, indices);
}

}  // namespace wgp
