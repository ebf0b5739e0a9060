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
  ::syscall(SYS_futex, reinterpret_cast<const uint32_t*>(&word), FUTEX_WAIT_PRIVATE, old,
            nullptr, nullptr, 0);
}
void futex_wake_all(std::atomic<uint32_t>& word) {
  ::syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word), FUTEX_WAKE_PRIVATE, INT_MAX, nullptr,
            nullptr, 0);
}

// Waits until `value` differs from `old`; returns the new value. The kernel
// re-checks the word before sleeping, so a change between our load and the
// call is never missed.
uint32_t wait_change(const std::atomic<uint32_t>& value, uint32_t old) {
  for (int i = 0; i < kSpins; ++i) {
    uint32_t now = value.load(std::memory_order_acquire);
    if (now != old) return now;
    cpu_relax();
  }
  uint32_t now;
  while ((now = value.load(std::memory_order_acquire)) == old) futex_wait(value, old);
  return now;
}

thread_local size_t t_worker_index = 0;  // set once by each worker thread

}  // namespace

size_t WorkerPool::this_thread() { return t_worker_index; }

WorkerPool::WorkerPool(size_t workers) {
  threads_.reserve(workers);
  for (size_t i = 0; i < workers; ++i) threads_.emplace_back([this, i] { worker_main(i + 1); });
}

WorkerPool::~WorkerPool() {
  stopping_.store(true, std::memory_order_release);
  generation_.fetch_add(1, std::memory_order_acq_rel);
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

void WorkerPool::run_erased(size_t count, size_t min_per_part, void* context, Trampoline call) {
  if (count == 0) return;
  size_t parts = std::min(threads_.size() + 1, std::max<size_t>(1, count / std::max<size_t>(1, min_per_part)));
  if (parts <= 1) {
    call(context, 0, count);
    return;
  }
  // Every worker acknowledges every job (also those with no range in it), so
  // none can still be reading these fields when the next job rewrites them.
  context_ = context;
  call_ = call;
  count_ = count;
  parts_ = parts;
  unfinished_.store(uint32_t(threads_.size()), std::memory_order_relaxed);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  futex_wake_all(generation_);

  call(context, 0, count / parts);

  uint32_t left;
  while ((left = unfinished_.load(std::memory_order_acquire)) != 0) wait_change(unfinished_, left);
}

void WorkerPool::worker_main(size_t id) {
  t_worker_index = id;
  // Not a load: the first job may be published before this thread runs.
  uint32_t seen = 0;
  for (;;) {
    seen = wait_change(generation_, seen);
    if (stopping_.load(std::memory_order_acquire)) return;
    if (id < parts_) call_(context_, count_ * id / parts_, count_ * (id + 1) / parts_);
    if (unfinished_.fetch_sub(1, std::memory_order_acq_rel) == 1) futex_wake_all(unfinished_);
  }
}

}  // namespace wgp
