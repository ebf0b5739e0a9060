// The world of the discovery tests: a registry, Alice and Bob (and more of
// the registry's peers) as SimHosts with their DNS-SD roles, in simulated
// time, optionally behind NATs (support/sim_nat.h); and the fixture that
// wires up the scenario of DESIGN.md §8.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <map>

#include "discovery/dnssd_roles.h"
#include "discovery/registry_service.h"
#include "dnssd/inner_udp.h"
#include "support/sim_nat.h"
#include "support/sim_network.h"

namespace wgp::testing {

using namespace std::chrono_literals;

// A SimHost plus its DNS-SD roles, receiving through them as the node does.
struct SimNode {
  SimNode(uint32_t seed, const char* addr, std::deque<Datagram>& wire)
      : host(seed, endpoint(addr), wire) {}
  void enable(const Config& config) {
    roles = std::make_unique<DnssdRoles>(
        config, host.device, host.rng,
        [this](const Endpoint& to, ByteView d) { host.send_datagram(to, d); });
  }
  SimHost host;
  std::unique_ptr<DnssdRoles> roles;
  // A second address on a LAN, behind the same NAT as other nodes' (unset:
  // none). What goes to it comes from the sender's own LAN address.
  std::optional<Endpoint> lan;
};

class SimWorld {
 public:
  explicit SimWorld(bool lend)
      : registry(11, "203.0.113.1:51820", wire),
        alice(12, "198.51.100.7:40001", wire),
        bob(13, "192.0.2.9:40002", wire) {
    for (SimNode* n : nodes()) n->host.lend = lend;
  }

  Now now() const { return {mono, wall}; }
  std::vector<SimNode*> nodes() {
    std::vector<SimNode*> all{&registry, &alice, &bob};
    for (auto& n : extra) all.push_back(n.get());
    return all;
  }

  void run() {
    // What a test's direct device calls recorded (a packet sent for a peer
    // nobody knows yet), handled as the node does after a TUN batch.
    for (SimNode* n : nodes())
      if (n->roles) n->roles->drain(now());
    for (int budget = 100000; budget > 0 && !wire.empty(); --budget) {
      Datagram d = std::move(wire.front());
      wire.pop_front();
      history.push_back(d);
      // A port mapping at a node's NAT: what goes to it reaches the node,
      // and what the node sends to others than the registry leaves from it.
      if (mapping && d.from == mapping->second->host.addr && d.to != registry.host.addr)
        d.from = mapping->first;
      if (filter && !filter(d)) continue;
      // Through the sender's NAT, if it has one; a hop-limited datagram
      // dies beyond it; then through the receiver's NAT.
      if (auto nat = nats.find(d.from); nat != nats.end() && !nat->second.outbound(d.to, mono))
        continue;
      if (d.hops <= Device::kOpenerHops) continue;
      if (mapping && d.to == mapping->first) {
        d.to = mapping->second->host.addr;  // forwarded, past the node's NAT
      } else if (auto nat = nats.find(d.to);
                 nat != nats.end() && !nat->second.inbound(d.from, mono)) {
        continue;
      }
      // To a LAN address: only from a node on that LAN, and from its LAN
      // address (the NAT is not crossed).
      SimNode* on_lan = nullptr;
      for (SimNode* n : nodes())
        if (n->lan == d.to) on_lan = n;
      if (on_lan) {
        SimNode* sender = nullptr;
        for (SimNode* n : nodes())
          if (n->host.addr == d.from && n->lan) sender = n;
        if (!sender) continue;
        d.from = *sender->lan;
        d.to = on_lan->host.addr;
      }
      for (SimNode* n : nodes())
        if (n->host.addr == d.to) {
          if (n->roles)
            n->roles->receive_datagram(d.bytes, d.from, now());
          else
            (void)n->host.device.receive_datagram(d.bytes, d.from, now());
        }
    }
  }

  void advance(Duration d) {
    Instant end = mono + d;
    for (int budget = 100000; budget > 0; --budget) {
      std::optional<Instant> next;
      for (SimNode* n : nodes()) {
        for (auto dl :
             {n->host.device.next_deadline(), n->roles ? n->roles->next_deadline() : std::nullopt})
          if (dl && (!next || *dl < *next)) next = dl;
      }
      if (!next || *next > end) break;
      Duration step = std::max(Duration::zero(), *next - mono);
      mono += step;
      wall += std::chrono::duration_cast<WallTime::duration>(step);
      for (SimNode* n : nodes()) {
        n->host.device.run_timers(now());
        if (n->roles) n->roles->run_timers(now());
      }
      run();
    }
    wall += std::chrono::duration_cast<WallTime::duration>(end - mono);
    mono = end;
  }

  std::deque<Datagram> wire;
  std::vector<Datagram> history;
  Instant mono{std::chrono::hours(1)};
  WallTime wall{std::chrono::seconds(1700000000)};
  SimNode registry, alice, bob;
  std::vector<std::unique_ptr<SimNode>> extra;  // more of the registry's peers
  // Return false to drop a datagram in flight (a NAT that refuses it).
  std::function<bool(const Datagram&)> filter;
  // No direct path between Alice and Bob: every datagram between them is lost.
  void cut_alice_bob() {
    filter = [a = alice.host.addr, b = bob.host.addr](const Datagram& d) {
      return !((d.from == a && d.to == b) || (d.from == b && d.to == a));
    };
  }
  // A port mapping: its external endpoint and the node it forwards to.
  std::optional<std::pair<Endpoint, SimNode*>> mapping;
  // NATs in front of nodes, by the node's (outside) address.
  std::map<Endpoint, SimNat> nats;
};

inline std::string field(const ExtraFields& status, const char* key) {
  for (const auto& [k, v] : status)
    if (k == key) return v;
  ADD_FAILURE() << "no status field " << key;
  return "";
}

// Wires up the scenario of DESIGN.md §8: Alice and Bob know the registry's
// endpoint and each other's keys, but not where the other is.
class DnssdRolesTest : public ::testing::TestWithParam<bool> {
 protected:
  DnssdRolesTest() : w(GetParam()) {}

  void SetUp() override {
    if (behind_nats) {  // Alice and Bob each behind a NAT of their own
      w.nats.emplace(w.alice.host.addr, SimNat(nat_input_filter));
      w.nats.emplace(w.bob.host.addr, SimNat(nat_input_filter));
    }
    registry_config.registry = RegistryConfig{"example.net.", false};
    registry_config.addresses.push_back(*InterfaceAddress::parse("10.0.0.254/24"));
    auto& reg = w.registry.host.device;
    for (auto [node, ip] : {std::pair{&w.alice, "10.0.0.1/32"}, std::pair{&w.bob, "10.0.0.2/32"}})
      reg.allowed_ips().insert(prefix(ip), reg.add_peer(node->host.public_key()));
    w.registry.enable(registry_config);

    for (auto [me, other, ip, other_ip] :
         {std::tuple{&w.alice, &w.bob, "10.0.0.1/24", "10.0.0.2/32"},
          std::tuple{&w.bob, &w.alice, "10.0.0.2/24", "10.0.0.1/32"}}) {
      Device& dev = me->host.device;
      Peer* r = dev.add_peer(w.registry.host.public_key());
      dev.set_endpoint(*r, w.registry.host.addr, EndpointSource::kConfig);
      dev.allowed_ips().insert(prefix("10.0.0.254/32"), r);
      dev.allowed_ips().insert(prefix(other_ip), dev.add_peer(other->host.public_key()));
      Config c;
      c.addresses.push_back(*InterfaceAddress::parse(ip));
      c.discovery = DiscoveryConfig{{w.registry.host.public_key()}, "example.net.", interval};
      me->enable(c);
      dev.set_persistent_keepalive(*r, 5, w.now());  // registers with the registry
    }
    w.run();
  }

  // Both start discovery; Alice's first packet for Bob makes her look for
  // him (and the registry tell him), and they get a direct tunnel.
  void connect() {
    w.alice.roles->start(w.now());
    w.bob.roles->start(w.now());
    w.run();
    (void)w.alice.host.device.send_packet(ipv4_packet("10.0.0.1", "10.0.0.2"), w.now());
    w.run();
    w.advance(1s);  // a round's probe, and a crossing is sorted out within 25 ms
    ASSERT_TRUE(alice_view_of_bob().keypairs.current());
    ASSERT_EQ(alice_view_of_bob().endpoint, w.bob.host.addr);
  }

  // `n` more peers of the registry that hold a session with it (no roles).
  void add_registry_peers(int n) {
    auto& reg = w.registry.host.device;
    for (int i = 0; i < n; ++i) {
      std::string addr =
          "192.0.2." + std::to_string(100 + i % 100) + ":" + std::to_string(50000 + i);
      auto node = std::make_unique<SimNode>(1000 + i, addr.c_str(), w.wire);
      Device& dev = node->host.device;
      Peer* r = dev.add_peer(w.registry.host.public_key());
      dev.set_endpoint(*r, w.registry.host.addr, EndpointSource::kConfig);
      std::string ip =
          "10.1." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1) + "/32";
      reg.allowed_ips().insert(prefix(ip.c_str()), reg.add_peer(node->host.public_key()));
      dev.initiate_handshake(*r, w.now());
      w.extra.push_back(std::move(node));
    }
    // Past 128 handshakes in 125 ms the registry is under load and answers
    // with cookies; the retries 5 s later carry them.
    w.advance(12s);
  }

  ExtraFields status(SimNode& n) {
    ExtraFields s;
    n.roles->add_status(s);
    return s;
  }
  uint64_t notifies_sent() {
    return std::stoull(field(status(w.registry), "registry_notifies_sent"));
  }

  // Alice's in-tunnel query to the registry, as a stub resolver on her host
  // would send it (from an ephemeral port); the answer packet, if any.
  std::optional<std::vector<uint8_t>> alice_asks_in_tunnel(const std::vector<uint8_t>& dns) {
    std::vector<uint8_t> packet(dns.size() + 48);
    size_t n = dnssd::build_udp_packet(*IpAddress::parse("10.0.0.1"), 33333,
                                       *IpAddress::parse("10.0.0.254"), 53, dns, packet);
    packet.resize(n);
    Peer* r = w.alice.host.device.find_peer(w.registry.host.public_key());
    size_t before = w.alice.host.tun.size();
    w.alice.host.device.send_to_peer(*r, packet, w.now());
    w.run();
    if (w.alice.host.tun.size() == before) return std::nullopt;
    return w.alice.host.tun.back();
  }

  Peer& alice_view_of_bob() { return *w.alice.host.device.find_peer(w.bob.host.public_key()); }
  Peer& bob_view_of_alice() { return *w.bob.host.device.find_peer(w.alice.host.public_key()); }

  // Set in a derived fixture's constructor: the discovery Interval (s), and
  // NATs (support/sim_nat.h) in front of Alice and Bob, with or without
  // their input filter.
  uint32_t interval = 10;
  bool behind_nats = false;
  bool nat_input_filter = true;

  Config registry_config;
  SimWorld w;
};

}  // namespace wgp::testing
