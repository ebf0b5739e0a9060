// Handshake behaviour beyond the known answers: random keys with and without a
// PSK, replay and flood rules, wrong PSK, corrupted and misdirected messages
// (which must leave the handshake untouched), state-machine misuse, and peers
// or identities that can never handshake.
#include "noise/handshake.h"

#include <gtest/gtest.h>

#include "crypto/aead.h"
#include "unit/noise/noise_fixture.h"

namespace wgp::noise {
namespace {

using namespace testing;
using namespace std::chrono_literals;

using Initiation = std::array<uint8_t, kInitiationSize>;
using Response = std::array<uint8_t, kResponseSize>;

// Everything observable in a Handshake, to prove a failed call changed nothing.
struct Snapshot {
  HandshakeState state;
  std::string chain_key, hash, ephemeral, remote_ephemeral;
  uint32_t local_index, remote_index;
  Tai64n latest_timestamp;
  std::optional<Instant> last_initiation_consumed;
  bool operator==(const Snapshot&) const = default;
};
Snapshot snapshot(const Handshake& hs) {
  return {hs.state,
          hex_of(hs.chain_key.span()),
          hex_of(hs.hash.span()),
          hex_of(hs.ephemeral_private.span()),
          hex_of(hs.remote_ephemeral),
          hs.local_index,
          hs.remote_index,
          hs.latest_timestamp,
          hs.last_initiation_consumed};
}

// Two peers with random keys and the calls every test makes.
struct Harness {
  Harness() : p(generate_private_key(rng), generate_private_key(rng)) {}

  Initiation initiate(WallTime when, uint32_t index = 0x01020304) {
    Initiation m;
    EXPECT_EQ(create_initiation(p.initiator.hs, p.initiator.id, p.initiator.peer, index,
                                tai64n(when), generate_private_key(rng), m),
              HandshakeError::kNone);
    return m;
  }
  // The responder's whole §2.2 path; kDecryptFailed when the static key does not open.
  HandshakeError consume(const Initiation& m, Instant at) {
    auto start = begin_consume_initiation(p.responder.id, m);
    if (!start) return HandshakeError::kDecryptFailed;
    return finish_consume_initiation(p.responder.hs, p.responder.peer, std::move(*start), m, at);
  }
  Response respond(SessionKeys& keys, uint32_t index = 0x0a0b0c0d) {
    Response m;
    EXPECT_EQ(create_response(p.responder.hs, p.responder.peer, index, generate_private_key(rng), m,
                              keys),
              HandshakeError::kNone);
    return m;
  }

  SystemRandom rng;
  Pair p;
  Instant t0 = boot(5000s);
  WallTime w0 = wall(1700000000);
};

class Handshakes : public ::testing::Test, public Harness {};

// Keys agree in both directions and actually carry data.
void expect_matching_sessions(const SessionKeys& i, const SessionKeys& r) {
  EXPECT_TRUE(i.send == r.receive);
  EXPECT_TRUE(i.receive == r.send);
  EXPECT_FALSE(i.send == i.receive);
  EXPECT_EQ(i.local_index, r.remote_index);
  EXPECT_EQ(i.remote_index, r.local_index);
  EXPECT_TRUE(i.we_initiated);
  EXPECT_FALSE(r.we_initiated);
  AeadKey send(i.send), recv(r.receive);
  std::array<uint8_t, 4> msg{1, 2, 3, 4}, back{};
  std::array<uint8_t, 20> sealed;
  ASSERT_TRUE(send.seal(9, msg, {}, sealed));
  ASSERT_TRUE(recv.open(9, sealed, {}, back));
  EXPECT_EQ(back, msg);
}

class RandomHandshake : public Handshakes, public ::testing::WithParamInterface<bool> {};

TEST_P(RandomHandshake, BothSidesDeriveTheSameTransportKeys) {
  if (GetParam()) {
    PresharedKey psk;
    rng.fill(psk.span());
    p.set_psk(psk, psk);
  }
  for (int round = 0; round < 3; ++round) {  // rekeying reuses the records
    auto m1 = initiate(w0 + round * 1s, 100 + round);
    ASSERT_EQ(consume(m1, t0 + round * 1s), HandshakeError::kNone);
    SessionKeys rkeys, ikeys;
    auto m2 = respond(rkeys, 200 + round);
    ASSERT_EQ(consume_response(p.initiator.hs, p.initiator.id, p.initiator.peer, m2, ikeys),
              HandshakeError::kNone);
    expect_matching_sessions(ikeys, rkeys);
    EXPECT_EQ(ikeys.local_index, uint32_t(100 + round));
    EXPECT_EQ(rkeys.local_index, uint32_t(200 + round));
  }
}

INSTANTIATE_TEST_SUITE_P(Psk, RandomHandshake, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "WithPsk" : "WithoutPsk"; });

TEST_F(Handshakes, ReplayedInitiationIsRejected) {
  auto m1 = initiate(w0);
  ASSERT_EQ(consume(m1, t0), HandshakeError::kNone);
  Snapshot before = snapshot(p.responder.hs);
  // Same bytes, long after the flood window: the timestamp is not newer.
  EXPECT_EQ(consume(m1, t0 + 10s), HandshakeError::kReplay);
  EXPECT_EQ(snapshot(p.responder.hs), before);
  // A new initiation within the same 2^24 ns timestamp step is a replay too.
  auto same_step = initiate(w0 + 1ms);
  EXPECT_EQ(consume(same_step, t0 + 10s), HandshakeError::kReplay);
  // An older timestamp as well.
  auto older = initiate(w0 - 1s);
  EXPECT_EQ(consume(older, t0 + 10s), HandshakeError::kReplay);
  EXPECT_EQ(snapshot(p.responder.hs), before);
}

TEST_F(Handshakes, InitiationFloodWithin20msIsRejected) {
  ASSERT_EQ(consume(initiate(w0), t0), HandshakeError::kNone);
  Snapshot before = snapshot(p.responder.hs);
  auto second = initiate(w0 + 50ms);  // fresh timestamp
  EXPECT_EQ(consume(second, t0 + 19ms), HandshakeError::kFlood);
  EXPECT_EQ(snapshot(p.responder.hs), before);
  EXPECT_EQ(consume(second, t0 + 20ms), HandshakeError::kNone);
  EXPECT_EQ(p.responder.hs.last_initiation_consumed, t0 + 20ms);
}

TEST_F(Handshakes, ReplayMemorySurvivesClear) {
  auto m1 = initiate(w0);
  ASSERT_EQ(consume(m1, t0), HandshakeError::kNone);
  p.responder.hs.clear();
  EXPECT_EQ(p.responder.hs.state, HandshakeState::kZeroed);
  EXPECT_EQ(consume(m1, t0 + 1s), HandshakeError::kReplay);
}

TEST_F(Handshakes, WrongPskMakesTheResponseFail) {
  PresharedKey a, b;
  rng.fill(a.span());
  rng.fill(b.span());
  p.set_psk(a, b);
  ASSERT_EQ(consume(initiate(w0), t0), HandshakeError::kNone);  // msg 1 does not use the PSK
  SessionKeys rkeys, ikeys;
  auto m2 = respond(rkeys);
  Snapshot before = snapshot(p.initiator.hs);
  EXPECT_EQ(consume_response(p.initiator.hs, p.initiator.id, p.initiator.peer, m2, ikeys),
            HandshakeError::kDecryptFailed);
  EXPECT_EQ(snapshot(p.initiator.hs), before);

  // PSK on one side only (the other has none) fails the same way.
  Harness fresh;
  PresharedKey none;
  fresh.p.set_psk(a, none);
  ASSERT_EQ(fresh.consume(fresh.initiate(fresh.w0), fresh.t0), HandshakeError::kNone);
  auto r2 = fresh.respond(rkeys);
  EXPECT_EQ(consume_response(fresh.p.initiator.hs, fresh.p.initiator.id, fresh.p.initiator.peer, r2,
                             ikeys),
            HandshakeError::kDecryptFailed);
}

TEST_F(Handshakes, CorruptedInitiationChangesNothing) {
  auto good = initiate(w0);
  Snapshot before = snapshot(p.responder.hs);
  // Flip one bit in every byte of ephemeral, static and timestamp.
  for (size_t i = kInitiationEphemeralOffset; i < kInitiationMac1Offset; ++i) {
    Initiation bad = good;
    bad[i] ^= 0x04;
    EXPECT_NE(consume(bad, t0), HandshakeError::kNone) << "byte " << i;
    EXPECT_EQ(snapshot(p.responder.hs), before) << "byte " << i;
  }
  // Reserved type bytes must be zero.
  Initiation bad_type = good;
  bad_type[1] = 1;
  EXPECT_FALSE(begin_consume_initiation(p.responder.id, bad_type));
  // The untouched message still works.
  EXPECT_EQ(consume(good, t0), HandshakeError::kNone);
}

TEST_F(Handshakes, CorruptedResponseChangesNothing) {
  ASSERT_EQ(consume(initiate(w0), t0), HandshakeError::kNone);
  SessionKeys rkeys, ikeys;
  auto good = respond(rkeys);
  Snapshot before = snapshot(p.initiator.hs);
  for (size_t i = 0; i < kResponseMac1Offset; ++i) {
    if (i >= kResponseSenderOffset && i < kResponseReceiverOffset) continue;  // not authenticated
    Response bad = good;
    bad[i] ^= 0x10;
    EXPECT_NE(consume_response(p.initiator.hs, p.initiator.id, p.initiator.peer, bad, ikeys),
              HandshakeError::kNone)
        << "byte " << i;
    EXPECT_EQ(snapshot(p.initiator.hs), before) << "byte " << i;
  }
  ASSERT_EQ(consume_response(p.initiator.hs, p.initiator.id, p.initiator.peer, good, ikeys),
            HandshakeError::kNone);
  expect_matching_sessions(ikeys, rkeys);
  // A second copy of the response finds no initiation any more.
  EXPECT_EQ(consume_response(p.initiator.hs, p.initiator.id, p.initiator.peer, good, ikeys),
            HandshakeError::kWrongState);
}

TEST_F(Handshakes, LowOrderEphemeralsAreRejected) {
  auto m1 = initiate(w0);
  Initiation zero_e = m1;
  std::fill_n(zero_e.begin() + kInitiationEphemeralOffset, 32, 0);
  EXPECT_FALSE(begin_consume_initiation(p.responder.id, zero_e));

  ASSERT_EQ(consume(m1, t0), HandshakeError::kNone);
  SessionKeys rkeys, ikeys;
  Response m2 = respond(rkeys);
  std::fill_n(m2.begin() + kResponseEphemeralOffset, 32, 0);
  m2[kResponseEphemeralOffset] = 1;  // u = 1
  Snapshot before = snapshot(p.initiator.hs);
  EXPECT_EQ(consume_response(p.initiator.hs, p.initiator.id, p.initiator.peer, m2, ikeys),
            HandshakeError::kBadDh);
  EXPECT_EQ(snapshot(p.initiator.hs), before);
}

TEST_F(Handshakes, StateMachineMisuse) {
  SessionKeys keys;
  Response r;
  // No initiation consumed: no response can be made.
  EXPECT_EQ(
      create_response(p.responder.hs, p.responder.peer, 1, generate_private_key(rng), r, keys),
      HandshakeError::kWrongState);
  // A response when we never initiated.
  auto m1 = initiate(w0, 77);
  ASSERT_EQ(consume(m1, t0), HandshakeError::kNone);
  Response m2 = respond(keys);
  Harness other;
  EXPECT_EQ(consume_response(other.p.initiator.hs, other.p.initiator.id, other.p.initiator.peer, m2,
                             keys),
            HandshakeError::kWrongState);
  // A response addressed to another index.
  Response misdirected = m2;
  store_le32(misdirected.data() + kResponseReceiverOffset, 78);
  EXPECT_EQ(consume_response(p.initiator.hs, p.initiator.id, p.initiator.peer, misdirected, keys),
            HandshakeError::kWrongState);
  EXPECT_EQ(p.initiator.hs.state, HandshakeState::kInitiationCreated);
}

TEST_F(Handshakes, ConsumingAnInitiationAbandonsOurOwn) {
  // Both sides initiate at once; the responder role wins on the side that
  // consumes first, so the reply to its own initiation no longer matches.
  Initiation ours;
  ASSERT_EQ(create_initiation(p.responder.hs, p.responder.id, p.responder.peer, 55, tai64n(w0),
                              generate_private_key(rng), ours),
            HandshakeError::kNone);
  ASSERT_EQ(consume(initiate(w0), t0), HandshakeError::kNone);
  EXPECT_EQ(p.responder.hs.state, HandshakeState::kInitiationConsumed);
  EXPECT_TRUE(p.responder.hs.ephemeral_private.is_zero());

  // The other side answers our crossed initiation; that answer is now refused.
  auto start = begin_consume_initiation(p.initiator.id, ours);
  ASSERT_TRUE(start);
  ASSERT_EQ(
      finish_consume_initiation(p.initiator.hs, p.initiator.peer, std::move(*start), ours, t0),
      HandshakeError::kNone);
  SessionKeys keys;
  Response answer;
  ASSERT_EQ(create_response(p.initiator.hs, p.initiator.peer, 66, generate_private_key(rng), answer,
                            keys),
            HandshakeError::kNone);
  Snapshot before = snapshot(p.responder.hs);
  EXPECT_EQ(consume_response(p.responder.hs, p.responder.id, p.responder.peer, answer, keys),
            HandshakeError::kWrongState);
  EXPECT_EQ(snapshot(p.responder.hs), before);
}

TEST_F(Handshakes, InitiationFromAnotherPeerIsRefused) {
  // The static key decrypts, but the caller passed the wrong peer's keys.
  auto m1 = initiate(w0);
  auto start = begin_consume_initiation(p.responder.id, m1);
  ASSERT_TRUE(start);
  PublicKey stranger = derive_public_key(generate_private_key(rng));
  PeerKeys wrong(stranger, p.responder.id);
  Snapshot before = snapshot(p.responder.hs);
  EXPECT_EQ(finish_consume_initiation(p.responder.hs, wrong, std::move(*start), m1, t0),
            HandshakeError::kWrongState);
  EXPECT_EQ(snapshot(p.responder.hs), before);
  // Sent to someone else entirely: the static key does not decrypt.
  Harness other;
  EXPECT_FALSE(begin_consume_initiation(other.p.responder.id, m1));
}

TEST_F(Handshakes, NoIdentityOrLowOrderPeerCannotHandshake) {
  LocalIdentity none = LocalIdentity::from_private_key(PrivateKey());
  EXPECT_FALSE(none.has_private_key);
  EXPECT_EQ(hex_of(none.public_key), std::string(64, '0'));
  PeerKeys peer_of_none(p.responder.id.public_key, none);
  EXPECT_FALSE(peer_of_none.static_static_valid);
  Initiation m;
  EXPECT_EQ(create_initiation(p.initiator.hs, none, peer_of_none, 1, tai64n(w0),
                              generate_private_key(rng), m),
            HandshakeError::kNoIdentity);
  EXPECT_FALSE(begin_consume_initiation(none, initiate(w0)));

  PublicKey low_order{};  // u = 0
  PeerKeys bad_peer(low_order, p.initiator.id);
  EXPECT_FALSE(bad_peer.static_static_valid);
  EXPECT_TRUE(bad_peer.static_static.is_zero());
  EXPECT_EQ(create_initiation(p.initiator.hs, p.initiator.id, bad_peer, 1, tai64n(w0),
                              generate_private_key(rng), m),
            HandshakeError::kNoIdentity);
}

TEST_F(Handshakes, RebindFollowsAPrivateKeyChange) {
  PrivateKey new_key = generate_private_key(rng);
  p.initiator.id = LocalIdentity::from_private_key(new_key);
  p.initiator.peer.rebind(p.initiator.id);
  p.responder.peer = PeerKeys(p.initiator.id.public_key, p.responder.id);
  EXPECT_TRUE(p.initiator.peer.static_static == p.responder.peer.static_static);
  ASSERT_EQ(consume(initiate(w0), t0), HandshakeError::kNone);
}

}  // namespace
}  // namespace wgp::noise
