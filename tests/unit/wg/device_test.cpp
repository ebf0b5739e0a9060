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

// Every test runs twice: with the device building datagrams in its own
// memory, and in memory the output lends it, as the real node does.
class DeviceTest : public ::testing::TestWithParam<bool> {};
INSTANTIATE_TEST_SUITE_P(Memory, DeviceTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Lent" : "Own"; });

TEST_P(DeviceTest, FirstPacketStartsHandshakeAndIsDeliveredAfterIt) {
  SimNetwork net(GetParam());
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

TEST_P(DeviceTest, TransportPaddingIsAMultipleOf16CappedAtMtu) {
  SimNetwork net(GetParam());
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

TEST_P(DeviceTest, ResponderWithoutDataSendsKeepaliveAfter10Seconds) {
  SimNetwork net(GetParam());
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

TEST_P(DeviceTest, NoAnswerToDataTriggersNewHandshakeAfter15Seconds) {
  SimNetwork net(GetParam());
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

TEST_P(DeviceTest, RetriesEvery5SecondsAndGivesUpAfter20Initiations) {
  SimNetwork net(GetParam());
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

TEST_P(DeviceTest, InitiatorRekeysAfter120SecondsOfSending) {
  SimNetwork net(GetParam());
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

TEST_P(DeviceTest, KeypairIsNotUsedAfter180Seconds) {
  SimNetwork net(GetParam());
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

TEST_P(DeviceTest, KeyMaterialIsZeroedAfter540Seconds) {
  SimNetwork net(GetParam());
  net.a_sends();
  net.run();
  EXPECT_GT(net.a.device.index_count(), 0u);
  net.advance(541s);
  EXPECT_EQ(net.a_peer->keypairs.current(), nullptr);
  EXPECT_EQ(net.b_peer->keypairs.current(), nullptr);
  EXPECT_EQ(net.a.device.index_count(), 0u);
  EXPECT_EQ(net.b.device.index_count(), 0u);
}

TEST_P(DeviceTest, PersistentKeepaliveSendsAtItsInterval) {
  SimNetwork net(GetParam());
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

TEST_P(DeviceTest, ResponderKeypairWaitsInNextUntilConfirmed) {
  SimNetwork net(GetParam());
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

TEST_P(DeviceTest, EndpointRoamsOnlyOnAuthenticatedPackets) {
  SimNetwork net(GetParam());
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

TEST_P(DeviceTest, ReplayedInitiationIsIgnored) {
  SimNetwork net(GetParam());
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

TEST_P(DeviceTest, InnerSourceOutsideAllowedIpsIsDropped) {
  SimNetwork net(GetParam());
  net.a_sends();
  net.run();
  net.a.device.allowed_ips().insert(prefix("10.9.0.0/16"), net.a_peer);
  (void)net.a.device.send_packet(ipv4_packet("10.0.0.66", "10.9.0.1"), net.now());
  net.run();
  EXPECT_EQ(net.b.tun.size(), 1u);  // only the first packet
  EXPECT_EQ(net.b.device.drops()[size_t(DropReason::kSourceNotAllowed)], 1u);
}

TEST_P(DeviceTest, UnroutablePacketIsDroppedAndCounted) {
  SimNetwork net(GetParam());
  EXPECT_EQ(net.a.device.send_packet(ipv4_packet("10.0.0.1", "10.7.7.7"), net.now()),
            DropReason::kNoRoute);
  EXPECT_TRUE(net.wire.empty());
}

TEST_P(DeviceTest, MismatchedPresharedKeysNeverEstablish) {
  SimNetwork net(GetParam());
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

TEST_P(DeviceTest, MalformedDatagramsAreCountedNotFatal) {
  SimNetwork net(GetParam());
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

TEST_P(DeviceTest, UnderLoadInitiationsGetCookiesAndRetriesCarryMac2) {
  SimNetwork net(GetParam());
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

TEST_P(DeviceTest, RekeyAfterMessageCount) {
  SimNetwork net(GetParam());
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

TEST_P(DeviceTest, PrivateKeyChangeDropsSessionsAndRehandshakes) {
  SimNetwork net(GetParam());
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

TEST_P(DeviceTest, OwnPublicKeyIsNotAPeer) {
  SimNetwork net(GetParam());
  EXPECT_EQ(net.a.device.add_peer(net.a.public_key()), nullptr);
}

// Issue 9, defect 2: receiving the initiator's first data message releases
// the responder's staged packets, which are encrypted while the received
// plaintext is still in use; the two must not share memory.
TEST_P(DeviceTest, StagedPacketsSentOnConfirmationLeaveTheReceivedPacketIntact) {
  SimNetwork net(GetParam());
  net.a_sends(60);
  ASSERT_TRUE(net.deliver_one());  // the initiation reaches b, b responds
  net.b_sends(90);                 // b has only `next`: the packet is staged
  ASSERT_EQ(net.b_peer->staged.size(), 1u);
  net.run();  // response → a; a's data confirms the session at b; b flushes
  ASSERT_EQ(net.b.tun.size(), 1u);
  EXPECT_EQ(net.b.tun[0], ipv4_packet("10.0.0.1", "10.0.0.2", 60));
  ASSERT_EQ(net.a.tun.size(), 1u);
  EXPECT_EQ(net.a.tun[0], ipv4_packet("10.0.0.2", "10.0.0.1", 90));
  EXPECT_EQ(net.b.device.drops()[size_t(DropReason::kBadInnerPacket)], 0u);
}

// Issue 9, defect 3: the packet that confirms a session also tells where the
// peer is now; what it releases must go there, not to the old endpoint.
TEST_P(DeviceTest, StagedPacketsGoWhereTheConfirmingPacketCameFrom) {
  SimNetwork net(GetParam());
  net.a_sends();
  ASSERT_TRUE(net.deliver_one());  // initiation: b aims at a.addr
  net.b_sends(40);                 // staged at b
  ASSERT_TRUE(net.deliver_one());  // response → a, which sends its staged data
  ASSERT_EQ(net.wire.size(), 1u);
  Datagram data = net.wire.front();
  net.wire.clear();
  // a's NAT rebinds before its first data message leaves.
  Endpoint rebound = endpoint("198.51.100.20:61000");
  EXPECT_EQ(net.b.device.receive_datagram(data.bytes, rebound, net.now()), std::nullopt);
  EXPECT_EQ(*net.b_peer->endpoint, rebound);
  ASSERT_EQ(net.wire.size(), 1u);
  EXPECT_EQ(type_of(net.wire.front()), 4u);
  EXPECT_EQ(net.wire.front().to, rebound);
}

// §5.2 receive side: an initiator that only receives renews its session
// when a packet arrives after REJECT_AFTER_TIME - KEEPALIVE - REKEY_TIMEOUT
// (165 s), so the session never dies under a one-way flow.
TEST_P(DeviceTest, InitiatorThatOnlyReceivesRekeysAfter165Seconds) {
  SimNetwork net(GetParam());
  net.a_sends();
  net.run();
  net.history.clear();
  for (int t = 5; t <= 160; t += 5) {  // b sends, a only answers with keepalives
    net.advance(5s);
    net.b_sends();
    net.run();
  }
  EXPECT_EQ(count_type(net.history, 1, net.a.addr), 0u) << "no rekey before 165 s";
  net.advance(6s);  // 166 s
  net.b_sends();
  net.run();
  EXPECT_EQ(count_type(net.history, 1, net.a.addr), 1u);
  EXPECT_EQ(net.a.tun.size(), 33u);  // every packet of b's arrived
  const Keypair* renewed = net.a_peer->keypairs.current();
  ASSERT_NE(renewed, nullptr);
  EXPECT_LT(renewed->age(net.now().mono), 1s);
}

// §5.2: a keypair that has sent REJECT_AFTER_MESSAGES messages sends no
// more: the next packet waits for a new handshake.
TEST_P(DeviceTest, KeypairStopsSendingAtRejectAfterMessages) {
  SimNetwork net(GetParam());
  net.a_sends();
  net.run();
  Keypair* kp = net.a_peer->keypairs.current();
  kp->send_counter = noise::kRejectAfterMessages - 1;
  net.history.clear();
  net.advance(6s);  // past the initiation rate limit
  net.a_sends();    // the last counter the keypair may use
  ASSERT_EQ(net.wire.size(), 2u);  // the data, and the rekey it triggers
  EXPECT_EQ(type_of(net.wire[0]), 4u);
  EXPECT_EQ(load_le64(&net.wire[0].bytes[noise::kTransportCounterOffset]),
            noise::kRejectAfterMessages - 1);
  EXPECT_EQ(type_of(net.wire[1]), 1u);
  EXPECT_FALSE(kp->usable_for_sending(net.now().mono));
  net.a_sends();  // nothing may go with the worn-out keypair
  EXPECT_EQ(net.wire.size(), 2u);
  EXPECT_EQ(net.a_peer->staged.size(), 1u);
  net.run();  // the rekey completes; the new session carries the packet
  EXPECT_NE(net.a_peer->keypairs.current(), kp);
  EXPECT_TRUE(net.a_peer->staged.empty());
  EXPECT_EQ(net.b.tun.size(), 3u);
}

TEST_P(DeviceTest, RemovingAPeerDuringItsHandshakeForgetsIt) {
  SimNetwork net(GetParam());
  net.a_sends();
  ASSERT_TRUE(net.deliver_one());  // b answers; the response is on the wire
  PublicKey b_key = net.b.public_key();
  net.a.device.remove_peer(net.a_peer);
  EXPECT_EQ(net.a.device.index_count(), 0u);
  net.run();  // the response names an index that is gone
  EXPECT_EQ(net.a.device.drops()[size_t(DropReason::kUnknownIndex)], 1u);
  net.a.device.run_timers(net.now());
  EXPECT_EQ(net.a.device.next_deadline(), std::nullopt);  // no timer of the dead peer
  // Added back, it handshakes from scratch.
  Peer* again = net.a.device.add_peer(b_key);
  net.a.device.set_endpoint(*again, net.b.addr, EndpointSource::kConfig);
  net.a.device.allowed_ips().insert(prefix("10.0.0.2/32"), again);
  net.advance(6s);
  net.a_sends();
  net.run();
  EXPECT_NE(again->keypairs.current(), nullptr);
  EXPECT_EQ(net.b.tun.size(), 1u);
}

TEST_P(DeviceTest, PrivateKeyChangeDuringAHandshakeDiscardsItsResponse) {
  SimNetwork net(GetParam());
  net.a_sends();
  ASSERT_TRUE(net.deliver_one());  // b answers the old identity
  net.a.device.set_private_key(generate_private_key(net.a.rng));
  net.run();
  // The response was for a handshake the key change threw away (and its
  // mac1 is keyed to the old public key, so it fails there first).
  EXPECT_EQ(net.a_peer->keypairs.current(), nullptr);
  EXPECT_EQ(net.a.device.drops()[size_t(DropReason::kBadMac1)], 1u);
  EXPECT_EQ(net.a.device.index_count(), 0u);
  EXPECT_TRUE(net.b.tun.empty());
}

// Both sides initiate at the same moment: each consumes the other's
// initiation, which supersedes its own, so each response is for a handshake
// its receiver no longer holds. The side with the lesser key recognises the
// crossing and starts over 25 ms later (not after the 5 s retry); the
// new handshake carries both staged packets through.
TEST_P(DeviceTest, SimultaneousInitiationsStillConnect) {
  SimNetwork net(GetParam());
  net.a_sends(10);
  net.b_sends(20);
  ASSERT_EQ(net.wire.size(), 2u);
  net.run();
  EXPECT_EQ(net.a.device.drops()[size_t(DropReason::kCrossedHandshake)], 1u);
  EXPECT_EQ(net.b.device.drops()[size_t(DropReason::kCrossedHandshake)], 1u);
  net.advance(100ms);
  ASSERT_EQ(net.b.tun.size(), 1u);
  EXPECT_EQ(net.b.tun[0], ipv4_packet("10.0.0.1", "10.0.0.2", 10));
  ASSERT_EQ(net.a.tun.size(), 1u);
  EXPECT_EQ(net.a.tun[0], ipv4_packet("10.0.0.2", "10.0.0.1", 20));
  // And it settles: no handshake storm afterwards.
  net.history.clear();
  net.advance(30s);
  EXPECT_LE(count_type(net.history, 1, net.a.addr) + count_type(net.history, 1, net.b.addr), 1u);
}

// Device::try_candidate: the one rule for addresses learnt from discovery.
TEST_P(DeviceTest, ACandidateBecomesTheEndpointOnlyByAnAuthenticatedPacket) {
  SimNetwork net(GetParam());
  Device& a = net.a.device;
  a.set_endpoint(*net.a_peer, endpoint("192.0.2.200:9"), EndpointSource::kNone);
  net.a_peer->endpoint.reset();  // a knows b's key, not where b is
  net.a_peer->endpoint_source = EndpointSource::kNone;
  EXPECT_EQ(a.send_packet(ipv4_packet("10.0.0.1", "10.0.0.2"), net.now()), DropReason::kNoEndpoint);
  // A candidate that is wrong: the initiation goes there, nothing else changes.
  Endpoint nowhere = endpoint("203.0.113.50:1000");
  EXPECT_EQ(a.try_candidate(*net.a_peer, nowhere, net.now()), Device::CandidateOutcome::kTried);
  ASSERT_EQ(net.wire.size(), 1u);
  EXPECT_EQ(net.wire.front().to, nowhere);
  EXPECT_EQ(type_of(net.wire.front()), 1u);
  EXPECT_FALSE(net.a_peer->endpoint);
  EXPECT_EQ(a.try_candidate(*net.a_peer, nowhere, net.now()), Device::CandidateOutcome::kPending);
  // Data waits for a handshake with a candidate instead of being dropped.
  EXPECT_EQ(a.send_packet(ipv4_packet("10.0.0.1", "10.0.0.2"), net.now()), std::nullopt);
  net.run();  // lost
  // The right candidate: tried at once (the 5 s per-peer limit is for the
  // same address), answered, and only the answer makes it the endpoint.
  net.advance(1s);
  EXPECT_EQ(a.try_candidate(*net.a_peer, net.b.addr, net.now()), Device::CandidateOutcome::kTried);
  EXPECT_FALSE(net.a_peer->endpoint);
  net.run();
  EXPECT_EQ(net.a_peer->endpoint, net.b.addr);
  EXPECT_EQ(net.a_peer->endpoint_source, EndpointSource::kDiscovered);
  EXPECT_TRUE(net.a_peer->candidates.empty());
  EXPECT_EQ(net.b.tun.size(), 1u);  // the staged packet went through
}

TEST_P(DeviceTest, ALiveSessionKeepsItsEndpointAgainstAFalseCandidate) {
  SimNetwork net(GetParam());
  // Set with `wg set` rather than the config: not static.
  net.a.device.set_endpoint(*net.a_peer, net.b.addr, EndpointSource::kControl);
  net.a_sends();
  net.run();
  Endpoint liar = endpoint("6.6.6.6:666");
  EXPECT_EQ(net.a.device.try_candidate(*net.a_peer, net.b.addr, net.now()),
            Device::CandidateOutcome::kEndpoint);
  EXPECT_TRUE(net.wire.empty());
  EXPECT_EQ(net.a.device.try_candidate(*net.a_peer, liar, net.now()), Device::CandidateOutcome::kTried);
  net.run();
  EXPECT_EQ(net.a_peer->endpoint, net.b.addr);  // unmoved: nothing authenticated came from the liar
  net.a_sends();
  ASSERT_EQ(net.wire.size(), 1u);
  EXPECT_EQ(net.wire.front().to, net.b.addr);
  net.run();
  EXPECT_EQ(net.b.tun.size(), 2u);
}

TEST_P(DeviceTest, AStaticEndpointIsNeverReplacedByACandidate) {
  SimNetwork net(GetParam());  // endpoints from the config
  EXPECT_EQ(net.a.device.try_candidate(*net.a_peer, endpoint("203.0.113.7:7"), net.now()),
            Device::CandidateOutcome::kStatic);
  EXPECT_TRUE(net.wire.empty());
  EXPECT_TRUE(net.a_peer->candidates.empty());
}

// The event loop asks next_deadline() after every batch, so it is O(1): a
// bound lowered by every arm(), made exact by run_timers(). It must never be
// later than any armed timer of any peer, or a timer would fire late.
TEST_P(DeviceTest, NextDeadlineIsNeverLaterThanAnyTimerAndExactAfterRunTimers) {
  SimNetwork net(GetParam());
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
