// wgp_attack: the hostile peer of the flood and replay integration tests
// (issue 5, items 3 and 4). It speaks to one target IP:PORT from this host's
// own address, is bounded in packets (kMaxPackets) and time (kMaxSeconds),
// and prints `key=value` counts on stdout for the test to assert on; it never
// writes a file.
//
//   wgp_attack flood   --target IP:PORT --pubkey B64 [--rate N] [--seconds S]
//                      [--key PRIVB64] [--pool N] [--cookies yes] [--bind-port P]
//   wgp_attack garbage --target IP:PORT [--count N] [--rate N] [--pubkey B64] [--bind-port P]
//   wgp_attack replay  --pcap FILE --target IP:PORT [--from-port P] [--to-port P]
//                      [--from-ip IP] [--type T] [--limit N] [--flip OFFSET]
//                      [--gap-ms MS] [--listen-ms MS] [--bind-port P]
//
// replay re-sends the UDP payloads of a `tcpdump -w` capture that match every
// filter given (source port, destination port, source address, WireGuard type
// = first byte with three zero bytes after it), in capture order; --flip XORs
// 0x01 into byte OFFSET of each (negative: from the end), which forges them.
//
// The discovery modes (issue 10) attack the DNS-SD side of the port; two of
// them forge their source address (raw socket, IPv4, needs root):
//   wgp_attack spoof-query --from IP:PORT --target IP:PORT --zone ZONE [--key B64]
//                          [--count N] [--gap-ms MS] [--edns SIZE]
//   wgp_attack forge-srv   --from IP:PORT --target IP:PORT --zone ZONE --key B64
//                          --forged IP:PORT [--rounds N] [--seconds S]
//   wgp_attack dns-flood   --target IP:PORT --zone ZONE [--key B64] [--count N]
//                          [--rate N] [--edns SIZE] [--listen-ms MS] [--bind-port P]
// spoof-query sends queries that seem to come from --from (SRV of the key's
// instance name, or PTR of the service name without --key); forge-srv sends
// forged SRV answers "KEY is at FORGED" for every DNS id, sweep after sweep;
// dns-flood sends valid queries (EDNS 65535 unless --edns says otherwise,
// 0: no OPT) from our own address and measures the answers and the
// amplification factor.
#include <cstdio>
#include <exception>

#include "attack_common.h"
#include "attack_dns_flood.h"
#include "attack_flood.h"
#include "attack_forge.h"
#include "attack_garbage.h"
#include "attack_pcap.h"
#include "attack_spoof.h"
#include "crypto/random.h"
#include "crypto/x25519.h"
#include "dnssd/discovery_query.h"

namespace wgp::attack {
namespace {

PublicKey parse_public(const std::string& text) {
  auto k = public_key_from_base64(text);
  if (!k) throw std::invalid_argument("'" + text + "' is not a base64 WireGuard key");
  return *k;
}

uint16_t bind_port(const Options& o) { return uint16_t(o.number("bind-port", 0, 0, 65535)); }

int flood(const Options& o) {
  Endpoint target = o.endpoint("target");
  PublicKey pub = parse_public(o.need("pubkey"));
  double rate = o.number("rate", 20000, 1, 200000);
  double seconds = o.number("seconds", 5, 0.1, kMaxSeconds);
  size_t pool = size_t(o.number("pool", 2048, 1, 65536));
  bool cookies = o.get("cookies").value_or("no") == "yes";
  std::optional<PrivateKey> key;
  if (auto text = o.get("key")) {
    key = secret_key_from_base64(*text);
    if (!key) throw std::invalid_argument("--key is not a base64 private key");
  } else {
    SystemRandom rng;
    key = generate_private_key(rng);
  }
  UdpSocket sock = open_socket(bind_port(o));
  o.check_all_used();
  Flooder flooder(pub, *key, pool);
  flooder.run(sock, target, rate, seconds, cookies);
  return 0;
}

int garbage(const Options& o) {
  Endpoint target = o.endpoint("target");
  auto count = uint64_t(o.number("count", 2000, 1, double(kMaxPackets)));
  double rate = o.number("rate", 5000, 1, 100000);
  std::optional<PublicKey> pub;
  if (auto text = o.get("pubkey")) pub = parse_public(*text);
  UdpSocket sock = open_socket(bind_port(o));
  o.check_all_used();
  run_garbage(sock, target, count, rate, pub);
  return 0;
}

int replay(const Options& o) {
  Endpoint target = o.endpoint("target");
  std::string path = o.need("pcap");
  auto from_port = o.get("from-port"), to_port = o.get("to-port"), type = o.get("type");
  std::optional<IpAddress> from_ip;
  if (auto text = o.get("from-ip")) {
    from_ip = IpAddress::parse(*text);
    if (!from_ip) throw std::invalid_argument("--from-ip: '" + *text + "' is no address");
  }
  auto limit = uint64_t(o.number("limit", double(kMaxPackets), 1, double(kMaxPackets)));
  std::optional<long> flip;
  if (o.get("flip")) flip = long(o.number("flip", 0, -65535, 65535));
  double gap_ms = o.number("gap-ms", 1, 0, 1000);
  double listen_ms = o.number("listen-ms", 1000, 0, 10000);
  UdpSocket sock = open_socket(bind_port(o));
  o.check_all_used();

  auto captured = read_pcap_udp(path);
  DatagramBatch batch(64, 2048);
  ReplyCounts counts;
  uint64_t matched = 0, sent = 0, errors = 0;
  auto start = BootClock::now();
  for (CapturedUdp& d : captured) {
    if (from_port && d.source.port != std::stoi(*from_port)) continue;
    if (to_port && d.destination.port != std::stoi(*to_port)) continue;
    if (from_ip && d.source.address != *from_ip) continue;
    if (type && (d.payload.size() < 4 || load_le32(d.payload.data()) != uint32_t(std::stoi(*type))))
      continue;
    if (matched >= limit) break;
    if (BootClock::now() - start > std::chrono::seconds(int(kMaxSeconds))) break;
    ++matched;
    if (flip) {
      long at = *flip < 0 ? long(d.payload.size()) + *flip : *flip;
      if (at < 0 || at >= long(d.payload.size())) continue;  // too short to forge there
      d.payload[size_t(at)] ^= 0x01;
    }
    send_one(sock, target, d.payload) ? ++sent : ++errors;
    drain(sock, batch, counts);
    if (gap_ms > 0) std::this_thread::sleep_for(std::chrono::microseconds(int64_t(gap_ms * 1000)));
  }
  listen_for(sock, batch, counts, listen_ms);
  std::printf("captured=%zu matched=%llu sent=%llu send_errors=%llu ", captured.size(),
              (unsigned long long)matched, (unsigned long long)sent, (unsigned long long)errors);
  print_replies(counts);
  return 0;
}

// The question of the discovery modes: SRV of the instance name of --key, or
// PTR of the service name. Returns the name and sets `qtype`.
std::string question(const Options& o, const std::string& zone, uint16_t& qtype) {
  if (auto text = o.get("key")) {
    qtype = dnssd::kQueryTypeSrv;
    return dnssd::instance_name(parse_public(*text), zone);
  }
  qtype = dnssd::kQueryTypePtr;
  return dnssd::service_name(zone);
}

// --edns SIZE (0: no OPT record); `fallback` when absent.
std::optional<uint16_t> edns_size(const Options& o, double fallback) {
  double size = o.number("edns", fallback, 0, 65535);
  if (size == 0) return std::nullopt;
  return uint16_t(size);
}

int spoof_query(const Options& o) {
  SpoofQueryPlan plan;
  plan.from = o.endpoint("from");
  plan.target = o.endpoint("target");
  std::string zone = o.need("zone");
  plan.name = question(o, zone, plan.qtype);
  plan.count = uint64_t(o.number("count", 1, 1, 1000));
  plan.gap_ms = o.number("gap-ms", 10, 0, 1000);
  plan.edns = edns_size(o, dnssd::kEdnsUdpSize);
  o.check_all_used();
  run_spoof_query(plan);
  return 0;
}

int forge_srv(const Options& o) {
  ForgePlan plan;
  plan.from = o.endpoint("from");
  plan.target = o.endpoint("target");
  plan.zone = o.need("zone");
  plan.key = parse_public(o.need("key"));
  plan.forged = o.endpoint("forged");
  plan.rounds = uint64_t(o.number("rounds", 1, 1, double(kMaxPackets / kIdSpace)));
  plan.seconds = o.number("seconds", 5, 0.1, kMaxSeconds);
  o.check_all_used();
  SrvForger forger(plan);
  forger.self_check();
  forger.run();
  return 0;
}

int dns_flood(const Options& o) {
  DnsFloodPlan plan;
  plan.target = o.endpoint("target");
  std::string zone = o.need("zone");
  plan.name = question(o, zone, plan.qtype);
  plan.count = uint64_t(o.number("count", 100, 1, 100000));
  plan.rate = o.number("rate", 500, 1, 50000);
  plan.edns = edns_size(o, 65535);
  plan.listen_ms = o.number("listen-ms", 1000, 0, 10000);
  UdpSocket sock = open_socket(bind_port(o));
  o.check_all_used();
  run_dns_flood(sock, plan);
  return 0;
}

void usage() {
  std::fprintf(
      stderr,
      "usage: wgp_attack flood --target IP:PORT --pubkey B64 [--rate N] [--seconds S]\n"
      "                        [--key PRIVB64] [--pool N] [--cookies yes] [--bind-port P]\n"
      "       wgp_attack garbage --target IP:PORT [--count N] [--rate N] [--pubkey B64]\n"
      "                          [--bind-port P]\n"
      "       wgp_attack replay --pcap FILE --target IP:PORT [--from-port P] [--to-port P]\n"
      "                         [--from-ip IP] [--type T] [--limit N] [--flip OFFSET]\n"
      "                         [--gap-ms MS] [--listen-ms MS] [--bind-port P]\n"
      "       wgp_attack spoof-query --from IP:PORT --target IP:PORT --zone ZONE [--key B64]\n"
      "                              [--count N] [--gap-ms MS] [--edns SIZE]\n"
      "       wgp_attack forge-srv --from IP:PORT --target IP:PORT --zone ZONE --key B64\n"
      "                            --forged IP:PORT [--rounds N] [--seconds S]\n"
      "       wgp_attack dns-flood --target IP:PORT --zone ZONE [--key B64] [--count N]\n"
      "                            [--rate N] [--edns SIZE] [--listen-ms MS] [--bind-port P]\n");
}

}  // namespace
}  // namespace wgp::attack

int main(int argc, char** argv) {
  using namespace wgp::attack;
  if (argc < 2) {
    usage();
    return 2;
  }
  std::string mode = argv[1];
  try {
    Options o(argc, argv, 2);
    if (mode == "flood") return flood(o);
    if (mode == "garbage") return garbage(o);
    if (mode == "replay") return replay(o);
    if (mode == "spoof-query") return spoof_query(o);
    if (mode == "forge-srv") return forge_srv(o);
    if (mode == "dns-flood") return dns_flood(o);
    usage();
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "wgp_attack %s: %s\n", mode.c_str(), e.what());
    return 2;
  }
}
