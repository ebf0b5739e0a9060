// The registry's DNS-SD responder with 1,000 published peers: the cost of
// one answer from the cache (SRV with the target's A in ADDITIONAL, A at a
// host name, the service PTR truncated to 512 bytes), and of a cache miss
// (built with ldns). Sockets are not involved: bench/dns measures those.
#include <benchmark/benchmark.h>

#include <array>
#include <vector>

#include "common/synthetic.h"
#include "dnssd/responder.h"

namespace wgp::dnssd {
namespace {

constexpr uint32_t kPeers = 1000;
constexpr const char* kZone = "bench.example.";

struct Fixture {
  Responder responder{kZone};
  std::vector<std::vector<uint8_t>> srv, a;
  std::vector<uint8_t> ptr;
  std::array<uint8_t, 65535> out{};

  Fixture() {
    auto peers = bench::synthetic_peers(kPeers);
    for (uint32_t i = 0; i < kPeers; ++i) {
      srv.push_back(
          bench::make_query(uint16_t(i), bench::instance_name(peers[i].key, kZone), kTypeSrv));
      a.push_back(bench::make_query(uint16_t(i), bench::host_name(peers[i].key, kZone), kTypeA));
    }
    ptr = bench::make_query(1, bench::service_name(kZone), kTypePtr);
    responder.set_peers(std::move(peers));
  }

  size_t ask(const std::vector<uint8_t>& q) {
    return responder.answer(q, QueryAccess::kAllowed, out).length;
  }

  // Answers every query once so that the cache holds them all.
  bool warm() {
    for (auto& q : srv)
      if (ask(q) == 0) return false;
    for (auto& q : a)
      if (ask(q) == 0) return false;
    return ask(ptr) != 0;
  }
};

void BM_ResponderCachedSrv(benchmark::State& state) {
  Fixture f;
  if (!f.warm()) state.SkipWithError("responder did not answer");
  size_t i = 0, bytes = 0;
  for (auto _ : state) {
    bytes += f.ask(f.srv[i]);
    if (++i == kPeers) i = 0;
  }
  benchmark::DoNotOptimize(bytes);
  state.SetItemsProcessed(state.iterations());
  state.counters["resp_bytes"] = double(bytes) / double(state.iterations());
}
BENCHMARK(BM_ResponderCachedSrv);

void BM_ResponderCachedA(benchmark::State& state) {
  Fixture f;
  if (!f.warm()) state.SkipWithError("responder did not answer");
  size_t i = 0, bytes = 0;
  for (auto _ : state) {
    bytes += f.ask(f.a[i]);
    if (++i == kPeers) i = 0;
  }
  benchmark::DoNotOptimize(bytes);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ResponderCachedA);

// The PTR listing all 1,000 instances, cut to 512 bytes with TC (no EDNS).
void BM_ResponderCachedPtr(benchmark::State& state) {
  Fixture f;
  if (!f.warm()) state.SkipWithError("responder did not answer");
  size_t bytes = 0;
  for (auto _ : state) bytes += f.ask(f.ptr);
  benchmark::DoNotOptimize(bytes);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ResponderCachedPtr);

// Cache misses: set_peers empties the cache, then every SRV is built once.
void BM_ResponderUncachedSrv(benchmark::State& state) {
  Fixture f;
  auto peers = bench::synthetic_peers(kPeers);
  for (auto _ : state) {
    state.PauseTiming();
    f.responder.set_peers(peers);
    state.ResumeTiming();
    for (auto& q : f.srv) benchmark::DoNotOptimize(f.ask(q));
  }
  state.SetItemsProcessed(int64_t(state.iterations()) * kPeers);
}
BENCHMARK(BM_ResponderUncachedSrv)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace wgp::dnssd
