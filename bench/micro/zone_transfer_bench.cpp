// The registry as a hidden primary with 10,000 published peers (issue 12):
// what a new version of the zone costs (every record enumerated and sorted,
// compared with the last, the difference journalled), and what a transfer
// costs to build: an AXFR of the whole zone and an IXFR of one changed
// endpoint, each in 16 KiB messages signed with TSIG (hmac-sha256, the MACs
// chained) as the registry sends them. No sockets: bench/zone.sh measures a
// real registry and Knot DNS copying it.
#include <benchmark/benchmark.h>

#include <vector>

#include "common/synthetic.h"
#include "dnssd/responder_zone.h"
#include "dnssd/tsig.h"
#include "dnssd/zone_history.h"
#include "dnssd/zone_transfer.h"

namespace wgp::dnssd {
namespace {

constexpr uint32_t kPeers = 10000;
constexpr const char* kZone = "bench.example.";

struct Fixture {
  ZoneView zone{kZone};
  ZoneHistory history;
  std::vector<PublishedPeer> peers = bench::synthetic_peers(kPeers);
  TsigKey key{{3, 'x', 'f', 'r', 0}, *HmacKey::from_bytes(std::vector<uint8_t>(32, 7))};
  ParsedQuery axfr, ixfr;

  Fixture() {
    zone.set_peers(peers);
    history.reset(1, version());
    for (auto [q, type] : {std::pair{&axfr, kTypeAxfr}, {&ixfr, kTypeIxfr}}) {
      auto wire = bench::make_query(7, kZone, type);
      if (parse_query(wire, *q) != QueryParse::kOk) std::abort();
    }
  }
  RecordList version() const {
    RecordList r;
    zone.all_records(r);
    r.sort_unique();
    return r;
  }
  // Peer `i` moves to another port, and that is committed as the next version.
  void move_one(uint32_t i) {
    peers[i].endpoint.port = uint16_t(peers[i].endpoint.port + 1);
    zone.set_peers(peers);
    history.commit(history.serial() + 1, version());
  }
  // The response to `q`, signed as the registry signs it; returns its bytes.
  size_t transfer(const ParsedQuery& q, std::optional<uint32_t> from) {
    TsigSession tsig(key);
    std::vector<std::vector<uint8_t>> messages;
    build_transfer(q, from, zone, history, kTransferMessageLimit - tsig.record_size(), messages);
    size_t bytes = 0;
    for (auto& m : messages) {
      tsig.sign(m, 1800000000);
      bytes += m.size();
    }
    return bytes;
  }
};

// A new version: enumerate, sort, diff against the last, journal (one peer moved).
void BM_ZoneCommitOneChange10k(benchmark::State& state) {
  Fixture f;
  uint32_t i = 0;
  for (auto _ : state) f.move_one(i++ % kPeers);
  state.counters["records"] = double(f.history.records().size());
}
BENCHMARK(BM_ZoneCommitOneChange10k)->Unit(benchmark::kMillisecond);

// Publishing one peer's move (issue 17 item 7): the whole table anew, as the
// registry did for every change, against that one peer alone.
void BM_ZonePublishAll10k(benchmark::State& state) {
  Fixture f;
  for (auto _ : state) f.zone.set_peers(f.peers);
}
BENCHMARK(BM_ZonePublishAll10k)->Unit(benchmark::kMillisecond);

void BM_ZonePublishOne10k(benchmark::State& state) {
  Fixture f;
  uint32_t i = 0;
  for (auto _ : state) {
    PublishedPeer p = f.peers[i++ % kPeers];
    p.endpoint.port = uint16_t(p.endpoint.port + 1);
    f.zone.upsert_peer(std::move(p));
  }
}
BENCHMARK(BM_ZonePublishOne10k)->Unit(benchmark::kMicrosecond);

// The part of a commit that is the version itself: enumerate and sort.
void BM_ZoneVersion10k(benchmark::State& state) {
  Fixture f;
  size_t n = 0;
  for (auto _ : state) n = f.version().size();
  state.counters["records"] = double(n);
}
BENCHMARK(BM_ZoneVersion10k)->Unit(benchmark::kMillisecond);

void BM_AxfrBuild10k(benchmark::State& state) {
  Fixture f;
  size_t bytes = 0;
  for (auto _ : state) bytes = f.transfer(f.axfr, std::nullopt);
  state.counters["bytes"] = double(bytes);
  state.counters["uncompressed"] = double(f.history.records().wire_size());
}
BENCHMARK(BM_AxfrBuild10k)->Unit(benchmark::kMillisecond);

void BM_IxfrBuildOneChange10k(benchmark::State& state) {
  Fixture f;
  f.move_one(42);
  size_t bytes = 0;
  for (auto _ : state) bytes = f.transfer(f.ixfr, 1);
  state.counters["bytes"] = double(bytes);
}
BENCHMARK(BM_IxfrBuildOneChange10k)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace wgp::dnssd
