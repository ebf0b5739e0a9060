// A registry and two discovering peers in simulated time, no sockets: the
// whole of DESIGN.md §5 — registration by handshake, discovery queries from
// the WireGuard port, NOTIFY through the tunnel, a direct tunnel that the
// registry never carries, and rediscovery after a peer moves.
#include "node/dnssd_roles.h"

#include <gtest/gtest.h>

#include "dnssd/base32.h"
#include "dnssd/discovery_query.h"
#include "support/sim_network.h"

namespace wgp::testing {
namespace {

using namespace std::chrono_literals;

// A SimHost plus its DNS-SD roles, receiving through them as the node does.
struct SimNode {
  SimNode(uint32_t seed, const char* addr, std::deque<Datagram>& wire)
      : host(seed, endpoint(addr), wire) {}
  void enable(const Config& config) {
    roles = std::make_unique<DnssdRoles>(config, host.device, host.rng,
                                         [this](const Endpoint& to, ByteView d) { host.send_datagram(to, d); });
  }
  SimHost host;
  std::unique_ptr<DnssdRoles> roles;
};

class SimWorld {
 public:
  SimWorld()
      : registry(11, "203.0.113.1:51820", wire),
        alice(12, "198.51.100.7:40001", wire),
        bob(13, "192.0.2.9:40002", wire) {}

  Now now() const { return {mono, wall}; }
  std::vector<SimNode*> nodes() { return {&registry, &alice, &bob}; }

  void run() {
    for (int budget = 10000; budget > 0 && !wire.empty(); --budget) {
      Datagram d = std::move(wire.front());
      wire.pop_front();
      history.push_back(d);
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
        for (auto dl : {n->host.device.next_deadline(),
                        n->roles ? n->roles->next_deadline() : std::nullopt})
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
};

// Wires up the scenario of DESIGN.md §7: Alice and Bob know the registry's
// endpoint and each other's keys, but not where the other is.
class DnssdRolesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Config rc;
    rc.registry = RegistryConfig{"example.net.", false};
    rc.addresses.push_back(*InterfaceAddress::parse("10.0.0.254/24"));
    auto& reg = w.registry.host.device;
    for (auto [node, ip] : {std::pair{&w.alice, "10.0.0.1/32"}, std::pair{&w.bob, "10.0.0.2/32"}})
      reg.allowed_ips().insert(prefix(ip), reg.add_peer(node->host.public_key()));
    w.registry.enable(rc);

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
      c.discovery = DiscoveryConfig{w.registry.host.public_key(), "example.net.", 10};
      me->enable(c);
      dev.set_persistent_keepalive(*r, 5, w.now());  // registers with the registry
    }
    w.run();
  }

  Peer& alice_view_of_bob() { return *w.alice.host.device.find_peer(w.bob.host.public_key()); }
  Peer& bob_view_of_alice() { return *w.bob.host.device.find_peer(w.alice.host.public_key()); }

  SimWorld w;
};

TEST_F(DnssdRolesTest, PeersFindEachOtherAndTalkDirectly) {
  w.alice.roles->start(w.now());
  w.bob.roles->start(w.now());
  w.run();
  w.advance(1s);  // the staggered second punch

  ASSERT_TRUE(alice_view_of_bob().endpoint);
  EXPECT_EQ(*alice_view_of_bob().endpoint, w.bob.host.addr);
  EXPECT_EQ(*bob_view_of_alice().endpoint, w.alice.host.addr);
  EXPECT_TRUE(alice_view_of_bob().keypairs.current());
  // No crossed initiations cancelled each other.
  EXPECT_EQ(w.alice.host.device.drops()[size_t(DropReason::kHandshakeFailed)], 0u);
  EXPECT_EQ(w.bob.host.device.drops()[size_t(DropReason::kHandshakeFailed)], 0u);

  // Data from Alice to Bob goes straight from her address to his.
  w.history.clear();
  (void)w.alice.host.device.send_packet(ipv4_packet("10.0.0.1", "10.0.0.2"), w.now());
  w.run();
  ASSERT_EQ(w.bob.host.tun.size(), 1u);
  ASSERT_EQ(w.history.size(), 1u);
  EXPECT_EQ(w.history[0].from, w.alice.host.addr);
  EXPECT_EQ(w.history[0].to, w.bob.host.addr);
  EXPECT_TRUE(w.registry.host.tun.empty());  // the registry carried nothing

  ExtraFields status;
  w.alice.roles->add_status(status, w.now());
  auto field = [&](const char* k) {
    for (auto& [key, v] : status)
      if (key == k) return v;
    return std::string("?");
  };
  EXPECT_EQ(field("public_endpoint"), "198.51.100.7:40001");
  EXPECT_EQ(field("discovery_failures"), "0");
  // NOTIFY → query → NOTIFY must not ping-pong: a handful, not thousands.
  ExtraFields reg;
  w.registry.roles->add_status(reg, w.now());
  for (auto& [k, v] : reg)
    if (k == "registry_notifies_sent") EXPECT_LE(std::stoi(v), 4);
}

TEST_F(DnssdRolesTest, OneSideAskingIsEnoughThanksToNotify) {
  w.alice.roles->start(w.now());  // Bob never queries on his own
  w.run();
  // The registry NOTIFYed Bob through his tunnel; he looked Alice up.
  ASSERT_TRUE(bob_view_of_alice().endpoint);
  EXPECT_EQ(*bob_view_of_alice().endpoint, w.alice.host.addr);
  ExtraFields status;
  w.bob.roles->add_status(status, w.now());
  bool notified = false;
  for (auto& [k, v] : status) notified |= k == "discovery_notifies_received" && v == "1";
  EXPECT_TRUE(notified);
}

TEST_F(DnssdRolesTest, RegistryRefusesPlainQueriesFromStrangers) {
  std::vector<uint8_t> query;
  dnssd::build_query(0x4242, dnssd::service_name("example.net."), dnssd::kQueryTypePtr, query);
  Endpoint stranger = endpoint("203.0.113.99:5353");
  w.registry.roles->receive_datagram(query, stranger, w.now());
  ASSERT_EQ(w.wire.size(), 1u);
  EXPECT_EQ(w.wire.front().to, stranger);
  EXPECT_EQ(w.wire.front().bytes[3] & 0x0f, 5);  // REFUSED
  w.wire.clear();
  // From Alice's WireGuard endpoint the same query is answered.
  w.registry.roles->receive_datagram(query, w.alice.host.addr, w.now());
  ASSERT_EQ(w.wire.size(), 1u);
  EXPECT_EQ(w.wire.front().bytes[3] & 0x0f, 0);
  auto keys = dnssd::parse_ptr_response(w.wire.front().bytes, 0x4242, "example.net.");
  ASSERT_TRUE(keys);
  EXPECT_EQ(keys->size(), 2u);
}

TEST_F(DnssdRolesTest, APeerThatMovesIsRediscovered) {
  w.alice.roles->start(w.now());
  w.bob.roles->start(w.now());
  w.run();
  // Bob's NAT gives him a new outside address; his old one goes dark.
  Endpoint old_bob = w.bob.host.addr;
  w.bob.host.addr = endpoint("192.0.2.10:41000");
  // His keepalive to the registry updates his record there.
  w.advance(6s);
  // Alice's tunnel breaks (her data goes to the old address), her handshake
  // retries go unanswered, and she asks the registry again.
  (void)w.alice.host.device.send_packet(ipv4_packet("10.0.0.1", "10.0.0.2"), w.now());
  w.advance(60s);
  EXPECT_NE(*alice_view_of_bob().endpoint, old_bob);
  EXPECT_EQ(*alice_view_of_bob().endpoint, w.bob.host.addr);
  w.bob.host.tun.clear();
  (void)w.alice.host.device.send_packet(ipv4_packet("10.0.0.1", "10.0.0.2"), w.now());
  w.run();
  EXPECT_EQ(w.bob.host.tun.size(), 1u);
}

}  // namespace
}  // namespace wgp::testing
