// Shared pieces of wgp_attack (tests/tools/attack.cpp): command-line options,
// the attacker's UDP socket and the reply counter. The tool attacks a node in
// a test's network namespace; it is bounded in packets and time, writes only
// to stdout/stderr and never touches a file.
#pragma once

#include <poll.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

#include "net/ip.h"
#include "net/udp_socket.h"
#include "noise/wire.h"
#include "util/time.h"

namespace wgp::attack {

// Hard caps, whatever the command line says: the tool must end on its own.
constexpr uint64_t kMaxPackets = 2'000'000;
constexpr double kMaxSeconds = 60;

// "--name value" pairs after the mode; every option takes a value.
class Options {
 public:
  Options(int argc, char** argv, int first) {
    for (int i = first; i < argc; i += 2) {
      std::string name = argv[i];
      if (name.rfind("--", 0) != 0 || i + 1 >= argc)
        throw std::invalid_argument("expected --option value, got '" + name + "'");
      values_[name.substr(2)] = argv[i + 1];
    }
  }

  std::optional<std::string> get(const std::string& name) const {
    auto it = values_.find(name);
    if (it == values_.end()) return std::nullopt;
    used_[name] = true;
    return it->second;
  }
  std::string need(const std::string& name) const {
    auto v = get(name);
    if (!v) throw std::invalid_argument("missing --" + name);
    return *v;
  }
  // A number in [lo, hi]; `fallback` when absent.
  double number(const std::string& name, double fallback, double lo, double hi) const {
    auto v = get(name);
    if (!v) return fallback;
    size_t end = 0;
    double d = std::stod(*v, &end);
    if (end != v->size() || d < lo || d > hi)
      throw std::invalid_argument("--" + name + " must be a number in [" + std::to_string(lo) +
                                  ", " + std::to_string(hi) + "]");
    return d;
  }
  Endpoint endpoint(const std::string& name) const {
    std::string text = need(name);
    auto ep = Endpoint::parse(text);
    if (!ep) throw std::invalid_argument("--" + name + ": '" + text + "' is not IP:PORT");
    return *ep;
  }
  // Throws on an option the mode did not ask for (a typo must not go unnoticed).
  void check_all_used() const {
    for (const auto& [name, value] : values_)
      if (!used_.count(name)) throw std::invalid_argument("unknown option --" + name);
  }

 private:
  std::map<std::string, std::string> values_;
  mutable std::map<std::string, bool> used_;
};

// What came back to the attacker's socket, by WireGuard message shape.
struct ReplyCounts {
  uint64_t cookie_replies = 0;  // type 3, 64 bytes
  uint64_t responses = 0;       // type 2, 92 bytes
  uint64_t other = 0;           // anything else (DNS answers, data, ...)
  uint64_t bytes = 0;           // UDP payload bytes of all of them
  uint64_t total() const { return cookie_replies + responses + other; }
};

// The attacker's socket: dual-stack, bound to `port` (0: any). UdpSocket asks
// for UDP_GRO, so replies may arrive coalesced, several to a slot.
inline UdpSocket open_socket(uint16_t port) { return UdpSocket::open(port); }

inline void count_reply(ByteView d, ReplyCounts& counts) {
  counts.bytes += d.size();
  uint32_t type = d.size() >= 4 ? load_le32(d.data()) : 0;
  if (type == uint32_t(noise::MessageType::kCookieReply) && d.size() == noise::kCookieReplySize) {
    ++counts.cookie_replies;
  } else if (type == uint32_t(noise::MessageType::kResponse) && d.size() == noise::kResponseSize) {
    ++counts.responses;
  } else {
    ++counts.other;
  }
}

// Reads every datagram waiting on `sock`, counting it; `on_reply` sees each
// one. Returns how many slots were read.
template <typename OnReply>
size_t drain(UdpSocket& sock, DatagramBatch& batch, ReplyCounts& counts, OnReply&& on_reply) {
  size_t total = 0;
  for (int round = 0; round < 64; ++round) {  // bounded: at most 64 batches per call
    int n = sock.receive(batch);
    if (n <= 0) break;
    for (int i = 0; i < n; ++i) {
      // A GRO slot holds several datagrams (the target batches its cookie
      // replies with UDP_SEGMENT): each is counted and seen on its own.
      ByteView slot = batch.data(i);
      size_t step = batch.segment_size(i) ? batch.segment_size(i) : slot.size();
      for (size_t at = 0; at < slot.size(); at += step) {
        ByteView d = slot.subspan(at, std::min(step, slot.size() - at));
        count_reply(d, counts);
        on_reply(d);
      }
    }
    total += size_t(n);
  }
  return total;
}

inline size_t drain(UdpSocket& sock, DatagramBatch& batch, ReplyCounts& counts) {
  return drain(sock, batch, counts, [](ByteView) {});
}

// Keeps reading replies for `ms` milliseconds (late answers still count).
template <typename OnReply>
void listen_for(UdpSocket& sock, DatagramBatch& batch, ReplyCounts& counts, double ms,
                OnReply&& on_reply) {
  auto end = BootClock::now() + std::chrono::microseconds(int64_t(ms * 1000));
  while (BootClock::now() < end) {
    pollfd p{sock.fd(), POLLIN, 0};
    ::poll(&p, 1, 10);
    drain(sock, batch, counts, on_reply);
  }
}

inline void listen_for(UdpSocket& sock, DatagramBatch& batch, ReplyCounts& counts, double ms) {
  listen_for(sock, batch, counts, ms, [](ByteView) {});
}

inline void print_replies(const ReplyCounts& c) {
  std::printf(
      "cookie_replies=%llu responses=%llu other_replies=%llu replies=%llu reply_bytes=%llu\n",
      (unsigned long long)c.cookie_replies, (unsigned long long)c.responses,
      (unsigned long long)c.other, (unsigned long long)c.total(), (unsigned long long)c.bytes);
}

// Sends one datagram, retrying briefly while the send buffer is full.
inline bool send_one(UdpSocket& sock, const Endpoint& to, ByteView payload) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    ssize_t n = sock.send_to(to, payload);
    if (n >= 0) return true;
    if (n != -EAGAIN && n != -ENOBUFS && n != -EWOULDBLOCK) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  return false;
}

}  // namespace wgp::attack
