// Issue 22 in simulated time, Alice and Bob behind NATs (support/sim_nat.h):
// 1. an idle tunnel costs nothing: no handshake beyond WireGuard's own
//    schedule, no NOTIFY, no log line, for an hour (it used to re-handshake
//    every 5 s: each side's probe of the other's unreachable LAN address went
//    unanswered, its retry asked the registry, which NOTIFYed the other side,
//    which asked back, and so on);
// 2. a NAT remap is recovered within a second of the moved peer's first
//    packet to the registry, with an Interval of 60 s;
// 3. a late joiner between two NATs without input filter connects (the
//    openers), and a search that finds no path gives up after bounded
//    rounds, saying why.
#include <gtest/gtest.h>

#include <sstream>

#include "crypto/keys.h"
#include "discovery/discovery_service.h"
#include "unit/discovery/dnssd_world.h"

namespace wgp::testing {
namespace {

bool is_initiation(const Datagram& d) { return d.bytes.size() == 148 && d.bytes[0] == 1; }

// Handshake initiations between the two addresses, either way, in `history`.
size_t initiations_between(const std::vector<Datagram>& history, const Endpoint& a,
                           const Endpoint& b) {
  size_t n = 0;
  for (const Datagram& d : history)
    if (is_initiation(d) && ((d.from == a && d.to == b) || (d.from == b && d.to == a))) ++n;
  return n;
}

size_t lines(const std::string& text) { return size_t(std::count(text.begin(), text.end(), '\n')); }

class IdleTest : public DnssdRolesTest {
 protected:
  IdleTest() { behind_nats = true; }
  // Each registers a LAN address the other cannot reach (they sit behind
  // two NATs), as the README's scenario does by default.
  void register_lan_addresses() {
    w.alice.roles->set_local_addresses({*IpAddress::parse("10.1.0.2")}, 51820, w.now());
    w.bob.roles->set_local_addresses({*IpAddress::parse("10.2.0.2")}, 51820, w.now());
    w.run();
  }
  // Both ways once, so both hold a confirmed session, then quiet.
  void exchange() {
    (void)w.alice.host.device.send_packet(ipv4_packet("10.0.0.1", "10.0.0.2"), w.now());
    (void)w.bob.host.device.send_packet(ipv4_packet("10.0.0.2", "10.0.0.1"), w.now());
    w.run();
  }
};
INSTANTIATE_TEST_SUITE_P(Memory, IdleTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Lent" : "Own"; });

TEST_P(IdleTest, AnIdleTunnelMakesNoHandshakeNoNotifyNoLogLineForAnHour) {
  register_lan_addresses();
  connect();
  exchange();
  w.advance(20s);  // what the first contact set going settles
  const uint64_t notifies = notifies_sent();
  w.history.clear();
  ::testing::internal::CaptureStderr();
  w.advance(1h);
  std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(initiations_between(w.history, w.alice.host.addr, w.bob.host.addr), 0u);
  EXPECT_EQ(notifies_sent(), notifies);
  EXPECT_EQ(lines(log), 0u) << log;
  // The tunnel still works. Its keys expired and so did both NATs' entries:
  // Alice's packet waits while she looks Bob up; the registry tells him,
  // both open their NATs and probe, and the packet arrives within a round.
  w.history.clear();
  w.bob.host.tun.clear();
  (void)w.alice.host.device.send_packet(ipv4_packet("10.0.0.1", "10.0.0.2"), w.now());
  w.run();
  w.advance(1s);
  EXPECT_EQ(w.bob.host.tun.size(), 1u);
  // Both probe at once: two initiations cross, and one side starts over.
  EXPECT_LE(initiations_between(w.history, w.alice.host.addr, w.bob.host.addr), 3u);
  EXPECT_EQ(notifies_sent(), notifies + 1);
}

// With PersistentKeepalive both ways the tunnel stays up and WireGuard
// renews its keys on its own schedule (the initiator, before they expire:
// every 165 s when only keepalives flow; never more than once per
// REKEY_AFTER_TIME, 120 s, 30 an hour); no NOTIFY, no log line.
TEST_P(IdleTest, WithKeepalivesOnlyWireGuardsOwnRekeys) {
  register_lan_addresses();
  connect();
  w.alice.host.device.set_persistent_keepalive(alice_view_of_bob(), 25, w.now());
  w.bob.host.device.set_persistent_keepalive(bob_view_of_alice(), 25, w.now());
  w.run();
  w.advance(20s);
  const uint64_t notifies = notifies_sent();
  w.history.clear();
  ::testing::internal::CaptureStderr();
  w.advance(1h);
  std::string log = ::testing::internal::GetCapturedStderr();
  size_t handshakes = initiations_between(w.history, w.alice.host.addr, w.bob.host.addr);
  EXPECT_GE(handshakes, 15u);  // the rekeys happen (the tunnel stayed up)
  EXPECT_LE(handshakes, 31u);
  EXPECT_EQ(notifies_sent(), notifies);
  EXPECT_EQ(lines(log), 0u) << log;
  EXPECT_TRUE(w.alice.host.device.has_usable_session(alice_view_of_bob(), w.mono));
}

// The registry never NOTIFYs a peer about an asker that peer asked about a
// moment ago: NOTIFY → question → NOTIFY does not ping-pong.
TEST_P(IdleTest, TheRegistryDoesNotEchoANotify) {
  w.alice.roles->start(w.now());
  w.bob.roles->start(w.now());
  w.run();
  const uint64_t before = notifies_sent();
  (void)w.alice.host.device.send_packet(ipv4_packet("10.0.0.1", "10.0.0.2"), w.now());
  w.run();
  w.advance(2s);
  // Alice asked about Bob: one NOTIFY to Bob; Bob asked about Alice in
  // return, which tells Alice nothing she does not know.
  EXPECT_EQ(notifies_sent(), before + 1);
  EXPECT_EQ(field(status(w.bob), "discovery_notifies_received"), "1");
  EXPECT_EQ(field(status(w.alice), "discovery_notifies_received"), "0");
  EXPECT_TRUE(alice_view_of_bob().keypairs.current());
}

// Part 4: a node whose [Discovery] Zone is not its registry's gets nothing
// from it. The log says so once, with what to check; status does not claim
// an answer ("last answer" counts what "answers" counts).
TEST_P(IdleTest, AZoneMismatchIsLoggedOnceAndNoAnswerIsClaimed) {
  Config c;
  c.addresses.push_back(*InterfaceAddress::parse("10.0.0.1/24"));
  c.discovery = DiscoveryConfig{{w.registry.host.public_key()}, "example.org.", 10};
  w.alice.enable(c);
  w.alice.roles->set_local_addresses({*IpAddress::parse("10.1.0.2")}, 51820, w.now());
  ::testing::internal::CaptureStderr();
  w.alice.roles->start(w.now());
  w.run();
  w.advance(35s);  // three Intervals: the refusals repeat, the line does not
  std::string log = ::testing::internal::GetCapturedStderr();
  const std::string line =
      "refused our candidates UPDATE for zone example.org.: check that "
      "[Discovery] Zone here is the registry's [Registry] Zone\n";
  size_t found = 0;
  for (size_t at = 0; (at = log.find("check that [Discovery] Zone", at)) != std::string::npos; ++at)
    ++found;
  EXPECT_EQ(found, 1u) << log;
  EXPECT_NE(log.find(line), std::string::npos) << log;
  ExtraFields s = status(w.alice);
  EXPECT_EQ(field(s, "discovery_answers"), "0");
  EXPECT_EQ(field(s, "discovery_last_answer_unix"), "0");
  EXPECT_NE(field(s, "discovery_updates_refused"), "0");
}

// Both sides punch: Alice, who looks for Bob, and Bob, whom the registry
// NOTIFYs; each sends its probe a lead after its answer (3 round trips to the
// registry, 200 ms at least). Alice's link to the registry is slow for a
// moment (a loaded machine: test_nat_punch.sh failed 2 runs in 4 so), her
// answer comes late and her lead is longer than Bob's: Bob's probe reaches
// her (her opener let it in) before her own left. The tunnel comes up on
// it, at the address the registry gave her: that is a discovered endpoint,
// not a roamed one; status said "endpoint source: roamed".
TEST_P(IdleTest, TheOtherSidesProbeFirstMakesADiscoveredEndpoint) {
  register_lan_addresses();
  w.alice.roles->start(w.now());
  w.bob.roles->start(w.now());
  w.run();
  const Endpoint alice = w.alice.host.addr, bob = w.bob.host.addr;
  std::vector<Datagram> held;  // Alice's datagrams to the registry, 150 ms late
  w.filter = [&](const Datagram& d) {
    if (d.from != alice || d.to != w.registry.host.addr) return true;
    held.push_back(d);
    return false;
  };
  w.history.clear();
  (void)w.alice.host.device.send_packet(ipv4_packet("10.0.0.1", "10.0.0.2"), w.now());
  w.run();
  w.advance(150ms);
  w.filter = nullptr;
  ASSERT_FALSE(held.empty());
  for (Datagram& d : held) w.wire.push_back(std::move(d));
  w.run();
  w.advance(2s);
  Peer& at_alice = alice_view_of_bob();
  ASSERT_TRUE(at_alice.keypairs.current());
  EXPECT_EQ(at_alice.endpoint, bob);
  // The race this is about: the first initiation between them was Bob's.
  auto first = std::find_if(w.history.begin(), w.history.end(), [&](const Datagram& d) {
    return is_initiation(d) &&
           ((d.from == alice && d.to == bob) || (d.from == bob && d.to == alice));
  });
  ASSERT_NE(first, w.history.end());
  EXPECT_EQ(first->from, bob);
  EXPECT_EQ(at_alice.endpoint_source, EndpointSource::kDiscovered);
  EXPECT_EQ(bob_view_of_alice().endpoint_source, EndpointSource::kDiscovered);
}

class RemapTest : public IdleTest {
 protected:
  RemapTest() { interval = 60; }
};
INSTANTIATE_TEST_SUITE_P(Memory, RemapTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Lent" : "Own"; });

// Part 2: Bob's NAT hands him a new port while Alice pings him every 100 ms.
// The registry sees it on Bob's next keepalive and tells both; the pings
// get through again within a second of that packet, the Interval (60 s)
// notwithstanding.
TEST_P(RemapTest, ARemapIsRecoveredWithinASecondOfTheRegistrySeeingIt) {
  connect();
  exchange();
  w.advance(3s);
  const Endpoint old_bob = w.bob.host.addr, new_bob = endpoint("192.0.2.9:41999");
  w.nats.erase(old_bob);
  w.bob.host.addr = new_bob;
  w.nats.emplace(new_bob, SimNat(true));
  w.history.clear();
  w.bob.host.tun.clear();
  std::optional<Instant> seen, recovered;
  for (int i = 0; i < 600 && !recovered; ++i) {  // at most a minute
    (void)w.alice.host.device.send_packet(ipv4_packet("10.0.0.1", "10.0.0.2"), w.now());
    w.run();
    w.advance(100ms);
    if (!seen)
      for (const Datagram& d : w.history)
        if (d.from == new_bob && d.to == w.registry.host.addr) seen = w.mono - 100ms;
    if (seen && !w.bob.host.tun.empty()) recovered = w.mono;
  }
  ASSERT_TRUE(seen) << "Bob never reached the registry from his new port";
  ASSERT_TRUE(recovered) << "the tunnel did not come back within a minute";
  EXPECT_LT(*recovered - *seen, 1s)
      << "recovered " << std::chrono::duration<double>(*recovered - *seen).count()
      << " s after the registry saw Bob's new port";
  EXPECT_EQ(alice_view_of_bob().endpoint, new_bob);
  EXPECT_NE(field(status(w.registry), "registry_notifies_for_moves"), "0");
}

class LateJoinerTest : public IdleTest {
 protected:
  LateJoinerTest() { nat_input_filter = false; }
};
INSTANTIATE_TEST_SUITE_P(Memory, LateJoinerTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Lent" : "Own"; });

// Part 3: two plain NATs (no input filter). Alice runs; Bob starts later and
// sends her a packet. His probe reaches her NAT before she sent anything his
// way; had it not been preceded by openers on both sides, her NAT would
// keep an entry for it and send her packets to Bob from another port,
// forever while both retried. With openers, the first round connects.
TEST_P(LateJoinerTest, ALateJoinerBetweenPlainNatsConnectsAtOnce) {
  w.alice.roles->start(w.now());
  w.run();
  w.advance(10s);
  w.bob.roles->start(w.now());
  w.run();
  const Instant start = w.mono;
  std::optional<Instant> first;
  for (int i = 0; i < 1200 && !first; ++i) {  // at most two minutes
    (void)w.bob.host.device.send_packet(ipv4_packet("10.0.0.2", "10.0.0.1"), w.now());
    w.run();
    w.advance(100ms);
    if (!w.alice.host.tun.empty()) first = w.mono;
  }
  ASSERT_TRUE(first) << "Bob's packets never reached Alice";
  EXPECT_LT(*first - start, 2s);
  EXPECT_EQ(bob_view_of_alice().endpoint, w.alice.host.addr);  // direct, NAT to NAT
}

// No direct path at all (every datagram between them is lost) and a
// registry that does not relay: the search gives up after kMaxRounds, and
// says why, once in the log and in status; it never claims a relay.
TEST_P(LateJoinerTest, ASearchWithNoPathGivesUpAndSaysWhy) {
  const Endpoint alice = w.alice.host.addr, bob = w.bob.host.addr;
  w.cut_alice_bob();
  w.alice.roles->start(w.now());
  w.bob.roles->start(w.now());
  w.run();
  w.advance(1s);  // the registries' relay offers are known
  ::testing::internal::CaptureStderr();
  for (int i = 0; i < 100; ++i) {  // a packet a second for 100 s
    (void)w.alice.host.device.send_packet(ipv4_packet("10.0.0.1", "10.0.0.2"), w.now());
    w.run();
    w.advance(1s);
  }
  std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(log.find("through registry"), std::string::npos) << log;
  // One line from Alice about Bob (and one from Bob about Alice).
  const std::string line = "giving up on peer " + key_to_base64(w.bob.host.public_key());
  size_t gave_up = 0;
  for (size_t at = 0; (at = log.find(line, at)) != std::string::npos; ++at) ++gave_up;
  EXPECT_EQ(gave_up, 1u) << log;
  EXPECT_NE(log.find("no direct path after 4 rounds; the registry offers no relay"),
            std::string::npos)
      << log;
  ExtraFields peer_status;
  w.alice.roles->add_peer_status(alice_view_of_bob(), peer_status);
  EXPECT_EQ(field(peer_status, "discovery"),
            "gave up: no direct path after 4 rounds; the registry offers no relay");
  // Rounds are paced: at most one probe per round from each side.
  EXPECT_LE(initiations_between(w.history, alice, bob), 2u * DiscoveryService::kMaxRounds);
}

}  // namespace
}  // namespace wgp::testing
