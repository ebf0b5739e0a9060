// WorkerPool: a few threads that take part in one job at a time — fork-join.
// The event loop hands it a batch (say 2,000 packets to encrypt), the batch is
// cut into contiguous ranges, one per worker plus one for the calling thread,
// and run() returns when every range is done. Each packet's result lands in
// its own place in the batch, so the order of packets (per peer and overall)
// is exactly the order of the batch: no queue, no reordering, no allocation.
//
// Workers spin briefly for the next job and then sleep on a futex, so an
// idle pool costs nothing and a busy one is woken within microseconds. Jobs
// must not throw.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <thread>
#include <type_traits>
#include <vector>

namespace wgp {

class WorkerPool {
 public:
  // `workers` threads besides the caller; 0 makes run() call the job inline.
  explicit WorkerPool(size_t workers);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  size_t workers() const { return threads_.size(); }

  // Which thread runs this: 1..workers() on a worker of a pool, 0 on any
  // other thread (such as the caller of run(), which takes the first range).
  // For per-thread tallies (crypto_jobs.h CryptoTally).
  static size_t this_thread();

  // Calls part(begin, end) over contiguous ranges covering [0, count), on up
  // to workers() + 1 threads at once, and returns when all have returned.
  // Ranges are at least `min_per_part` long (a smaller batch is not worth
  // waking a thread for); the caller always runs the first range.
  template <typename Part>
  void run(size_t count, size_t min_per_part, Part&& part) {
    using P = std::remove_reference_t<Part>;
    void* context = const_cast<void*>(static_cast<const void*>(std::addressof(part)));
    run_erased(count, min_per_part, context, [](void* p, size_t begin, size_t end) {
      (*static_cast<P*>(p))(begin, end);
    });
  }

  // Default size: one worker per core beyond the first, at most 3 (the
  // event loop thread is the fourth); WGPUNCH_CRYPTO_WORKERS overrides it.
  static size_t default_workers();

 private:
  using Trampoline = void (*)(void*, size_t, size_t);
  void run_erased(size_t count, size_t min_per_part, void* context, Trampoline call);
  void worker_main(size_t id);

  std::vector<std::thread> threads_;
  // The current job: published by bumping generation_. 32-bit because Linux
  // futexes are (wrapping is harmless: only a change counts).
  std::atomic<uint32_t> generation_{0};
  std::atomic<uint32_t> unfinished_{0};
  std::atomic<bool> stopping_{false};
  void* context_ = nullptr;
  Trampoline call_ = nullptr;
  size_t count_ = 0;
  size_t parts_ = 0;
};

}  // namespace wgp
