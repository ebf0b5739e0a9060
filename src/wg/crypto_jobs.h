// Encryptions and decryptions the device leaves for its caller to run, so
// that one batch of packets can be sealed or opened on several cores
// (util/worker_pool.h) and then sent or delivered in batch order.
//
// Sealing: with a SealJob queue set (Device::defer_seals), the device writes
// each data message's header and plaintext (zero-padded) into the output slot
// it was lent and queues the in-place seal; the caller must run every job
// before the slots are sent, and drop every datagram whose job did not seal
// (its slot holds only zeros then, never the plaintext). Opening: Device::prepare_open fills an OpenJob
// for a transport message, the caller runs it anywhere, and hands it back to
// Device::receive_datagram, which checks it still names the same keypair.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "crypto/aead.h"
#include "util/bytes.h"

namespace wgp {

struct SealJob {
  const AeadKey* key = nullptr;
  uint64_t counter = 0;
  // plaintext_size bytes of plaintext, followed by room for the 16-byte tag.
  MutableByteView data;
  size_t plaintext_size = 0;
  // The whole transport message (header, body, tag) that `data` belongs
  // to, for the caller to drop when the seal fails.
  MutableByteView message;
  bool sealed = false;  // set by run()

  // Thread-safe: distinct jobs touch distinct bytes; the key is read-only.
  // Fails closed: a seal that fails (misuse only) wipes the plaintext, so
  // nothing readable can leave even if the caller sent the slot anyway.
  void run() {
    sealed = key->seal(counter, data.first(plaintext_size), {}, data);
    if (!sealed) std::memset(data.data(), 0, data.size());
  }
};

struct OpenJob {
  const AeadKey* key = nullptr;
  uint64_t counter = 0;
  ByteView ciphertext;        // body and tag of the transport message
  MutableByteView plaintext;  // ciphertext.size() - 16 bytes
  uint64_t keypair_serial = 0;
  bool authentic = false;     // set by run()

  void run() { authentic = key->open(counter, ciphertext, {}, plaintext); }
};

// Seals and opens run, per thread of a worker pool: index 0 is the caller
// (the event loop), 1.. are the workers (WorkerPool::this_thread()), so that
// tests and `wgpunch status` see where the crypto really ran. The caller of
// each range adds its count once: one relaxed atomic add per thread and
// batch, nothing allocated after construction, each thread's slot on its own
// cache line. Reading while workers add is safe (the counts may lag).
class CryptoTally {
 public:
  explicit CryptoTally(size_t threads)
      : slots_(std::make_unique<Slot[]>(threads)), size_(threads) {}

  void add_seals(size_t thread, uint64_t n) {
    if (thread < size_) slots_[thread].seals.fetch_add(n, std::memory_order_relaxed);
  }
  void add_opens(size_t thread, uint64_t n) {
    if (thread < size_) slots_[thread].opens.fetch_add(n, std::memory_order_relaxed);
  }
  std::vector<uint64_t> seals() const { return read(&Slot::seals); }
  std::vector<uint64_t> opens() const { return read(&Slot::opens); }

 private:
  struct alignas(64) Slot {
    std::atomic<uint64_t> seals{0};
    std::atomic<uint64_t> opens{0};
  };
  std::vector<uint64_t> read(std::atomic<uint64_t> Slot::*field) const {
    std::vector<uint64_t> out(size_);
    for (size_t i = 0; i < size_; ++i) out[i] = (slots_[i].*field).load(std::memory_order_relaxed);
    return out;
  }

  std::unique_ptr<Slot[]> slots_;
  size_t size_;
};

}  // namespace wgp
