// Two Devices wired together in memory with a simulated clock: the network
// is a queue of datagrams, time moves only when a test says so, and timers
// fire exactly at their deadlines. Hours of protocol run in milliseconds.
#pragma once

#include <deque>
#include <functional>
#include <random>

#include "crypto/x25519.h"
#include "wg/device.h"

namespace wgp::testing {

// Deterministic randomness so a failing run can be replayed.
class SeededRandom final : public Random {
 public:
  explicit SeededRandom(uint32_t seed) : gen_(seed) {}
  void fill(std::span<uint8_t> out) override {
    for (auto& b : out) b = uint8_t(gen_());
  }

 private:
  std::mt19937 gen_;
};

struct Datagram {
  Endpoint from;
  Endpoint to;
  std::vector<uint8_t> bytes;
  // The IP TTL it left with: a hop-limited one (Device::send_opener) opens
  // the sender's NAT (support/sim_nat.h) and reaches nobody.
  uint8_t hops = 64;
};

// One simulated host: a device, its address, and what it wrote to its TUN.
struct SimHost final : DeviceOutput {
  SimHost(uint32_t seed, Endpoint address, std::deque<Datagram>& network)
      : rng(seed), addr(address), net(network), device(rng, *this) {
    device.set_private_key(generate_private_key(rng));
  }
  void send_datagram(const Endpoint& to, ByteView d) override {
    net.push_back({addr, to, std::vector<uint8_t>(d.begin(), d.end())});
  }
  void write_tun(ByteView p) override { tun.emplace_back(p.begin(), p.end()); }
  // With `lend` set, the device builds data messages straight in the wire's
  // datagram, as the node's batches let it (deque entries do not move).
  MutableByteView reserve_datagram(const Endpoint& to, size_t size) override {
    if (!lend) return {};
    net.push_back({addr, to, std::vector<uint8_t>(size)});
    return net.back().bytes;
  }
  void cancel_datagram() override { net.pop_back(); }
  void send_hop_limited(const Endpoint& to, ByteView d, uint8_t hops) override {
    net.push_back({addr, to, std::vector<uint8_t>(d.begin(), d.end()), hops});
  }
  PublicKey public_key() const { return device.identity().public_key; }

  bool lend = false;

  SeededRandom rng;
  Endpoint addr;
  std::deque<Datagram>& net;
  Device device;
  std::vector<std::vector<uint8_t>> tun;
};

inline Endpoint endpoint(const char* text) { return *Endpoint::parse(text); }
inline IpPrefix prefix(const char* text) { return *IpPrefix::parse(text); }

// A minimal IPv4/UDP packet from src to dst with `payload_len` bytes.
std::vector<uint8_t> ipv4_packet(const char* src, const char* dst, size_t payload_len = 20);

class SimNetwork {
 public:
  // `lend`: both hosts lend output memory to their devices, as the real node
  // does (SimHost::lend); suites run in both modes.
  explicit SimNetwork(bool lend = false);

  // Moves datagrams to the host whose address they are sent to, until the
  // network is quiet (bounded). Datagrams for nobody, or dropped by the
  // filter, vanish. Returns how many left the wire.
  size_t run();
  // Delivers only the oldest datagram in flight (to whoever it is for);
  // false when the wire is empty.
  bool deliver_one();
  // Advances simulated time by `d`, firing timers at their deadlines and
  // delivering what they send.
  void advance(Duration d);
  Now now() const { return {mono_, wall_}; }

  // a sends an IP packet from 10.0.0.1 to 10.0.0.2 (or the reverse for b).
  void a_sends(size_t len = 20) {
    (void)a.device.send_packet(ipv4_packet("10.0.0.1", "10.0.0.2", len), now());
  }
  void b_sends(size_t len = 20) {
    (void)b.device.send_packet(ipv4_packet("10.0.0.2", "10.0.0.1", len), now());
  }

  std::deque<Datagram> wire;
  SimHost a;
  SimHost b;
  Peer* a_peer;  // a's view of b
  Peer* b_peer;  // b's view of a
  // Return false to drop a datagram in flight; all pass by default.
  std::function<bool(const Datagram&)> filter;
  // Every datagram that went over the wire, delivered or not.
  std::vector<Datagram> history;

 private:
  Instant mono_;
  WallTime wall_;
};

}  // namespace wgp::testing
