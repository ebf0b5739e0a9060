// A registry with Relay = yes and three of its peers, Alice, Bob and Carol,
// each holding a session with it (a handshake, then a keepalive every 25 s),
// wired together in memory with a simulated clock (as SimNetwork does for
// two): the world of the relay's unit tests (tests/unit/wg/relay_test.cpp)
// and of its fuzz target (fuzz/fuzz_relay.cpp).
#pragma once

#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "support/sim_network.h"

namespace wgp::testing {

class RelayWorld {
 public:
  RelayWorld()
      : reg(21, endpoint("203.0.113.1:51820"), wire),
        alice(22, endpoint("198.51.100.1:40001"), wire),
        bob(23, endpoint("192.0.2.2:40002"), wire),
        carol(24, endpoint("192.0.2.3:40003"), wire) {
    reg.device.enable_relay();
    uint8_t n = 1;
    for (SimHost* h : clients()) {
      Peer* p = reg.device.add_peer(h->public_key());
      reg.device.allowed_ips().insert(*IpPrefix::parse("10.0.0." + std::to_string(n++) + "/32"), p);
      Peer* r = h->device.add_peer(reg.public_key());
      h->device.set_endpoint(*r, reg.addr, EndpointSource::kConfig);
      h->device.allowed_ips().insert(prefix("10.0.0.254/32"), r);
      // A keepalive now and then keeps the session with the registry confirmed.
      h->device.set_persistent_keepalive(*r, 25, now());
      h->device.initiate_handshake(*r, now());
      run();
    }
  }

  std::vector<SimHost*> hosts() { return {&reg, &alice, &bob, &carol}; }
  std::vector<SimHost*> clients() { return {&alice, &bob, &carol}; }
  Now now() const { return {mono, wall}; }
  Peer& registry_of(SimHost& h) { return *h.device.find_peer(reg.public_key()); }

  void run() {
    for (int budget = 100000; budget > 0 && !wire.empty(); --budget) {
      Datagram d = std::move(wire.front());
      wire.pop_front();
      history.push_back(d);
      if (filter && !filter(d)) continue;
      for (SimHost* h : hosts())
        if (h->addr == d.to) (void)h->device.receive_datagram(d.bytes, d.from, now());
    }
  }
  void advance(Duration d) {
    Instant end = mono + d;
    for (int budget = 100000; budget > 0; --budget) {
      std::optional<Instant> next;
      for (SimHost* h : hosts())
        if (auto dl = h->device.next_deadline(); dl && (!next || *dl < *next)) next = dl;
      if (!next || *next > end) break;
      Duration step = std::max(Duration::zero(), *next - mono);
      mono += step;
      wall += std::chrono::duration_cast<WallTime::duration>(step);
      for (SimHost* h : hosts()) h->device.run_timers(now());
      run();
    }
    wall += std::chrono::duration_cast<WallTime::duration>(end - mono);
    mono = end;
  }

  // x and y looked each other up and talk through the registry (x initiates).
  void relay_pair(SimHost& x, const char* x_tun, SimHost& y, const char* y_tun) {
    reg.device.permit_relay(x.public_key(), y.public_key(), mono);
    Peer* y_at_x = x.device.add_peer(y.public_key());
    x.device.allowed_ips().insert(prefix(y_tun), y_at_x);
    Peer* x_at_y = y.device.add_peer(x.public_key());
    y.device.allowed_ips().insert(prefix(x_tun), x_at_y);
    x.device.try_relay(*y_at_x, registry_of(x), now());
    run();
  }

  std::deque<Datagram> wire;
  std::vector<Datagram> history;
  Instant mono{std::chrono::hours(1)};
  WallTime wall{std::chrono::seconds(1700000000)};
  SimHost reg, alice, bob, carol;
  // Return false to drop a datagram in flight; all pass by default.
  std::function<bool(const Datagram&)> filter;
};

}  // namespace wgp::testing
