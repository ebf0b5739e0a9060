#include "util/worker_pool.h"

#include <algorithm>
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

// Waits until `value` differs from `old`; returns the new value.
template <typename T>
T wait_change(const std::atomic<T>& value, T old) {
  for (int i = 0; i < kSpins; ++i) {
    T now = value.load(std::memory_order_acquire);
    if (now != old) return now;
    cpu_relax();
  }
  T now;
  while ((now = value.load(std::memory_order_acquire)) == old)
    value.wait(old, std::memory_order_acquire);
  return now;
}

}  // namespace

WorkerPool::WorkerPool(size_t workers) {
  threads_.reserve(workers);
  for (size_t i = 0; i < workers; ++i) threads_.emplace_back([this, i] { worker_main(i + 1); });
}

WorkerPool::~WorkerPool() {
  stopping_.store(true, std::memory_order_release);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  generation_.notify_all();
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
  generation_.notify_all();

  call(context, 0, count / parts);

  uint32_t left;
  while ((left = unfinished_.load(std::memory_order_acquire)) != 0) wait_change(unfinished_, left);
}

void WorkerPool::worker_main(size_t id) {
  // Not a load: the first job may be published before this thread runs.
  uint32_t seen = 0;
  for (;;) {
    seen = wait_change(generation_, seen);
    if (stopping_.load(std::memory_order_acquire)) return;
    if (id < parts_) call_(context_, count_ * id / parts_, count_ * (id + 1) / parts_);
    if (unfinished_.fetch_sub(1, std::memory_order_acq_rel) == 1) unfinished_.notify_all();
  }
}

}  // namespace wgp
