// WorkerPool: a few threads that take part in one job at a time — fork-join.
// The event loop hands it a batch (say 2,000 packets to encrypt), the batch is
// cut into small contiguous chunks, and the calling thread and the workers
// claim chunks one at a time until none is left; run() returns when every
// chunk is done. Each packet's result lands in its own place in the batch, so
// the order of packets (per peer and overall) is exactly the order of the
// batch: no queue, no reordering, no allocation.
//
// The caller never waits for a worker to start: a worker that is slow to get
// a core (none is idle: the machine is busy, or both ends of a tunnel share
// it) finds every chunk taken and the job is done on the caller's thread, as
// if there were no pool. The caller waits only for chunks a worker has begun
// (a few microseconds each). Waking a sleeping worker costs a system call on
// both sides, so after wake-ups that found nothing to do the caller stops
// waking for a while (up to 64 jobs), then tries again.
//
// Workers that have just done work spin briefly for the next job, then sleep
// on a futex, so an idle pool costs nothing and a busy one needs no wake-up.
// Jobs must not throw.
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

  // Calls part(begin, end) over contiguous ranges covering [0, count) exactly
  // once, on the calling thread and on any workers that join in time, and
  // returns when all have returned. A job of fewer than 2 * min_per_part
  // items runs whole on the caller (waking a thread would cost more than it
  // saves); a larger one is cut into chunks of min_per_part / 4 items (at
  // least 1). Only one thread may call run() at a time.
  template <typename Part>
  void run(size_t count, size_t min_per_part, Part&& part) {
    using P = std::remove_reference_t<Part>;
    void* context = const_cast<void*>(static_cast<const void*>(std::addressof(part)));
    run_erased(count, min_per_part, context,
               [](void* p, size_t begin, size_t end) { (*static_cast<P*>(p))(begin, end); });
  }

  // False for a while after wake-ups that found nothing to do (the workers
  // get no core in time), so that a caller can skip what only sharing pays
  // for: Node copies packets out of the TUN buffer to seal them later. Each
  // false answer counts as a job of the back-off.
  bool sharing();

  // Default size: one worker per core beyond the first, at most 3 (the
  // event loop thread is the fourth); WGPUNCH_CRYPTO_WORKERS overrides it.
  static size_t default_workers();

  // Lifetime counts, for status and tests: jobs offered to the workers,
  // chunks the workers ran, and wake-ups of sleeping workers.
  uint64_t shared_jobs() const { return shared_jobs_; }
  uint64_t worker_chunks() const { return worker_chunks_.load(std::memory_order_relaxed); }
  uint64_t wakeups() const { return wakeups_; }

 private:
  using Trampoline = void (*)(void*, size_t, size_t);
  void run_erased(size_t count, size_t min_per_part, void* context, Trampoline call);
  // Claims and runs chunks of the published job until none is left; returns
  // how many it ran.
  size_t run_chunks();
  void worker_main();
  // Whether to wake sleeping workers for this job (the back-off above).
  bool should_wake();
  void note_outcome(bool woke, bool workers_helped);

  std::vector<std::thread> threads_;
  // The job: (sequence << 32) | (chunks << 16) | next chunk to claim. A
  // thread claims a chunk with one fetch_add; a claim at or past `chunks`
  // means the job has no work left. The fields below belong to the job in
  // the word and are rewritten only while no worker is inside_ a claim loop.
  std::atomic<uint64_t> job_{0};
  void* context_ = nullptr;
  Trampoline call_ = nullptr;
  size_t count_ = 0;
  size_t chunk_ = 1;
  // Workers between entering and leaving a claim loop; the caller returns
  // only when it is 0 and every chunk is claimed.
  std::atomic<uint32_t> inside_{0};
  std::atomic<uint32_t> caller_waiting_{0};  // the caller sleeps on inside_
  // Bumped for every job shared; workers wait for it to change (futex).
  std::atomic<uint32_t> generation_{0};
  std::atomic<uint32_t> sleepers_{0};  // workers asleep on generation_, or about to be
  std::atomic<bool> stopping_{false};
  uint32_t sequence_ = 0;

  // The caller's wake-up back-off.
  uint32_t skip_wakes_ = 0;     // jobs left before the next wake-up
  uint32_t useless_wakes_ = 0;  // consecutive wake-ups after which no worker helped

  uint64_t shared_jobs_ = 0;
  uint64_t wakeups_ = 0;
  std::atomic<uint64_t> worker_chunks_{0};
};

}  // namespace wgp
