// WorkerPool: every index of a job runs exactly once, in contiguous ranges,
// the caller takes the first range, small jobs stay on the caller, and many
// jobs in a row (the data path runs one per batch) neither lose nor repeat
// work — run under ThreadSanitizer-like stress by repetition.
#include "util/worker_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace wgp {
namespace {

TEST(WorkerPool, EveryIndexRunsExactlyOnceInContiguousRanges) {
  for (size_t workers : {0, 1, 3}) {
    WorkerPool pool(workers);
    EXPECT_EQ(pool.workers(), workers);
    for (size_t count : {0, 1, 7, 64, 1000, 4096}) {
      std::vector<std::atomic<int>> hits(count);
      std::mutex m;
      std::set<std::pair<size_t, size_t>> ranges;
      pool.run(count, 1, [&](size_t begin, size_t end) {
        for (size_t i = begin; i < end; ++i) hits[i].fetch_add(1);
        std::lock_guard lock(m);
        ranges.insert({begin, end});
      });
      for (size_t i = 0; i < count; ++i) ASSERT_EQ(hits[i].load(), 1) << i << " of " << count;
      // The ranges tile [0, count) without gaps or overlaps.
      size_t next = 0;
      for (auto [b, e] : ranges) {
        EXPECT_EQ(b, next);
        next = e;
      }
      EXPECT_EQ(next, count);
      EXPECT_LE(ranges.size(), workers + 1);
    }
  }
}

TEST(WorkerPool, SmallJobsStayOnTheCallerAndTheCallerTakesTheFirstRange) {
  WorkerPool pool(2);
  const auto caller = std::this_thread::get_id();
  std::atomic<int> elsewhere{0};
  pool.run(31, 32, [&](size_t, size_t) { elsewhere += std::this_thread::get_id() != caller; });
  EXPECT_EQ(elsewhere.load(), 0) << "below min_per_part: no thread woken";

  std::set<std::thread::id> threads;
  std::mutex m;
  std::thread::id first_range_thread;
  pool.run(96, 32, [&](size_t begin, size_t) {
    std::lock_guard lock(m);
    threads.insert(std::this_thread::get_id());
    if (begin == 0) first_range_thread = std::this_thread::get_id();
  });
  EXPECT_EQ(first_range_thread, caller);
  EXPECT_EQ(threads.size(), 3u) << "96 items, 32 per part: caller and both workers";
}

TEST(WorkerPool, ThousandsOfJobsInARowLoseNothing) {
  WorkerPool pool(3);
  std::atomic<uint64_t> total{0};
  uint64_t expected = 0;
  for (size_t round = 0; round < 5000; ++round) {
    size_t count = 1 + round % 200;
    pool.run(count, 8, [&](size_t begin, size_t end) {
      uint64_t local = 0;
      for (size_t i = begin; i < end; ++i) local += i + 1;
      total.fetch_add(local);
    });
    expected += count * (count + 1) / 2;
    // run() returned: everything of this job is visible now.
    ASSERT_EQ(total.load(), expected) << "round " << round;
  }
}

TEST(WorkerPool, DefaultSizeFollowsTheEnvironment) {
  ::setenv("WGPUNCH_CRYPTO_WORKERS", "2", 1);
  EXPECT_EQ(WorkerPool::default_workers(), 2u);
  ::setenv("WGPUNCH_CRYPTO_WORKERS", "0", 1);
  EXPECT_EQ(WorkerPool::default_workers(), 0u);
  ::setenv("WGPUNCH_CRYPTO_WORKERS", "lots", 1);
  size_t fallback = WorkerPool::default_workers();
  ::unsetenv("WGPUNCH_CRYPTO_WORKERS");
  EXPECT_EQ(fallback, WorkerPool::default_workers()) << "garbage means the default";
  EXPECT_LE(fallback, 3u);
}

}  // namespace
}  // namespace wgp
