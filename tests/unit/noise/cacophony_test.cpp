// The Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s vector from the cacophony suite
// (PROTOCOL.md §6.2), driven through the same ikpsk2 code that builds
// WireGuard's messages, with its own prologue and payloads.
#include <gtest/gtest.h>

#include "crypto/aead.h"
#include "noise/handshake.h"
#include "unit/noise/noise_fixture.h"

namespace wgp::noise {
namespace {

using namespace testing;

TEST(Cacophony, IKpsk2FullExchange) {
  const auto prologue = hex("4a6f686e2047616c74");
  auto init_static =
      hex_secret<32>("e61ef9919cde45dd5f82166404bd08e38bceb5dfdfded0a34c8df7ed542214d1");
  auto init_ephemeral =
      hex_secret<32>("893e28b9dc6ca8d611ab664754b8ceb7bac5117349a4439a6b0569da977c464a");
  auto resp_static =
      hex_secret<32>("4a3acbfdb163dec651dfa3194dece676d437029c62a408b4c5ea9114246e4893");
  auto resp_ephemeral =
      hex_secret<32>("bbdb4cdbd309f1a1f2e1456967fe288cadd6f712d65dc7b7793d5e63da6b375b");
  auto psk = hex_secret<32>("54686973206973206d7920417573747269616e20706572737065637469766521");

  Pair p(init_static, resp_static);
  p.set_psk(psk, psk);
  ASSERT_EQ(hex_of(p.initiator.peer.public_key),
            "31e0303fd6418d2f8c0e78b91f22e8caed0fbe48656dcf4767e4834f701b8f62");

  // -> e, es, s, ss, {payload}
  const auto payload1 = hex("4c756477696720766f6e204d69736573");
  std::vector<uint8_t> msg1(payload1.size() + ikpsk2::kMessage1Overhead);
  ASSERT_EQ(ikpsk2::write_message1(p.initiator.hs, prologue, p.initiator.id, p.initiator.peer,
                                   init_ephemeral, payload1, msg1),
            HandshakeError::kNone);
  EXPECT_EQ(hex_of(msg1),
            "ca35def5ae56cec33dc2036731ab14896bc4c75dbb07a61f879f8e3afa4c7944001e21de9f98ddd8e2ad"
            "57527207feb56253c9c94a9e496782ecfcb2a75fbcaf1b52948cc48daefe660c62119ab5000980c84831"
            "215f2441eba616548e832985464cf17e51ee93109008399a21f7e13f");

  auto start = ikpsk2::read_message1_static(prologue, p.responder.id, msg1);
  ASSERT_TRUE(start);
  EXPECT_EQ(start->initiator_public, p.responder.peer.public_key);
  std::vector<uint8_t> got1(payload1.size());
  ASSERT_EQ(ikpsk2::read_message1_payload(*start, p.responder.peer, msg1, got1),
            HandshakeError::kNone);
  EXPECT_EQ(got1, payload1);
  EXPECT_TRUE(start->chain_key == p.initiator.hs.chain_key);
  EXPECT_TRUE(start->hash == p.initiator.hs.hash);

  // <- e, ee, se, psk, {payload}
  Handshake& rhs = p.responder.hs;
  rhs.chain_key = std::move(start->chain_key);
  rhs.hash = std::move(start->hash);
  std::copy_n(msg1.begin(), 32, rhs.remote_ephemeral.begin());
  const auto payload2 = hex("4d757272617920526f746862617264");
  std::vector<uint8_t> msg2(payload2.size() + ikpsk2::kMessage2Overhead);
  ASSERT_EQ(ikpsk2::write_message2(rhs, p.responder.peer, resp_ephemeral, payload2, msg2),
            HandshakeError::kNone);
  EXPECT_EQ(hex_of(msg2),
            "95ebc60d2b1fa672c1f46a8aa265ef51bfe38e7ccb39ec5be34069f144808843cb765f2caef0751b8f00"
            "7572dab0322217755c0632f365717edbf34d33e87a");
  const std::string final_h = "f5191b875290abcd41347ac3622d9679688a7e980229cb937ef748336cfde0e5";
  EXPECT_EQ(hex_of(rhs.hash.span()), final_h);

  std::vector<uint8_t> got2(payload2.size());
  Secret<32> ck, h;
  ASSERT_EQ(
      ikpsk2::read_message2(p.initiator.hs, p.initiator.id, p.initiator.peer, msg2, got2, ck, h),
      HandshakeError::kNone);
  EXPECT_EQ(got2, payload2);
  EXPECT_EQ(hex_of(h.span()), final_h);
  EXPECT_TRUE(ck == rhs.chain_key);

  // Split: the initiator sends with T1, the responder with T2.
  Secret<32> i1, i2, r1, r2;
  ikpsk2::split(ck, i1, i2);
  ikpsk2::split(rhs.chain_key, r1, r2);
  EXPECT_TRUE(i1 == r1);
  EXPECT_TRUE(i2 == r2);
  AeadKey initiator_send(i1), responder_send(r2);

  const auto t1 = hex("462e20412e20486179656b");
  std::vector<uint8_t> c1(t1.size() + 16);
  ASSERT_TRUE(initiator_send.seal(0, t1, {}, c1));
  EXPECT_EQ(hex_of(c1), "8153ca9833bc3c1b91a7e66e5f4d4f5b59bf9e64c2f20d15f0bba7");

  const auto t2 = hex("4361726c204d656e676572");
  std::vector<uint8_t> c2(t2.size() + 16);
  ASSERT_TRUE(responder_send.seal(0, t2, {}, c2));
  EXPECT_EQ(hex_of(c2), "07af0c9c86e1b4e80f36b04ff7688d51141af3debd0332f0a705ef");

  // And each side opens the other's.
  AeadKey responder_recv(r1), initiator_recv(i2);
  std::vector<uint8_t> back(t1.size());
  ASSERT_TRUE(responder_recv.open(0, c1, {}, back));
  EXPECT_EQ(back, t1);
  back.resize(t2.size());
  ASSERT_TRUE(initiator_recv.open(0, c2, {}, back));
  EXPECT_EQ(back, t2);
}

}  // namespace
}  // namespace wgp::noise
