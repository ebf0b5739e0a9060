// Cryptokey-routing lookups with 10,000 peers, one /32 each (a registry's or
// a hub's table): hits in random order (the worst case for the cache: the
// trie does not fit in L2), hits in a small hot set (one busy flow per
// batch, the common case), and misses.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <array>
#include <random>
#include <vector>

#include "wg/allowed_ips.h"

namespace wgp {
namespace {

struct FakePeer {
  uint32_t id = 0;
};

constexpr uint32_t kPeers = 10000;

// Peer i owns 10.(i >> 16).(i >> 8).(i)/32 + 1 in the last octets, so the
// addresses are spread over 10.0.0.0/16 like a real /16 tunnel network,
// plus one IPv6 /128 in fd00::/64.
struct Table {
  std::vector<FakePeer> peers{kPeers};
  AllowedIps<FakePeer> ips;
  std::vector<std::array<uint8_t, 4>> addresses;

  Table() {
    std::mt19937 shuffle(42);
    addresses.reserve(kPeers);
    for (uint32_t i = 0; i < kPeers; ++i) {
      uint32_t host = i + 1;
      std::array<uint8_t, 4> a = {10, uint8_t(host >> 16), uint8_t(host >> 8), uint8_t(host)};
      addresses.push_back(a);
      peers[i].id = i;
      ips.insert(IpPrefix{IpAddress::v4(a.data()), 32}, &peers[i]);
      std::array<uint8_t, 16> v6{0xfd};
      v6[12] = uint8_t(host >> 24), v6[13] = uint8_t(host >> 16), v6[14] = uint8_t(host >> 8),
      v6[15] = uint8_t(host);
      ips.insert(IpPrefix{IpAddress::v6(v6.data()), 128}, &peers[i]);
    }
    std::shuffle(addresses.begin(), addresses.end(), shuffle);
  }
};

const Table& table() {
  static const Table t;
  return t;
}

void BM_AllowedIpsLookupRandom(benchmark::State& state) {
  const Table& t = table();
  size_t i = 0;
  for (auto _ : state) {
    const FakePeer* p = t.ips.lookup(ByteView(t.addresses[i]));
    benchmark::DoNotOptimize(p);
    if (++i == t.addresses.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AllowedIpsLookupRandom);

// 64 destinations looked up over and over (a batch of a few busy flows).
void BM_AllowedIpsLookupHot64(benchmark::State& state) {
  const Table& t = table();
  size_t i = 0;
  for (auto _ : state) {
    const FakePeer* p = t.ips.lookup(ByteView(t.addresses[i]));
    benchmark::DoNotOptimize(p);
    i = (i + 1) & 63;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AllowedIpsLookupHot64);

void BM_AllowedIpsLookupMiss(benchmark::State& state) {
  const Table& t = table();
  std::vector<std::array<uint8_t, 4>> misses;
  for (uint32_t i = 0; i < 4096; ++i) {
    misses.push_back({10, uint8_t(0x80 | (i >> 8)), uint8_t(i), 7});  // 10.128.0.0/9: no peer
  }
  size_t i = 0;
  for (auto _ : state) {
    const FakePeer* p = t.ips.lookup(ByteView(misses[i]));
    benchmark::DoNotOptimize(p);
    i = (i + 1) & 4095;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AllowedIpsLookupMiss);

// Building the whole table (what loading a 10,000-peer config costs here).
void BM_AllowedIpsBuild10k(benchmark::State& state) {
  std::vector<FakePeer> peers(kPeers);
  for (auto _ : state) {
    AllowedIps<FakePeer> ips;
    for (uint32_t i = 0; i < kPeers; ++i) {
      uint32_t host = i + 1;
      uint8_t a[4] = {10, uint8_t(host >> 16), uint8_t(host >> 8), uint8_t(host)};
      ips.insert(IpPrefix{IpAddress::v4(a), 32}, &peers[i]);
    }
    benchmark::DoNotOptimize(ips.size());
  }
  state.SetItemsProcessed(int64_t(state.iterations()) * kPeers);
}
BENCHMARK(BM_AllowedIpsBuild10k)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace wgp
