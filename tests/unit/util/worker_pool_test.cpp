// WorkerPool: every index of a job runs exactly once, in contiguous chunks;
// small jobs stay on the caller; the caller does the work of a worker that
// does not turn up instead of waiting for it; wake-ups that find nothing to
// do back off; and many jobs in a row (the data path runs one per batch)
// neither lose nor repeat work — run under stress by repetition.
#include "util/worker_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace wgp {
namespace {

using namespace std::chrono_literals;

TEST(WorkerPool, EveryIndexRunsExactlyOnceInContiguousChunks) {
  for (size_t workers : {0, 1, 3}) {
    WorkerPool pool(workers);
    EXPECT_EQ(pool.workers(), workers);
    for (size_t count : {0, 1, 7, 64, 1000, 4096}) {
      std::vector<std::atomic<int>> hits(count);
      std::mutex m;
      std::set<std::pair<size_t, size_t>> ranges;
      pool.run(count, 8, [&](size_t begin, size_t end) {
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
      if (workers > 0 && count >= 16) {
        for (auto [b, e] : ranges) EXPECT_LE(e - b, 2u) << "chunks of min_per_part / 4";
      }
    }
  }
}

TEST(WorkerPool, SmallJobsStayOnTheCaller) {
  WorkerPool pool(2);
  const auto caller = std::this_thread::get_id();
  std::atomic<int> elsewhere{0}, calls{0};
  pool.run(63, 32, [&](size_t begin, size_t end) {
    elsewhere += std::this_thread::get_id() != caller;
    calls += 1;
    EXPECT_EQ(begin, 0u);
    EXPECT_EQ(end, 63u);
  });
  EXPECT_EQ(elsewhere.load(), 0) << "below 2 * min_per_part: no thread woken";
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(pool.shared_jobs(), 0u);
}

// The point of chunks claimed one at a time: a worker that stalls (here it
// waits for the caller, as a worker preempted for another process would
// simply not run) holds up at most the one chunk it took, never a share of
// the job: the caller does everything else meanwhile. With the old fixed
// split into one range per thread, half of this job was the worker's.
TEST(WorkerPool, AStalledWorkerHoldsUpOneChunkAtMost) {
  WorkerPool pool(1);
  const auto caller = std::this_thread::get_id();
  constexpr size_t kCount = 256, kMinPerPart = 8, kChunk = kMinPerPart / 4;
  bool worker_joined = false;
  for (int attempt = 0; attempt < 50 && !worker_joined; ++attempt) {
    std::atomic<size_t> done{0};
    std::atomic<bool> worker_in{false};
    pool.run(kCount, kMinPerPart, [&](size_t begin, size_t end) {
      if (std::this_thread::get_id() != caller && !worker_in.exchange(true)) {
        // The first chunk this worker takes: stall until the caller did the
        // rest of the job (bounded, so a failure cannot hang the test).
        auto deadline = std::chrono::steady_clock::now() + 3s;
        while (done.load() < kCount - kChunk && std::chrono::steady_clock::now() < deadline)
          std::this_thread::yield();
        EXPECT_LE(end - begin, kChunk);
        EXPECT_EQ(done.load(), kCount - (end - begin)) << "work stuck behind a stalled worker";
      } else if (std::this_thread::get_id() == caller && done.load() == 0) {
        // Give the worker a moment to wake up and take a chunk.
        auto deadline = std::chrono::steady_clock::now() + 200ms;
        while (!worker_in.load() && std::chrono::steady_clock::now() < deadline)
          std::this_thread::yield();
      }
      done += end - begin;
    });
    ASSERT_EQ(done.load(), kCount);
    worker_joined = worker_in.load();
  }
  EXPECT_TRUE(worker_joined) << "the worker never took part in 50 jobs";
}

// A worker that is woken but never gets there in time: the caller stops
// waking it after such wake-ups, for 2, 4, ... up to 64 jobs.
TEST(WorkerPool, UselessWakeUpsBackOff) {
  WorkerPool pool(1);
  // Let the worker fall asleep.
  std::this_thread::sleep_for(50ms);
  const uint64_t jobs = 400;
  for (uint64_t j = 0; j < jobs; ++j) {
    // The caller takes every chunk at once, before a woken worker can run: a
    // job of 16 single-item chunks that take no time.
    pool.run(16, 4, [](size_t, size_t) {});
  }
  EXPECT_EQ(pool.shared_jobs(), jobs);
  // Some wake-ups do find work (the worker may be spinning or quick), but
  // most of them must have been skipped.
  EXPECT_LT(pool.wakeups(), jobs / 2) << "worker chunks: " << pool.worker_chunks();
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

// Jobs with real work on every thread: the workers take part (this machine
// may be busy, so only "at some point" is asked), and nothing is lost.
TEST(WorkerPool, WorkersTakePartInLongJobs) {
  WorkerPool pool(2);
  std::atomic<uint64_t> sum{0};
  for (int round = 0; round < 200 && pool.worker_chunks() == 0; ++round) {
    pool.run(512, 32, [&](size_t begin, size_t end) {
      uint64_t x = 0;
      for (size_t i = begin; i < end; ++i)
        for (int k = 0; k < 2000; ++k) x += (i * 2654435761u) ^ uint64_t(k);
      sum.fetch_add(x | 1);
    });
  }
  EXPECT_GT(pool.worker_chunks(), 0u);
  EXPECT_GT(sum.load(), 0u);
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
