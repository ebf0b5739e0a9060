// `wgp_attack dns-flood`: VALID plain DNS queries to a registry's WireGuard
// port from our own address (PTR of `_wireguard._udp.<zone>`, or SRV of a
// key's instance name with --key), each claiming a large EDNS UDP size
// (default 65535), at a rate, and counts what comes back: how a reflector is
// measured. With `Public = no` a wgpunch registry must stay silent to us; with
// `Public = yes` no answer may exceed 1,232 bytes (DESIGN.md §4), so the
// amplification factor (answer bytes / query bytes) stays <= 1232 / query size.
// Only the 12-byte header of an answer is read (QR, TC, RCODE, ANCOUNT).
#pragma once

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>

#include "attack_common.h"
#include "attack_dns.h"

namespace wgp::attack {

struct DnsFloodPlan {
  Endpoint target;
  std::string name;
  uint16_t qtype = 0;
  std::optional<uint16_t> edns;
  uint64_t count = 100;
  double rate = 500;
  double listen_ms = 1000;
};

struct DnsFloodCounts {
  uint64_t answers = 0, answer_bytes = 0, largest = 0, truncated = 0, refused = 0, errors = 0;
  uint64_t empty = 0;  // answers with ANCOUNT 0
};

inline void run_dns_flood(UdpSocket& sock, const DnsFloodPlan& plan) {
  sock.disable_offloads();  // one datagram per slot: every answer counted and sized alone
  DatagramBatch batch(16, DatagramBatch::kMaxDatagram);
  ReplyCounts counts;
  DnsFloodCounts dns;
  auto on_reply = [&](ByteView r) {
    auto h = response_header(r);
    if (!h) return;
    ++dns.answers;
    dns.answer_bytes += r.size();
    dns.largest = std::max<uint64_t>(dns.largest, r.size());
    if (h->truncated) ++dns.truncated;
    if (h->rcode == 5)
      ++dns.refused;
    else if (h->rcode != 0 && h->rcode != 3)
      ++dns.errors;  // NOERROR and NXDOMAIN are answers
    if (h->answers == 0) ++dns.empty;
  };
  uint64_t sent = 0, send_errors = 0, query_bytes = 0;
  size_t query_size = 0;
  uint16_t id = uint16_t(BootClock::now().time_since_epoch().count() >> 10);
  Instant start = BootClock::now();
  for (uint64_t i = 0; i < plan.count && i < kMaxPackets; ++i) {
    if (BootClock::now() - start > std::chrono::seconds(int(kMaxSeconds))) break;
    id = next_query_id(id);
    std::vector<uint8_t> q = dns_query(id, plan.name, plan.qtype, plan.edns);
    query_size = q.size();
    if (send_one(sock, plan.target, q)) {
      ++sent;
      query_bytes += q.size();
    } else {
      ++send_errors;
    }
    drain(sock, batch, counts, on_reply);
    auto due = start + std::chrono::microseconds(int64_t(double(i + 1) * 1e6 / plan.rate));
    while (BootClock::now() < due) {
      pollfd p{sock.fd(), POLLIN, 0};
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(due - BootClock::now());
      ::poll(&p, 1, int(std::max<int64_t>(0, left.count())));
      drain(sock, batch, counts, on_reply);
    }
  }
  listen_for(sock, batch, counts, plan.listen_ms, on_reply);
  double factor = query_bytes ? double(dns.answer_bytes) / double(query_bytes) : 0;
  double largest_factor = query_size ? double(dns.largest) / double(query_size) : 0;
  std::printf(
      "queries=%llu send_errors=%llu query_size=%zu query_bytes=%llu answers=%llu "
      "answer_bytes=%llu largest_answer=%llu truncated=%llu refused=%llu errors=%llu "
      "empty=%llu amplification=%.3f largest_factor=%.3f non_dns_replies=%llu\n",
      (unsigned long long)sent, (unsigned long long)send_errors, query_size,
      (unsigned long long)query_bytes, (unsigned long long)dns.answers,
      (unsigned long long)dns.answer_bytes, (unsigned long long)dns.largest,
      (unsigned long long)dns.truncated, (unsigned long long)dns.refused,
      (unsigned long long)dns.errors, (unsigned long long)dns.empty, factor, largest_factor,
      (unsigned long long)(counts.total() - dns.answers));
}

}  // namespace wgp::attack
