// The device's protocol rules driven in simulated time, with two in-process
// peers and no sockets (PROTOCOL.md §2, §4, §5).
#include "wg/device.h"

#include <gtest/gtest.h>

#include <set>

#include "noise/wire.h"
#include "support/sim_network.h"

namespace wgp::testing {
namespace {

using namespace std::chrono_literals;
using noise::kInitiationSize;
using noise::kResponseSize;

uint32_t type_of(const Datagram& d) { return load_le32(d.bytes.data()); }

size_t count_type(const std::vector<Datagram>& h, uint32_t type, const Endpoint& from) {
  size_t n = 0;
  for (const auto& d : h) n += type_of(d) == type && d.from == from;
  return n;
}

TEST(Device, FirstPacketStartsHandshakeAndIsDeliveredAfterIt) {
  SimNetwork net;
  net.a_sends();
  ASSERT_EQ(net.wire.size(), 1u);
  EXPECT_EQ(net.wire.front().bytes.size(), kInitiationSize);
  net.run();
  // initiation, response, then the staged packet as the initiator's first data.
  ASSERT_EQ(net.b.tun.size(), 1u);
  EXPECT_EQ(net.b.tun[0], ipv4_packet("10.0.0.1", "10.0.0.2"));
  EXPECT_EQ(type_of(net.history[0]), 1u);
  EXPECT_EQ(type_of(net.history[1]), 2u);
  EXPECT_EQ(type_of(net.history[2]), 4u);
  EXPECT_TRUE(net.a_peer->last_handshake);
  EXPECT_TRUE(net.b_peer->last_handshake);  // promoted by the data packet

  net.b_sends(100);
  net.run();
  ASSERT_EQ(net.a.tun.size(), 1u);
  EXPECT_EQ(net.a.tun[0], ipv4_packet("10.0.0.2", "10.0.0.1", 100));
}

TEST(Device, TransportPaddingIsAMultipleOf16CappedAtMtu) {
  SimNetwork net;
  net.a_sends();
  net.run();
  net.history.clear();
  net.a_sends(1);  // 29-byte packet → padded to 32
  net.a.device.set_mtu(1420);
  net.a_sends(1420 - 28);  // exactly MTU: no padding beyond it
  net.run();
  ASSERT_EQ(net.history.size(), 2u);
  EXPECT_EQ(net.history[0].bytes.size(), 32u + 32u);
  EXPECT_EQ(net.history[1].bytes.size(), 1420u + 32u);
  ASSERT_EQ(net.b.tun.size(), 3u);
  EXPECT_EQ(net.b.tun[2].size(), 1420u);
}

TEST(Device, ResponderWithoutDataSendsKeepaliveAfter10Seconds) {
  SimNetwork net;
  net.a_sends();
  net.run();
  net.history.clear();
  net.advance(9s);
  EXPECT_EQ(count_type(net.history, 4, net.b.addr), 0u);
  net.advance(2s);
  // b received data and sent none: it acknowledges with a keepalive (32 bytes).
  ASSERT_EQ(count_type(net.history, 4, net.b.addr), 1u);
  EXPECT_EQ(net.history.back().bytes.size(), noise::kTransportMinSize);
}

TEST(Device, NoAnswerToDataTriggersNewHandshakeAfter15Seconds) {
  SimNetwork net;
  net.a_sends();
  net.run();
  net.history.clear();
  net.filter = [&](const Datagram& d) { return d.from != net.b.addr; };  // b goes silent
  net.a_sends();
  net.run();
  net.advance(14s);
  EXPECT_EQ(count_type(net.history, 1, net.a.addr), 0u);
  net.advance(2s);  // 15 s + up to 333 ms of jitter
  EXPECT_EQ(count_type(net.history, 1, net.a.addr), 1u);
}

TEST(Device, RetriesEvery5SecondsAndGivesUpAfter20Initiations) {
  SimNetwork net;
  net.filter = [](const Datagram&) { return false; };  // nothing arrives
  net.a_sends();
  net.run();
  net.advance(4s);
  EXPECT_EQ(count_type(net.history, 1, net.a.addr), 1u);
  net.advance(2s);
  EXPECT_EQ(count_type(net.history, 1, net.a.addr), 2u);
  net.advance(200s);
  // 1 + 19 retries: the expiry that finds attempts > 18 gives up (kernel timers.c).
  EXPECT_EQ(count_type(net.history, 1, net.a.addr), 20u);
  EXPECT_TRUE(net.a_peer->staged.empty());
  // Each retry is a fresh initiation, never a byte replay.
  std::set<std::vector<uint8_t>> distinct;
  for (auto& d : net.history) distinct.insert(d.bytes);
  EXPECT_EQ(distinct.size(), net.history.size());
}

TEST(Device, InitiatorRekeysAfter120SecondsOfSending) {
  SimNetwork net;
  net.a_sends();
  net.run();
  const Keypair* first = net.a_peer->keypairs.current();
  for (int i = 0; i < 13; ++i) {  // traffic both ways every 10 s
    net.advance(10s);
    net.a_sends();
    net.b_sends();
    net.run();
  }
  EXPECT_NE(net.a_peer->keypairs.current(), first);
  EXPECT_EQ(net.a_peer->keypairs.previous(), first);
  EXPECT_EQ(count_type(net.history, 1, net.a.addr), 2u);
  EXPECT_EQ(count_type(net.history, 1, net.b.addr), 0u);  // only the initiator rekeys on time
  EXPECT_EQ(net.b.tun.size(), 14u);
  EXPECT_EQ(net.a.tun.size(), 13u);
}

TEST(Device, KeypairIsNotUsedAfter180Seconds) {
  SimNetwork net;
  net.a_sends();
  net.run();
  net.filter = [](const Datagram&) { return false; };
  net.advance(181s);
  net.filter = nullptr;
  net.history.clear();
  net.b_sends();  // b's session is too old: it must handshake first
  EXPECT_EQ(type_of(net.wire.front()), 1u);
  net.run();
  ASSERT_EQ(net.a.tun.size(), 1u);
}

TEST(Device, KeyMaterialIsZeroedAfter540Seconds) {
  SimNetwork net;
  net.a_sends();
  net.run();
  EXPECT_GT(net.a.device.index_count(), 0u);
  net.advance(541s);
  EXPECT_EQ(net.a_peer->keypairs.current(), nullptr);
  EXPECT_EQ(net.b_peer->keypairs.current(), nullptr);
  EXPECT_EQ(net.a.device.index_count(), 0u);
  EXPECT_EQ(net.b.device.index_count(), 0u);
}

TEST(Device, PersistentKeepaliveSendsAtItsInterval) {
  SimNetwork net;
  net.a.device.set_persistent_keepalive(*net.a_peer, 25, net.now());
  net.run();  // turning it on handshakes at once
  EXPECT_TRUE(net.a_peer->keypairs.current());
  net.history.clear();
  net.advance(100s);
  size_t keepalives = 0;
  for (auto& d : net.history)
    keepalives += d.from == net.a.addr && d.bytes.size() == noise::kTransportMinSize;
  EXPECT_GE(keepalives, 3u);
  EXPECT_LE(keepalives, 4u);
}

TEST(Device, ResponderKeypairWaitsInNextUntilConfirmed) {
  SimNetwork net;
  net.a.device.initiate_handshake(*net.a_peer, net.now());
  // Deliver the initiation only.
  Datagram init = net.wire.front();
  net.wire.pop_front();
  (void)net.b.device.receive_datagram(init.bytes, init.from, net.now());
  EXPECT_EQ(net.b_peer->keypairs.current(), nullptr);
  ASSERT_NE(net.b_peer->keypairs.next(), nullptr);
  // b must not send with `next`: its packet waits for confirmation.
  net.b_sends();
  EXPECT_EQ(net.b_peer->staged.size(), 1u);
  net.run();  // response → a; a's keepalive confirms; b flushes
  EXPECT_NE(net.b_peer->keypairs.current(), nullptr);
  EXPECT_EQ(net.b_peer->keypairs.next(), nullptr);
  EXPECT_EQ(net.a.tun.size(), 1u);
}

TEST(Device, EndpointRoamsOnlyOnAuthenticatedPackets) {
  SimNetwork net;
  net.a_sends();
  net.run();
  Endpoint moved = endpoint("198.51.100.7:40000");
  // Garbage and a tampered data packet from a new address change nothing.
  net.a_sends();
  Datagram data = net.wire.front();
  net.wire.clear();
  std::vector<uint8_t> tampered = data.bytes;
  tampered.back() ^= 1;
  EXPECT_EQ(net.b.device.receive_datagram(tampered, moved, net.now()), DropReason::kDecryptFailed);
  EXPECT_EQ(*net.b_peer->endpoint, net.a.addr);
  // The genuine packet from the new address moves the endpoint.
  EXPECT_EQ(net.b.device.receive_datagram(data.bytes, moved, net.now()), std::nullopt);
  EXPECT_EQ(*net.b_peer->endpoint, moved);
  EXPECT_EQ(net.b_peer->endpoint_source, EndpointSource::kRoamed);
  // Its replay from yet another address is rejected and moves nothing.
  Endpoint attacker = endpoint("203.0.113.9:1");
  EXPECT_EQ(net.b.device.receive_datagram(data.bytes, attacker, net.now()), DropReason::kReplayedData);
  EXPECT_EQ(*net.b_peer->endpoint, moved);
}

TEST(Device, ReplayedInitiationIsIgnored) {
  SimNetwork net;
  net.a.device.initiate_handshake(*net.a_peer, net.now());
  Datagram init = net.wire.front();
  net.run();
  net.advance(1s);
  net.history.clear();
  EXPECT_EQ(net.b.device.receive_datagram(init.bytes, endpoint("203.0.113.9:1"), net.now()),
            DropReason::kReplayedHandshake);
  EXPECT_EQ(*net.b_peer->endpoint, net.a.addr);
  EXPECT_TRUE(net.wire.empty());  // no response to a replay
}

TEST(Device, InnerSourceOutsideAllowedIpsIsDropped) {
  SimNetwork net;
  net.a_sends();
  net.run();
  net.a.device.allowed_ips().insert(prefix("10.9.0.0/16"), net.a_peer);
  (void)net.a.device.send_packet(ipv4_packet("10.0.0.66", "10.9.0.1"), net.now());
  net.run();
  EXPECT_EQ(net.b.tun.size(), 1u);  // only the first packet
  EXPECT_EQ(net.b.device.drops()[size_t(DropReason::kSourceNotAllowed)], 1u);
}

TEST(Device, UnroutablePacketIsDroppedAndCounted) {
  SimNetwork net;
  EXPECT_EQ(net.a.device.send_packet(ipv4_packet("10.0.0.1", "10.7.7.7"), net.now()),
            DropReason::kNoRoute);
  EXPECT_TRUE(net.wire.empty());
}

TEST(Device, MismatchedPresharedKeysNeverEstablish) {
  SimNetwork net;
  PresharedKey psk;
  psk.span()[0] = 1;
  net.a.device.set_preshared_key(*net.a_peer, psk);
  net.a_sends();
  net.run();
  EXPECT_TRUE(net.b.tun.empty());
  EXPECT_EQ(net.a.device.drops()[size_t(DropReason::kHandshakeFailed)], 1u);

  SimNetwork ok;
  ok.a.device.set_preshared_key(*ok.a_peer, psk);
  ok.b.device.set_preshared_key(*ok.b_peer, psk);
  ok.a_sends();
  ok.run();
  EXPECT_EQ(ok.b.tun.size(), 1u);
}

TEST(Device, MalformedDatagramsAreCountedNotFatal) {
  SimNetwork net;
  std::vector<std::vector<uint8_t>> junk = {
      {}, {1}, {1, 0, 0, 0}, std::vector<uint8_t>(147, 0), std::vector<uint8_t>(148, 0),
      std::vector<uint8_t>(92, 0), std::vector<uint8_t>(31, 0),
  };
  junk[4][0] = 1;  // right size, zero mac1
  junk[5][0] = 2;
  std::vector<uint8_t> reserved(148, 0);
  reserved[0] = 1;
  reserved[1] = 1;  // reserved byte set: not a type-1 message
  junk.push_back(reserved);
  for (auto& j : junk) EXPECT_NE(net.b.device.receive_datagram(j, net.a.addr, net.now()), std::nullopt);
  EXPECT_EQ(net.b.device.drops()[size_t(DropReason::kBadMac1)], 2u);
  EXPECT_EQ(net.b.device.drops()[size_t(DropReason::kMalformed)], 6u);
  EXPECT_FALSE(net.b_peer->endpoint != net.a.addr);
}

TEST(Device, UnderLoadInitiationsGetCookiesAndRetriesCarryMac2) {
  SimNetwork net;
  net.a.device.initiate_handshake(*net.a_peer, net.now());
  Datagram init = net.wire.front();
  net.wire.clear();  // lost: a will retry every 5 s
  // Meanwhile b is flooded with valid-mac1 copies from elsewhere, so it stays
  // under load and answers every initiation without a valid mac2 by a cookie.
  Endpoint flooder = endpoint("203.0.113.5:999");
  for (int step = 0; step < 30 && !net.a_peer->keypairs.current(); ++step) {
    for (int i = 0; i < 200; ++i) (void)net.b.device.receive_datagram(init.bytes, flooder, net.now());
    EXPECT_TRUE(net.b.device.under_load(net.now().mono));
    net.advance(500ms);
  }
  EXPECT_GT(net.b.device.drops()[size_t(DropReason::kCookieSent)], 200u);
  // a's first retry drew a cookie reply; the next one carried mac2 and
  // completed the handshake while b was still under load.
  size_t cookies_to_a = 0;
  for (const auto& d : net.history) cookies_to_a += type_of(d) == 3 && d.to == net.a.addr;
  EXPECT_GE(cookies_to_a, 1u);
  EXPECT_TRUE(net.a_peer->keypairs.current());
}

TEST(Device, RekeyAfterMessageCount) {
  SimNetwork net;
  net.a_sends();
  net.run();
  net.b_peer->keypairs.current()->send_counter = noise::kRekeyAfterMessages + 1;
  net.history.clear();
  net.advance(6s);  // past the 5 s initiation rate limit
  net.b_sends();
  net.run();
  // The responder rekeys on message count too.
  EXPECT_EQ(count_type(net.history, 1, net.b.addr), 1u);
}

TEST(Device, PrivateKeyChangeDropsSessionsAndRehandshakes) {
  SimNetwork net;
  net.a_sends();
  net.run();
  PrivateKey fresh = generate_private_key(net.a.rng);
  net.a.device.set_private_key(fresh);
  EXPECT_FALSE(net.a_peer->keypairs.current()->usable_for_sending(net.now().mono));
  // b still knows a's old key: the new handshake fails at b, as it must.
  net.a_sends();
  EXPECT_EQ(type_of(net.wire.front()), 1u);
  net.run();
  EXPECT_EQ(net.b.device.drops()[size_t(DropReason::kUnknownPeer)], 1u);
}

TEST(Device, OwnPublicKeyIsNotAPeer) {
  SimNetwork net;
  EXPECT_EQ(net.a.device.add_peer(net.a.public_key()), nullptr);
}

// The event loop asks next_deadline() after every batch, so it is O(1): a
// bound lowered by every arm(), made exact by run_timers(). It must never be
// later than any armed timer of any peer, or a timer would fire late.
TEST(Device, NextDeadlineIsNeverLaterThanAnyTimerAndExactAfterRunTimers) {
  SimNetwork net;
  std::vector<Peer*> peers{net.a_peer};
  for (int i = 0; i < 50; ++i) {
    SeededRandom rng(100 + i);
    Peer* p = net.a.device.add_peer(derive_public_key(generate_private_key(rng)));
    net.a.device.set_endpoint(*p, endpoint("192.0.2.99:1"), EndpointSource::kConfig);
    peers.push_back(p);
  }
  auto exact = [&] {
    std::optional<Instant> e;
    for (const Peer& p : net.a.device.peers())
      if (auto d = p.timers.next_deadline(); d && (!e || *d < *e)) e = d;
    return e;
  };
  EXPECT_FALSE(net.a.device.next_deadline()) << "no timer armed yet";
  for (size_t i = 0; i < peers.size(); ++i) {
    net.advance(std::chrono::milliseconds(37 * (i % 7)));
    net.a.device.initiate_handshake(*peers[i], net.now());  // arms retransmit timers
    ASSERT_TRUE(exact());
    ASSERT_TRUE(net.a.device.next_deadline());
    EXPECT_LE(*net.a.device.next_deadline(), *exact()) << "peer " << i;
  }
  // Disarming leaves the bound early; run_timers makes it exact again.
  net.a.device.run_timers(net.now());
  EXPECT_EQ(net.a.device.next_deadline(), exact());
  net.advance(std::chrono::seconds(200));  // every retry given up, keys zeroed later
  EXPECT_EQ(net.a.device.next_deadline(), exact());
}

}  // namespace
}  // namespace wgp::testing
