// The registry's relay under abuse (issue 17 items 1-3, 7; wg/relay.h): a
// registry and three of its peers in simulated time, Alice and Bob talking
// through it, Carol a peer of the registry who tries to take their route, to
// spend the registry's CPU or to flood Bob through it. And the Relay's own
// tables: bounded, keyed, nothing renewed by a replay.
#include "wg/relay.h"

#include <gtest/gtest.h>

#include <functional>

#include "crypto/tai64n.h"
#include "noise/cookie.h"
#include "noise/handshake.h"
#include "support/relay_world.h"

namespace wgp::testing {
namespace {

using namespace std::chrono_literals;

PublicKey key_of(uint32_t n) {
  PublicKey k{};
  store_le32(k.data(), n);
  k[31] = 0x5a;
  return k;
}

// --- the Relay's tables ------------------------------------------------------

TEST(RelayTable, AnInitiationIsTriedAgainstTheSendersMostRecentLookupsOnly) {
  Relay relay;
  Instant t{1h};
  const PublicKey alice = key_of(1);
  for (uint32_t i = 0; i < 100; ++i) relay.permit(alice, key_of(100 + i), t + i * 1ms);
  std::vector<PublicKey> tried;
  relay.for_each_partner(alice, t + 1s, [&](const PublicKey& k) {
    tried.push_back(k);
    return false;
  });
  ASSERT_EQ(tried.size(), Relay::kPartnersTried);
  for (size_t i = 0; i < tried.size(); ++i) EXPECT_EQ(tried[i], key_of(100 + 99 - uint32_t(i)));
  // A lookup again brings an old partner back to the front.
  relay.permit(alice, key_of(100), t + 2s);
  relay.for_each_partner(alice, t + 2s, [&](const PublicKey& k) {
    EXPECT_EQ(k, key_of(100));
    return true;
  });
  EXPECT_TRUE(relay.permitted(alice, key_of(100), t + 2s));
  EXPECT_TRUE(relay.permitted(key_of(150), alice, t + 2s));  // alice is among its own lookups
  EXPECT_FALSE(relay.permitted(alice, key_of(100), t + 2s + Relay::kPermitLifetime));
}

TEST(RelayTable, AnIndexBelongsToThePairThatBoundItUntilItExpires) {
  Relay relay;
  Instant t{1h};
  const Relay::Route ab{key_of(1), key_of(2), Relay::Kind::kInitiation};
  const Relay::Route cb{key_of(3), key_of(2), Relay::Kind::kInitiation};
  ASSERT_TRUE(relay.bind(7, ab, t));
  EXPECT_FALSE(relay.bind(7, cb, t + 1s));  // a takeover
  EXPECT_EQ(relay.route(7, t + 1s)->to, key_of(1));
  EXPECT_TRUE(relay.bind(7, ab, t + 2s));  // the same pair again: fine, and renews nothing
  EXPECT_NE(relay.route(7, t + Relay::kRouteLifetime - 1s), nullptr);
  EXPECT_EQ(relay.route(7, t + Relay::kRouteLifetime), nullptr);
  EXPECT_TRUE(relay.bind(7, cb, t + Relay::kRouteLifetime));  // expired: free again
}

TEST(RelayTable, TrafficRenewsNoRoute) {
  Relay relay;
  Instant t{1h};
  ASSERT_TRUE(relay.bind(9, {key_of(1), key_of(2), Relay::Kind::kInitiation}, t));
  // A datagram every second, replayed or not: the route still ends on time.
  for (Instant now = t; now < t + Relay::kRouteLifetime; now += 1s)
    ASSERT_NE(relay.route(9, now), nullptr);
  EXPECT_EQ(relay.route(9, t + Relay::kRouteLifetime), nullptr);
}

TEST(RelayTable, OneResponsePerInitiationAndItsIndexIsTheWayBack) {
  Relay relay;
  Instant t{1h};
  const PublicKey alice = key_of(1), bob = key_of(2);
  ASSERT_TRUE(relay.bind(10, {alice, bob, Relay::Kind::kInitiation}, t));
  EXPECT_TRUE(relay.answer(10, 20, t));
  EXPECT_TRUE(relay.answer(10, 20, t));   // the same response again
  EXPECT_FALSE(relay.answer(10, 21, t));  // another responder index: no
  const Relay::Route* back = relay.route(20, t);
  ASSERT_NE(back, nullptr);
  EXPECT_EQ(back->to, bob);
  EXPECT_EQ(back->from, alice);
  EXPECT_FALSE(Relay::carries(*back, uint32_t(noise::MessageType::kResponse)));
  EXPECT_TRUE(Relay::carries(*back, uint32_t(noise::MessageType::kTransport)));
  EXPECT_FALSE(relay.answer(20, 30, t));  // a response route takes no response
}

TEST(RelayTable, RoutesAreBoundedAndTheOldestGoFirst) {
  Relay relay;
  Instant t{1h};
  const size_t n = Relay::kMaxRoutes + 1000;
  for (uint32_t i = 0; i < n; ++i)
    ASSERT_TRUE(relay.bind(i, {key_of(1), key_of(2), Relay::Kind::kInitiation}, t + i * 1us));
  EXPECT_EQ(relay.route_count(), Relay::kMaxRoutes);
  EXPECT_EQ(relay.routes_evicted(), 1000u);
  EXPECT_EQ(relay.route(0, t + 1s), nullptr);
  EXPECT_NE(relay.route(uint32_t(n - 1), t + 1s), nullptr);
}

TEST(RelayTable, InitiationsHaveABudgetPerSenderAndPerPair) {
  Relay relay;
  Instant t{1h};
  const PublicKey carol = key_of(3), bob = key_of(2), dave = key_of(4);
  EXPECT_FALSE(relay.allow_initiation(carol, bob, t));  // no lookup, no initiation
  relay.permit(carol, bob, t);
  relay.permit(carol, dave, t);
  int to_bob = 0;
  for (int i = 0; i < 100; ++i) to_bob += relay.allow_initiation(carol, bob, t);
  EXPECT_EQ(to_bob, 3);                                     // the pair's burst
  EXPECT_TRUE(relay.allow_initiation(carol, dave, t));      // another pair: its own budget
  EXPECT_TRUE(relay.allow_initiation(carol, bob, t + 1s));  // one a second
  EXPECT_FALSE(relay.allow_initiation(carol, bob, t + 1s));
  // The sender's own budget bounds the sum over its pairs.
  int total = 0;
  for (uint32_t i = 0; i < 64; ++i) {
    relay.permit(carol, key_of(100 + i), t + 2s);
    total += relay.allow_initiation(carol, key_of(100 + i), t + 2s);
  }
  EXPECT_LE(total, 20);
}

TEST(KeyedHash, TwoTablesDoNotShareTheirKey) {
  KeyedHash a, b;
  int same = 0;
  for (uint32_t i = 0; i < 64; ++i) same += a(i) == b(i);
  EXPECT_LT(same, 2);
  KeyedHash copy = a;
  EXPECT_EQ(copy(uint32_t(5)), a(uint32_t(5)));
}

// --- a registry relaying for its peers -----------------------------------------

// The world of support/relay_world.h, and what the tests make in it.
class RelayTestWorld : public RelayWorld {
 public:
  // A handshake initiation from `from`'s identity for `to`, with the sender
  // index `index` and a valid mac1 (mac2 too once `macs` holds a cookie).
  std::array<uint8_t, noise::kInitiationSize> initiation(SimHost& from, const PublicKey& to,
                                                         uint32_t index) {
    noise::PeerKeys keys(to, from.device.identity());
    noise::Handshake hs;
    std::array<uint8_t, noise::kInitiationSize> msg{};
    EXPECT_EQ(noise::create_initiation(hs, from.device.identity(), keys, index, tai64n(wall),
                                       generate_private_key(from.rng), msg),
              noise::HandshakeError::kNone);
    noise::CookieGenerator macs;
    macs.set_keys(keys.mac1_key, keys.cookie_key);
    macs.add_macs(msg, mono);
    return msg;
  }
  // Datagrams that went to `to` from `from` (a position in history onwards).
  size_t delivered(const Endpoint& from, const Endpoint& to, size_t since = 0) const {
    size_t n = 0;
    for (size_t i = since; i < history.size(); ++i)
      n += history[i].from == from && history[i].to == to;
    return n;
  }
};

const char* kAliceTun = "10.0.0.1/32";
const char* kBobTun = "10.0.0.2/32";

TEST(RelayDevice, AliceAndBobTalkThroughTheRegistry) {
  RelayTestWorld w;
  w.relay_pair(w.alice, kAliceTun, w.bob, kBobTun);
  Peer& bob_at_alice = *w.alice.device.find_peer(w.bob.public_key());
  ASSERT_TRUE(w.alice.device.has_live_session(bob_at_alice, w.mono));
  EXPECT_EQ(bob_at_alice.relay_via, w.reg.public_key());
  w.bob.tun.clear();
  (void)w.alice.device.send_packet(ipv4_packet("10.0.0.1", "10.0.0.2"), w.now());
  w.run();
  EXPECT_EQ(w.bob.tun.size(), 1u);
}

// Item 1: a flood of initiations with a bad mac1 from a peer's confirmed
// endpoint costs a bounded, small number of MACs each, however many peers
// the sender looked up.
TEST(RelayDevice, ARelayedInitiationCostsABoundedNumberOfMacs) {
  RelayTestWorld w;
  SeededRandom rng(5);
  for (int i = 0; i < 2000; ++i) {
    PublicKey k = derive_public_key(generate_private_key(rng));
    ASSERT_NE(w.reg.device.add_peer(k), nullptr);
    w.reg.device.permit_relay(w.carol.public_key(), k, w.mono);
  }
  std::array<uint8_t, noise::kInitiationSize> junk{};
  store_le32(junk.data(), uint32_t(noise::MessageType::kInitiation));
  const uint64_t before = w.reg.device.relay_mac_checks();
  const int datagrams = 50;
  for (int i = 0; i < datagrams; ++i) {
    junk[8] = uint8_t(i);
    (void)w.reg.device.receive_datagram(junk, w.carol.addr, w.now());
  }
  double per_datagram = double(w.reg.device.relay_mac_checks() - before) / datagrams;
  EXPECT_LE(per_datagram, double(Relay::kPartnersTried)) << per_datagram << " MACs per datagram";
}

// Item 1: relayed initiations pass the registry's own load gate: a flood
// puts it under load, and then a source gets its handshake budget only.
TEST(RelayDevice, RelayedInitiationsPassTheLoadGate) {
  RelayTestWorld w;
  w.reg.device.permit_relay(w.carol.public_key(), w.bob.public_key(), w.mono);
  std::array<uint8_t, noise::kInitiationSize> junk{};
  store_le32(junk.data(), uint32_t(noise::MessageType::kInitiation));
  const uint64_t before = w.reg.device.relay_mac_checks();
  for (int i = 0; i < 2000; ++i) {
    store_le32(&junk[8], uint32_t(i));
    (void)w.reg.device.receive_datagram(junk, w.carol.addr, w.now());
  }
  EXPECT_TRUE(w.reg.device.under_load(w.mono));
  // Past the 128 that start the load, the source's 5-packet burst only.
  EXPECT_LE(w.reg.device.relay_mac_checks() - before, 128u + 5u + 1u);
}

// Item 2: Carol, a peer looked up by Bob's side (permitted to Bob), sends an
// initiation for Bob that reuses Alice's index: Bob's traffic for Alice
// must still reach Alice, and nothing of it Carol.
TEST(RelayDevice, AnIndexCannotBeTakenOverByAnotherPair) {
  RelayTestWorld w;
  w.relay_pair(w.alice, kAliceTun, w.bob, kBobTun);
  w.reg.device.permit_relay(w.carol.public_key(), w.bob.public_key(), w.mono);
  Peer& bob_at_alice = *w.alice.device.find_peer(w.bob.public_key());
  const uint32_t alice_index = bob_at_alice.keypairs.current()->local_index;
  auto takeover = w.initiation(w.carol, w.bob.public_key(), alice_index);
  (void)w.reg.device.receive_datagram(takeover, w.carol.addr, w.now());
  w.run();
  EXPECT_EQ(w.reg.device.drops()[size_t(DropReason::kRelayRefused)], 1u);
  size_t since = w.history.size();
  w.alice.tun.clear();
  (void)w.bob.device.send_packet(ipv4_packet("10.0.0.2", "10.0.0.1"), w.now());
  w.run();
  EXPECT_EQ(w.alice.tun.size(), 1u) << "Bob's packet for Alice did not reach Alice";
  EXPECT_EQ(w.delivered(w.reg.addr, w.carol.addr, since), 0u)
      << "the registry sent Carol Bob's traffic";
}

// Item 2: both ends must hold a session with the registry for every
// datagram forwarded. Bob's session with the registry lapses (his
// handshakes with it are lost) while his relayed session with Alice lives
// on: his data for Alice is no longer forwarded.
TEST(RelayDevice, TheSenderMustHoldASessionWithTheRegistry) {
  RelayTestWorld w;
  w.relay_pair(w.alice, kAliceTun, w.bob, kBobTun);
  // From now on no handshake between Bob and the registry itself gets through.
  const Hash reg_mac1 = w.reg.device.identity().mac1_key;
  const Hash bob_mac1 = w.bob.device.identity().mac1_key;
  w.filter = [&](const Datagram& d) {
    if (d.bytes.size() < 4) return true;
    uint32_t type = load_le32(d.bytes.data());
    bool handshake = type == uint32_t(noise::MessageType::kInitiation) ||
                     type == uint32_t(noise::MessageType::kResponse);
    if (!handshake) return true;
    if (d.from == w.bob.addr && d.to == w.reg.addr && noise::mac1_matches(reg_mac1, d.bytes))
      return false;
    if (d.from == w.reg.addr && d.to == w.bob.addr && noise::mac1_matches(bob_mac1, d.bytes))
      return false;
    return true;
  };
  // Keep Alice and Bob busy (their own session rekeys through the relay).
  for (int i = 0; i < 20; ++i) {
    w.advance(10s);
    (void)w.alice.device.send_packet(ipv4_packet("10.0.0.1", "10.0.0.2"), w.now());
    (void)w.bob.device.send_packet(ipv4_packet("10.0.0.2", "10.0.0.1"), w.now());
    w.run();
  }
  Peer& bob_at_reg = *w.reg.device.find_peer(w.bob.public_key());
  ASSERT_TRUE(bob_at_reg.endpoint_confirmed);
  ASSERT_FALSE(bob_at_reg.keypairs.current() &&
               bob_at_reg.keypairs.current()->usable_for_receiving(w.mono))
      << "Bob's session with the registry should have lapsed";
  const size_t since = w.history.size();
  (void)w.bob.device.send_packet(ipv4_packet("10.0.0.2", "10.0.0.1"), w.now());
  w.run();
  EXPECT_EQ(w.delivered(w.reg.addr, w.alice.addr, since), 0u)
      << "forwarded for a sender without a session with the registry";
}

// Item 3: Carol floods Bob with initiations (valid mac1, as anyone can make)
// through the relay; the registry forwards a few a second, so Bob never
// sees a flood from the registry's address, and Alice's relayed handshake
// with Bob and the registry's own with Bob go through.
TEST(RelayDevice, OnePeerCannotFloodAnotherThroughTheRelay) {
  RelayTestWorld w;
  w.reg.device.permit_relay(w.carol.public_key(), w.bob.public_key(), w.mono);
  w.reg.device.permit_relay(w.alice.public_key(), w.bob.public_key(), w.mono);
  const size_t since = w.history.size();
  const int sent = 3000;
  for (int i = 0; i < sent; ++i) {
    auto m = w.initiation(w.carol, w.bob.public_key(), 0x70000000u + uint32_t(i));
    (void)w.reg.device.receive_datagram(m, w.carol.addr, w.now());
    if (i % 100 == 99) w.advance(100ms);  // 3,000 in 3 s
  }
  w.wire.clear();
  size_t at_bob = w.delivered(w.reg.addr, w.bob.addr, since);
  EXPECT_LE(at_bob, 3u + 5u) << "forwarded to Bob: " << at_bob << " of " << sent;
  EXPECT_FALSE(w.bob.device.under_load(w.mono));
  EXPECT_GT(w.reg.device.drops()[size_t(DropReason::kRelayRateLimited)], 0u);
  // Alice's handshake with Bob through the relay still works.
  w.relay_pair(w.alice, kAliceTun, w.bob, kBobTun);
  Peer& bob_at_alice = *w.alice.device.find_peer(w.bob.public_key());
  EXPECT_TRUE(w.alice.device.has_live_session(bob_at_alice, w.mono));
}

}  // namespace
}  // namespace wgp::testing
