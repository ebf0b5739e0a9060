#include "util/worker_pool.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <string>

namespace wgp {
namespace {

// Iterations of polling before sleeping on the futex: a few microseconds,
// enough to catch the next batch of a busy tunnel without burning a core
// that other processes need.
constexpr int kSpins = 256;
// The most jobs the caller goes without waking a sleeping worker after
// wake-ups that found nothing to do.
constexpr uint32_t kMaxSkippedWakes = 64;
// Chunks per job: the claim counter has 16 bits, and every thread may claim
// once past the last chunk (WGPUNCH_CRYPTO_WORKERS allows at most 64).
constexpr size_t kMaxChunks = 0xffff - 128;

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// The futex calls themselves. std::atomic::wait would do, but libstdc++
// spins with sched_yield() before it sleeps, which on a busy machine hands
// the core around for nothing (measured: 5% of the daemon's time).
void futex_wait(const std::atomic<uint32_t>& word, uint32_t old) {
  static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t));
  ::syscall(SYS_futex, reinterpret_cast<const uint32_t*>(&word), FUTEX_WAIT_PRIVATE, old, nullptr,
            nullptr, 0);
}
void futex_wake_all(std::atomic<uint32_t>& word) {
  ::syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word), FUTEX_WAKE_PRIVATE, INT_MAX, nullptr,
            nullptr, 0);
}

uint64_t job_word(uint32_t sequence, size_t chunks) {
  return uint64_t(sequence) << 32 | uint64_t(chunks) << 16;
}
uint32_t chunks_of(uint64_t job) { return uint32_t(job >> 16) & 0xffff; }
uint32_t next_of(uint64_t job) { return uint32_t(job) & 0xffff; }

}  // namespace

WorkerPool::WorkerPool(size_t workers) {
  threads_.reserve(workers);
  for (size_t i = 0; i < workers; ++i) threads_.emplace_back([this] { worker_main(); });
}

WorkerPool::~WorkerPool() {
  stopping_.store(true, std::memory_order_seq_cst);
  generation_.fetch_add(1, std::memory_order_seq_cst);
  futex_wake_all(generation_);
  for (std::thread& t : threads_) t.join();
}

size_t WorkerPool::default_workers() {
  if (const char* value = std::getenv("WGPUNCH_CRYPTO_WORKERS")) {
    char* end = nullptr;
    unsigned long n = std::strtoul(value, &end, 10);
    if (end != value && *end == '\0') return std::min<unsigned long>(n, 64);
  }
  unsigned cores = std::thread::hardware_concurrency();
  return cores > 1 ? std::min<size_t>(cores - 1, 3) : 0;
}

size_t WorkerPool::run_chunks() {
  size_t ran = 0;
  for (;;) {
    // A claim that lands on a chunk of the job in the word makes this
    // thread the chunk's owner; the job's fields stay put until it leaves.
    uint64_t job = job_.fetch_add(1, std::memory_order_seq_cst);
    uint32_t chunk = next_of(job);
    if (chunk >= chunks_of(job)) return ran;
    size_t begin = size_t(chunk) * chunk_;
    call_(context_, begin, std::min(count_, begin + chunk_));
    ++ran;
  }
}

void WorkerPool::run_erased(size_t count, size_t min_per_part, void* context, Trampoline call) {
  if (count == 0) return;
  min_per_part = std::max<size_t>(1, min_per_part);
  if (threads_.empty() || count < 2 * min_per_part) {
    call(context, 0, count);
    return;
  }
  size_t chunk = std::max<size_t>(1, min_per_part / 4);
  if ((count + chunk - 1) / chunk > kMaxChunks) chunk = (count + kMaxChunks - 1) / kMaxChunks;
  // No worker is inside a claim loop (the last run() waited for that), so
  // none reads these while they change.
  context_ = context;
  call_ = call;
  count_ = count;
  chunk_ = chunk;
  const uint64_t helped_before = worker_chunks_.load(std::memory_order_relaxed);
  job_.store(job_word(++sequence_, (count + chunk - 1) / chunk), std::memory_order_seq_cst);
  generation_.fetch_add(1, std::memory_order_seq_cst);
  ++shared_jobs_;
  // A worker that is spinning sees the new generation by itself; one asleep
  // needs a system call, worth it only if it then gets a core in time.
  bool woke = false;
  if (sleepers_.load(std::memory_order_seq_cst) != 0 && should_wake()) {
    futex_wake_all(generation_);
    woke = true;
    ++wakeups_;
  }

  run_chunks();

  // Every chunk is claimed; wait for the workers still running theirs.
  for (int i = 0; i < kSpins && inside_.load(std::memory_order_seq_cst) != 0; ++i) cpu_relax();
  for (uint32_t n; (n = inside_.load(std::memory_order_seq_cst)) != 0;) {
    caller_waiting_.store(1, std::memory_order_seq_cst);
    // The kernel sleeps only while inside_ still holds n; the worker that
    // takes it to 0 sees caller_waiting_ and wakes us.
    if ((n = inside_.load(std::memory_order_seq_cst)) != 0) futex_wait(inside_, n);
    caller_waiting_.store(0, std::memory_order_seq_cst);
  }
  note_outcome(woke, worker_chunks_.load(std::memory_order_relaxed) != helped_before);
}

bool WorkerPool::sharing() {
  if (threads_.empty()) return false;
  return should_wake();
}

bool WorkerPool::should_wake() {
  if (skip_wakes_ == 0) return true;
  --skip_wakes_;
  return false;
}

void WorkerPool::note_outcome(bool woke, bool workers_helped) {
  if (!woke) return;
  if (workers_helped) {
    useless_wakes_ = 0;
    return;
  }
  // No core was free in time: stop paying for wake-ups, 2, 4, ... 64 jobs.
  useless_wakes_ = std::min<uint32_t>(useless_wakes_ + 1, 6);
  skip_wakes_ = std::min<uint32_t>(kMaxSkippedWakes, 1u << useless_wakes_);
}

void WorkerPool::worker_main() {
  // Not a load: the first job may be published before this thread runs.
  uint32_t seen = 0;
  bool spin = false;
  for (;;) {
    // Wait for a new job: poll a while after useful work, then sleep.
    uint32_t now = generation_.load(std::memory_order_seq_cst);
    for (int i = 0; spin && now == seen && i < kSpins; ++i) {
      cpu_relax();
      now = generation_.load(std::memory_order_seq_cst);
    }
    while (now == seen) {
      sleepers_.fetch_add(1, std::memory_order_seq_cst);
      // The caller bumps generation_ before it reads sleepers_: either it
      // sees us here and wakes us, or we see its new generation and don't sleep.
      if (generation_.load(std::memory_order_seq_cst) == seen) futex_wait(generation_, seen);
      sleepers_.fetch_sub(1, std::memory_order_seq_cst);
      now = generation_.load(std::memory_order_seq_cst);
    }
    seen = now;
    if (stopping_.load(std::memory_order_seq_cst)) return;

    inside_.fetch_add(1, std::memory_order_seq_cst);
    size_t ran = run_chunks();
    if (ran) worker_chunks_.fetch_add(ran, std::memory_order_relaxed);
    if (inside_.fetch_sub(1, std::memory_order_seq_cst) == 1 &&
        caller_waiting_.load(std::memory_order_seq_cst))
      futex_wake_all(inside_);
    spin = ran > 0;
  }
}

}  // namespace wgp
