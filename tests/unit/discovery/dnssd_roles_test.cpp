// A registry and two discovering peers in simulated time, no sockets: the
// whole of DESIGN.md §4–5 — registration by handshake, discovery queries
// inside the registry's tunnel, NOTIFY through the tunnel, a direct tunnel
// that the registry never carries, rediscovery after a peer moves — and the
// attacks of issue 10: spoofed plain queries, forged plain answers with
// every id, strangers probing the port, an answer larger than the path.
// Every test runs with the devices building datagrams in their own memory
// and in memory the output lends them, as the real node does.
#include "discovery/dnssd_roles.h"

#include <gtest/gtest.h>

#include <functional>

#include "discovery/registry_service.h"
#include "dnssd/base32.h"
#include "dnssd/demux.h"
#include "dnssd/discovery_query.h"
#include "dnssd/inner_udp.h"
#include "support/sim_network.h"
#include "unit/discovery/dnssd_world.h"
#include "unit/dnssd/dns_test_message.h"

namespace wgp::testing {
namespace {

using namespace std::chrono_literals;

INSTANTIATE_TEST_SUITE_P(Memory, DnssdRolesTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Lent" : "Own"; });

TEST_P(DnssdRolesTest, PeersFindEachOtherAndTalkDirectly) {
  w.history.clear();
  connect();
  EXPECT_EQ(*bob_view_of_alice().endpoint, w.alice.host.addr);
  EXPECT_EQ(alice_view_of_bob().endpoint_source, EndpointSource::kDiscovered);
  // No handshake failed (a crossing is not a failure, see DeviceTest).
  EXPECT_EQ(w.alice.host.device.drops()[size_t(DropReason::kHandshakeFailed)], 0u);
  EXPECT_EQ(w.bob.host.device.drops()[size_t(DropReason::kHandshakeFailed)], 0u);
  // Discovery spoke only inside the tunnels: not one plain DNS datagram.
  // Besides WireGuard, only each side's opener went out: empty, hop-limited.
  size_t openers = 0;
  for (const Datagram& d : w.history) {
    if (d.hops <= Device::kOpenerHops) {
      EXPECT_TRUE(d.bytes.empty());
      ++openers;
      continue;
    }
    EXPECT_EQ(dnssd::classify_datagram(d.bytes), dnssd::DatagramKind::kWireGuard)
        << d.from.to_string() << " -> " << d.to.to_string();
  }
  EXPECT_EQ(openers, 2u);

  // Data from Alice to Bob goes straight from her address to his.
  w.history.clear();
  w.bob.host.tun.clear();
  (void)w.alice.host.device.send_packet(ipv4_packet("10.0.0.1", "10.0.0.2"), w.now());
  w.run();
  ASSERT_EQ(w.bob.host.tun.size(), 1u);
  ASSERT_EQ(w.history.size(), 1u);
  EXPECT_EQ(w.history[0].from, w.alice.host.addr);
  EXPECT_EQ(w.history[0].to, w.bob.host.addr);
  EXPECT_TRUE(w.registry.host.tun.empty());  // the registry carried nothing

  ExtraFields s = status(w.alice);
  EXPECT_EQ(field(s, "public_endpoint"), "198.51.100.7:40001");
  EXPECT_EQ(field(s, "discovery_failures"), "0");
  EXPECT_NE(field(s, "discovery_last_answer_unix"), "0");
  // NOTIFY → query → NOTIFY must not ping-pong: a handful, not thousands.
  EXPECT_GE(notifies_sent(), 1u);
  EXPECT_LE(notifies_sent(), 4u);
}

// A tunnel that is idle but healthy needs nothing from discovery: its peers
// are not asked about again every Interval, so no probe re-handshakes it and
// the registry sends no NOTIFY (each would wake the other side for nothing).
TEST_P(DnssdRolesTest, AnIdleTunnelIsNotRediscovered) {
  connect();
  // Both sides hold a keypair that may send (the responder's is confirmed
  // by one data packet), then nobody says anything for 90 s: nine Intervals,
  // well before REKEY_AFTER_TIME would renew the keys.
  (void)w.alice.host.device.send_packet(ipv4_packet("10.0.0.1", "10.0.0.2"), w.now());
  (void)w.bob.host.device.send_packet(ipv4_packet("10.0.0.2", "10.0.0.1"), w.now());
  w.run();
  const uint64_t notifies = notifies_sent();
  w.history.clear();
  for (int i = 0; i < 90; ++i) w.advance(1s);
  for (const Datagram& d : w.history) {
    const bool between_peers = (d.from == w.alice.host.addr && d.to == w.bob.host.addr) ||
                               (d.from == w.bob.host.addr && d.to == w.alice.host.addr);
    if (between_peers) {
      EXPECT_NE(load_le32(d.bytes.data()), 1u) << "a handshake initiation between idle peers";
    }
  }
  EXPECT_EQ(notifies_sent(), notifies);
  // And the idle tunnel still carries data at once, on the same path.
  w.history.clear();
  (void)w.alice.host.device.send_packet(ipv4_packet("10.0.0.1", "10.0.0.2"), w.now());
  w.run();
  ASSERT_EQ(w.history.size(), 1u);
  EXPECT_EQ(w.history[0].to, w.bob.host.addr);
}

TEST_P(DnssdRolesTest, OneSideAskingIsEnoughThanksToNotify) {
  w.bob.roles->start(w.now());  // Bob asks once (so the registry knows he runs discovery)
  w.run();
  w.advance(11s);
  w.alice.roles->start(w.now());
  w.run();
  (void)w.alice.host.device.send_packet(ipv4_packet("10.0.0.1", "10.0.0.2"), w.now());
  w.run();
  w.advance(1s);
  // The registry NOTIFYed Bob through his tunnel; he looked Alice up.
  ASSERT_TRUE(bob_view_of_alice().endpoint);
  EXPECT_EQ(*bob_view_of_alice().endpoint, w.alice.host.addr);
  EXPECT_EQ(field(status(w.bob), "discovery_notifies_received"), "1");
}

// Issue 9, defect 5: a peer that never asked in-tunnel (a stock WireGuard
// peer: it would answer a NOTIFY with ICMP port unreachable) gets none.
TEST_P(DnssdRolesTest, NoNotifyForPeersThatRunNoDiscovery) {
  add_registry_peers(1);
  SimNode& carol = *w.extra[0];
  // Carol takes what comes from the registry's tunnel address, as a stock
  // peer with AllowedIPs = 10.0.0.254/32 would.
  Device& carols = carol.host.device;
  carols.allowed_ips().insert(prefix("10.0.0.254/32"),
                              carols.find_peer(w.registry.host.public_key()));
  Peer* carol_at_alice = w.alice.host.device.add_peer(carol.host.public_key());
  w.alice.host.device.allowed_ips().insert(prefix("10.1.0.1/32"), carol_at_alice);
  uint64_t notifies = notifies_sent();
  w.alice.roles->start(w.now());
  w.run();
  (void)w.alice.host.device.send_packet(ipv4_packet("10.0.0.1", "10.1.0.1"), w.now());
  w.run();
  w.advance(1s);
  // Alice asked about Carol; a NOTIFY would have reached Carol's TUN (she
  // has no roles to catch it), and her kernel would answer ICMP.
  EXPECT_EQ(notifies_sent(), notifies);
  EXPECT_TRUE(carol.host.tun.empty());
  // Carol is tried where the registry saw her (she does not know Alice, so
  // the handshake never completes and the candidate stays a candidate),
  // and not through the registry, which said it offers no relay.
  ASSERT_EQ(carol_at_alice->candidates.size(), 1u);
  EXPECT_EQ(carol_at_alice->candidates[0].address, carol.host.addr);
  EXPECT_FALSE(carol_at_alice->candidates[0].relay);
  EXPECT_FALSE(carol_at_alice->endpoint);
}

TEST_P(DnssdRolesTest, StrangersGetSilenceConfirmedEndpointsAnAnswer) {
  uint64_t notifies = notifies_sent();
  std::vector<uint8_t> query;
  dnssd::build_query(0x4242, dnssd::service_name("example.net."), dnssd::kQueryTypePtr, query);
  Endpoint stranger = endpoint("203.0.113.99:5353");
  w.registry.roles->receive_datagram(query, stranger, w.now());
  // Malformed DNS, and a type-4 header with an unknown index, get nothing either.
  std::vector<uint8_t> garbage(query.begin(), query.begin() + 12);
  garbage[5] = 7;  // seven questions that are not there
  w.registry.roles->receive_datagram(garbage, stranger, w.now());
  std::vector<uint8_t> fake_data(64, 0);
  fake_data[0] = 4;
  w.registry.roles->receive_datagram(fake_data, stranger, w.now());
  EXPECT_TRUE(w.wire.empty()) << "the registry told a stranger it is there";
  EXPECT_EQ(field(status(w.registry), "registry_ignored_strangers"), "3");
  // A spoof of an address the registry was only told about (never confirmed)
  // is a stranger too.
  Peer* told =
      w.registry.host.device.add_peer(derive_public_key(generate_private_key(w.alice.host.rng)));
  w.registry.host.device.set_endpoint(*told, endpoint("198.51.100.200:1"),
                                      EndpointSource::kControl);
  w.registry.roles->receive_datagram(query, endpoint("198.51.100.200:1"), w.now());
  EXPECT_TRUE(w.wire.empty());
  // From Alice's confirmed WireGuard endpoint the same query is answered.
  w.registry.roles->receive_datagram(query, w.alice.host.addr, w.now());
  ASSERT_EQ(w.wire.size(), 1u);
  EXPECT_EQ(w.wire.front().to, w.alice.host.addr);
  auto keys = dnssd::parse_ptr_response(w.wire.front().bytes, 0x4242, "example.net.");
  ASSERT_TRUE(keys);
  EXPECT_EQ(keys->size(), 2u);
  w.wire.clear();
  // Plain queries never NOTIFY (only authenticated, in-tunnel ones do).
  std::vector<uint8_t> srv;
  dnssd::build_query(0x4343, dnssd::instance_name(w.bob.host.public_key(), "example.net."),
                     dnssd::kQueryTypeSrv, srv);
  w.registry.roles->receive_datagram(srv, w.alice.host.addr, w.now());
  EXPECT_EQ(notifies_sent(), notifies);
}

TEST_P(DnssdRolesTest, PlainAnswersNeverExceed1232BytesWhateverTheEdnsSize) {
  add_registry_peers(150);
  registry_config.registry->is_public = true;
  w.registry.enable(registry_config);
  // A PTR query claiming EDNS 65535 from a stranger (Public = yes).
  std::vector<uint8_t> query;
  dnssd::build_query(0x5151, dnssd::service_name("example.net."), dnssd::kQueryTypePtr, query);
  store_be16(&query[query.size() - 11 + 3], 65535);  // the OPT's UDP size
  w.registry.roles->receive_datagram(query, endpoint("203.0.113.99:5353"), w.now());
  ASSERT_EQ(w.wire.size(), 1u);
  const std::vector<uint8_t>& answer = w.wire.front().bytes;
  EXPECT_LE(answer.size(), RegistryService::kMaxPlainAnswer);
  EXPECT_TRUE(answer[2] & 0x02) << "TC must say there is more";
  // What one address is sent is bounded too: 20 answers in a burst, then 20 a second.
  w.wire.clear();
  for (int i = 0; i < 40; ++i)
    w.registry.roles->receive_datagram(query, endpoint("203.0.113.99:5353"), w.now());
  EXPECT_EQ(w.wire.size(), 19u);  // the burst of 20, less the one above
  w.wire.clear();
  w.advance(1s);
  for (int i = 0; i < 40; ++i)
    w.registry.roles->receive_datagram(query, endpoint("203.0.113.99:5353"), w.now());
  EXPECT_EQ(w.wire.size(), 20u);
  EXPECT_NE(field(status(w.registry), "registry_plain_rate_limited"), "");
}

TEST_P(DnssdRolesTest, InTunnelAnswersFitTheTunnelMtuAndTcpHasTheRest) {
  add_registry_peers(150);
  uint64_t notifies = notifies_sent();
  std::vector<uint8_t> query;
  dnssd::build_query(0x6161, dnssd::service_name("example.net."), dnssd::kQueryTypePtr, query);
  store_be16(&query[query.size() - 11 + 3], 65535);
  auto packet = alice_asks_in_tunnel(query);
  ASSERT_TRUE(packet);
  EXPECT_LE(packet->size(), registry_config.mtu);  // never an IP fragment on the underlay
  auto udp = dnssd::parse_udp_packet(*packet);
  ASSERT_TRUE(udp);
  EXPECT_TRUE(udp->payload[2] & 0x02);  // TC: ask again over TCP
  // A PTR question names nobody: no NOTIFY.
  EXPECT_EQ(notifies_sent(), notifies);
  // Over TCP (the node's in-tunnel TCP server calls this) every peer is listed.
  ByteView whole = w.registry.roles->registry()->answer_stream_query(query);
  auto keys = dnssd::parse_ptr_response(whole, 0x6161, "example.net.");
  ASSERT_TRUE(keys);
  EXPECT_EQ(keys->size(), 152u);
}

// Issue 10, point 1, in simulated time: a spoofed plain query from Bob's
// endpoint, then forged plain answers "Bob is at 6.6.6.6:666" from the
// registry's address with every id, and one for Alice's own record. Before,
// this moved Alice's live tunnel on the first try; now nothing moves.
TEST_P(DnssdRolesTest, ForgedPlainAnswersWithEveryIdMoveNothing) {
  connect();
  const Endpoint forged = endpoint("6.6.6.6:666");
  uint64_t notifies = notifies_sent();
  // The spoofed query: answered to Bob's real endpoint (who ignores it), no NOTIFY.
  std::vector<uint8_t> srv;
  dnssd::build_query(0x7171, dnssd::instance_name(w.alice.host.public_key(), "example.net."),
                     dnssd::kQueryTypeSrv, srv);
  w.registry.roles->receive_datagram(srv, w.bob.host.addr, w.now());
  w.run();
  EXPECT_EQ(notifies_sent(), notifies);

  Peer& bob = alice_view_of_bob();
  auto last_handshake = bob.last_sent_handshake;
  w.history.clear();
  for (const PublicKey& key : {w.bob.host.public_key(), w.alice.host.public_key()}) {
    // One answer per id, each a valid SRV + A for `key` at the forged address.
    std::string instance = dnssd::instance_name(key, "example.net.");
    std::string target = dnssd::target_name(key, "example.net.");
    for (uint32_t id = 0; id <= 0xffff; ++id) {
      std::vector<uint8_t> answer;
      dnssd::build_query(uint16_t(id), instance, dnssd::kQueryTypeSrv, answer);
      answer[2] |= 0x84;  // QR, AA
      // ANSWER: the SRV, ADDITIONAL: the A (appended raw: counts fixed below).
      std::vector<uint8_t> srv_rr = {0xc0, 0x0c, 0, 33, 0, 1, 0, 0, 0, 0};
      std::vector<uint8_t> rdata = {0, 0, 0, 0, uint8_t(forged.port >> 8), uint8_t(forged.port)};
      auto tn = dnssd::testing::name(target);
      rdata.insert(rdata.end(), tn.begin(), tn.end());
      srv_rr.push_back(uint8_t(rdata.size() >> 8));
      srv_rr.push_back(uint8_t(rdata.size()));
      srv_rr.insert(srv_rr.end(), rdata.begin(), rdata.end());
      std::vector<uint8_t> a_rr = tn;
      a_rr.insert(a_rr.end(), {0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 6, 6, 6, 6});
      answer.resize(answer.size() - 11);  // drop the OPT
      answer.insert(answer.end(), srv_rr.begin(), srv_rr.end());
      answer.insert(answer.end(), a_rr.begin(), a_rr.end());
      store_be16(&answer[6], 1);   // ANCOUNT
      store_be16(&answer[10], 1);  // ARCOUNT
      w.alice.roles->receive_datagram(answer, w.registry.host.addr, w.now());
    }
  }
  w.run();
  EXPECT_EQ(bob.endpoint, w.bob.host.addr);
  EXPECT_TRUE(bob.candidates.empty());
  EXPECT_EQ(bob.last_sent_handshake, last_handshake);
  EXPECT_EQ(field(status(w.alice), "public_endpoint"), "198.51.100.7:40001");
  for (const Datagram& d : w.history) EXPECT_NE(d.to, forged) << "a datagram went to the forger";
  // And the tunnel still carries data.
  w.bob.host.tun.clear();
  (void)w.alice.host.device.send_packet(ipv4_packet("10.0.0.1", "10.0.0.2"), w.now());
  w.run();
  EXPECT_EQ(w.bob.host.tun.size(), 1u);
}

// DESIGN.md §9: no direct path between Alice and Bob (a symmetric NAT drops
// what they send each other), the registry relays. It forwards their own
// datagrams unchanged, cannot read them, counts them; the moment a direct
// path works, a probe finds it and the path moves there.
TEST_P(DnssdRolesTest, WithoutADirectPathTheRegistryRelays) {
  registry_config.registry->relay = true;
  w.registry.enable(registry_config);
  w.run();
  const Endpoint bob = w.bob.host.addr;
  w.cut_alice_bob();
  w.alice.roles->start(w.now());
  w.bob.roles->start(w.now());
  w.run();  // both learn that the registry relays
  (void)w.alice.host.device.send_packet(ipv4_packet("10.0.0.1", "10.0.0.2"), w.now());
  w.run();
  w.advance(1s);  // direct tries fail; 300 ms after the probe, the relay
  Peer& at_alice = alice_view_of_bob();
  ASSERT_TRUE(at_alice.keypairs.current());
  EXPECT_EQ(at_alice.endpoint, w.registry.host.addr);
  EXPECT_EQ(at_alice.relay_via, w.registry.host.public_key());
  EXPECT_EQ(bob_view_of_alice().relay_via, w.registry.host.public_key());
  // Data through the relay, byte for byte what Alice sent.
  w.history.clear();
  w.bob.host.tun.clear();  // the first packet, which waited for the session
  (void)w.alice.host.device.send_packet(ipv4_packet("10.0.0.1", "10.0.0.2", 1392), w.now());
  w.run();
  ASSERT_EQ(w.bob.host.tun.size(), 1u);
  ASSERT_EQ(w.history.size(), 2u);
  EXPECT_EQ(w.history[0].to, w.registry.host.addr);
  EXPECT_EQ(w.history[1].from, w.registry.host.addr);
  EXPECT_EQ(w.history[1].to, bob);
  EXPECT_EQ(w.history[0].bytes, w.history[1].bytes);      // unchanged: no framing, no overhead
  EXPECT_EQ(w.history[0].bytes.size(), 1392u + 28 + 32);  // the full MTU of 1420 crosses
  EXPECT_TRUE(w.registry.host.tun.empty());               // the registry read nothing
  Peer* alice_at_registry = w.registry.host.device.find_peer(w.alice.host.public_key());
  EXPECT_GE(w.registry.host.device.relayed_by(*alice_at_registry), w.history[0].bytes.size());
  // The NAT stops dropping: within one Interval the probe finds the direct path.
  w.filter = nullptr;
  w.advance(11s);
  EXPECT_EQ(at_alice.endpoint, bob);
  EXPECT_FALSE(at_alice.relay_via);
  EXPECT_FALSE(bob_view_of_alice().relay_via);
  w.history.clear();
  (void)w.alice.host.device.send_packet(ipv4_packet("10.0.0.1", "10.0.0.2"), w.now());
  w.run();
  ASSERT_EQ(w.history.size(), 1u);
  EXPECT_EQ(w.history[0].to, bob);
}

// Relay = no (the default): the registry forwards nothing; punching fails
// gracefully and the relay tries are dropped there.
TEST_P(DnssdRolesTest, WithoutRelayNothingIsForwarded) {
  w.cut_alice_bob();
  w.alice.roles->start(w.now());
  w.bob.roles->start(w.now());
  w.run();
  (void)w.alice.host.device.send_packet(ipv4_packet("10.0.0.1", "10.0.0.2"), w.now());
  w.run();
  w.advance(3s);
  EXPECT_FALSE(alice_view_of_bob().keypairs.current());
  EXPECT_EQ(w.registry.host.device.relayed_total(), 0u);
  for (const Datagram& d : w.history)
    EXPECT_FALSE(d.from == w.registry.host.addr && load_le32(d.bytes.data()) == 1u)
        << "the registry forwarded an initiation";
}

// DESIGN.md §9, LAN candidates: Alice and Carol behind one NAT that does not
// hairpin (what goes to the NAT's own public address from inside is lost).
// Each registers its LAN address; they find each other there.
TEST_P(DnssdRolesTest, TwoPeersBehindOneNatMeetOnTheLan) {
  // Carol, behind Alice's NAT: the same public address, another port.
  auto carol = std::make_unique<SimNode>(14, "198.51.100.7:40003", w.wire);
  auto& reg = w.registry.host.device;
  reg.allowed_ips().insert(prefix("10.0.0.3/32"), reg.add_peer(carol->host.public_key()));
  Device& dev = carol->host.device;
  Peer* r = dev.add_peer(w.registry.host.public_key());
  dev.set_endpoint(*r, w.registry.host.addr, EndpointSource::kConfig);
  dev.allowed_ips().insert(prefix("10.0.0.254/32"), r);
  dev.allowed_ips().insert(prefix("10.0.0.1/32"), dev.add_peer(w.alice.host.public_key()));
  Config c;
  c.addresses.push_back(*InterfaceAddress::parse("10.0.0.3/24"));
  c.discovery = DiscoveryConfig{{w.registry.host.public_key()}, "example.net.", 10};
  carol->enable(c);
  Peer* carol_at_alice = w.alice.host.device.add_peer(carol->host.public_key());
  w.alice.host.device.allowed_ips().insert(prefix("10.0.0.3/32"), carol_at_alice);
  w.alice.lan = endpoint("192.168.1.10:51820");
  carol->lan = endpoint("192.168.1.11:51820");
  dev.set_persistent_keepalive(*r, 5, w.now());
  SimNode& carol_node = *carol;
  w.extra.push_back(std::move(carol));
  const Endpoint nat = endpoint("198.51.100.7:0");
  w.filter = [&](const Datagram& d) {  // no hairpin: public to public inside the NAT is lost
    return !(d.from.address == nat.address && d.to.address == nat.address);
  };
  w.run();
  w.alice.roles->set_local_addresses({w.alice.lan->address}, 51820, w.now());
  carol_node.roles->set_local_addresses({carol_node.lan->address}, 51820, w.now());
  w.run();
  EXPECT_EQ(field(status(w.registry), "registry_candidates_registered"), "2");
  w.alice.roles->start(w.now());
  carol_node.roles->start(w.now());
  w.run();
  (void)w.alice.host.device.send_packet(ipv4_packet("10.0.0.1", "10.0.0.3"), w.now());
  w.run();
  w.advance(1s);
  ASSERT_TRUE(carol_at_alice->keypairs.current());
  EXPECT_EQ(carol_at_alice->endpoint, carol_node.lan);
  EXPECT_FALSE(carol_at_alice->relay_via);
  Peer& alice_at_carol = *dev.find_peer(w.alice.host.public_key());
  EXPECT_EQ(alice_at_carol.endpoint, w.alice.lan);
  // Data between them stays on the LAN.
  w.history.clear();
  carol_node.host.tun.clear();
  (void)w.alice.host.device.send_packet(ipv4_packet("10.0.0.1", "10.0.0.3"), w.now());
  w.run();
  ASSERT_EQ(carol_node.host.tun.size(), 1u);
  ASSERT_EQ(w.history.size(), 1u);
  EXPECT_EQ(w.history[0].to, carol_node.lan);
  // The SRV answer a stock client gets still has the public endpoint first.
  std::vector<uint8_t> q;
  dnssd::build_query(0x77, dnssd::instance_name(carol_node.host.public_key(), "example.net."),
                     dnssd::kQueryTypeSrv, q);
  ByteView answer = w.registry.roles->registry()->answer_stream_query(q);
  auto parsed =
      dnssd::parse_srv_response(answer, 0x77, carol_node.host.public_key(), "example.net.");
  ASSERT_EQ(parsed.status, dnssd::AnswerStatus::kOk);
  EXPECT_EQ(parsed.peer->endpoint, carol_node.host.addr);
  ASSERT_EQ(parsed.peer->candidates.size(), 1u);
  EXPECT_EQ(parsed.peer->candidates[0], carol_node.lan);
}

TEST_P(DnssdRolesTest, APeerThatMovesIsRediscovered) {
  connect();
  // Bob's NAT gives him a new outside address; his old one goes dark.
  Endpoint old_bob = w.bob.host.addr;
  w.bob.host.addr = endpoint("192.0.2.10:41000");
  // His keepalive to the registry moves his record there, and the registry
  // tells him and Alice (who asked about him): they meet again.
  w.advance(12s);
  (void)w.alice.host.device.send_packet(ipv4_packet("10.0.0.1", "10.0.0.2"), w.now());
  w.advance(20s);
  EXPECT_NE(*alice_view_of_bob().endpoint, old_bob);
  EXPECT_EQ(*alice_view_of_bob().endpoint, w.bob.host.addr);
  w.bob.host.tun.clear();
  (void)w.alice.host.device.send_packet(ipv4_packet("10.0.0.1", "10.0.0.2"), w.now());
  w.run();
  EXPECT_EQ(w.bob.host.tun.size(), 1u);
}

// Issue 20: Bob behind a symmetric NAT (what he sends to Alice leaves from
// an address she cannot answer, what she sends to his observed endpoint is
// lost) gets a port mapping while Alice looks for him (a packet of hers
// waits). The registry tells Alice at once (Bob looked her up when told she
// looks for him), she reaches Bob at the mapping before the relay's 300 ms
// are up, and the relay carries nothing. (Without that news she would only
// hear of the mapping at her next round, after she went through the relay.)
// `after`: from Alice's packet to Bob's mapping: before her round's probe
// left, or after it was lost.
class PortMappingTest : public DnssdRolesTest {
 protected:
  void mapping_beats_the_relay(Duration after) {
    registry_config.registry->relay = true;
    w.registry.enable(registry_config);
    w.run();
    const Endpoint alice = w.alice.host.addr, bob = w.bob.host.addr;
    const Endpoint mapped = *Endpoint::parse("192.0.2.9:51820");
    w.filter = [&](const Datagram& d) {
      return !(d.from == bob && d.to == alice) && !(d.from == alice && d.to == bob);
    };
    w.alice.roles->start(w.now());
    w.bob.roles->start(w.now());
    w.run();
    (void)w.alice.host.device.send_packet(ipv4_packet("10.0.0.1", "10.0.0.2"), w.now());
    w.run();
    w.advance(after);
    EXPECT_FALSE(alice_view_of_bob().keypairs.current());
    w.mapping = std::pair{mapped, &w.bob};
    w.bob.roles->set_port_mapping(mapped, w.now());
    w.run();
    w.advance(2s);
    Peer& at_alice = alice_view_of_bob();
    ASSERT_TRUE(at_alice.keypairs.current());
    EXPECT_EQ(at_alice.endpoint, mapped);
    EXPECT_FALSE(at_alice.relay_via);
    EXPECT_FALSE(bob_view_of_alice().relay_via);
    EXPECT_EQ(w.registry.host.device.relayed_total(), 0u);
  }
};
INSTANTIATE_TEST_SUITE_P(Memory, PortMappingTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Lent" : "Own"; });

TEST_P(PortMappingTest, AMappingBeforeTheProbeBeatsTheRelay) { mapping_beats_the_relay(50ms); }

// The news reaches Alice though she asked about Bob a moment ago (the
// registry holds back a NOTIFY that would only echo her own question, not
// news), and brings an address her lost probe did not try: she probes again
// at once instead of at her next round.
TEST_P(PortMappingTest, AMappingAfterALostProbeBeatsTheRelay) { mapping_beats_the_relay(250ms); }

}  // namespace
}  // namespace wgp::testing
