// The WireGuard handshake transcript of PROTOCOL.md §6.3, byte for byte:
// fixed static and ephemeral keys, timestamp and indices, through message 1
// (with mac1), the responder consuming it, message 2, the initiator consuming
// it, the transport keys, a keepalive, a data packet, a cookie reply and the
// mac2 made with its cookie. wireguard-go accepted and reproduced all of it.
#include <gtest/gtest.h>

#include "crypto/aead.h"
#include "noise/handshake.h"
#include "unit/noise/noise_fixture.h"

namespace wgp::noise {
namespace {

using namespace testing;
using namespace std::chrono_literals;

ByteView ascii(std::string_view s) {
  return ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

const std::string kMessage1 =
    "01000000"
    "44332211"
    "7b4e909bbe7ffe44c465a220037d608ee35897d31ef972f07f74892cb0f73f13"
    "ec3f8bbe944e0c99daaae8f27b8b12f1c67e00c86b77d0eeb515d0b423a739cda3c6afd3e0110c93bb54eb8484ada1"
    "23"
    "2962bac03df010b803013f7bcc2ea6fbe47e2f0de44f69d716bf91ea"
    "7e9eb0f0886f35f472cff21dfc79fdb1"
    "00000000000000000000000000000000";
const std::string kMessage2 =
    "02000000"
    "88776655"
    "44332211"
    "0faa684ed28867b97f4a6a2dee5df8ce974e76b7018e3f22a1c4cf2678570f20"
    "9e46a356c83312dc8767cee2d0bad22e"
    "11782cb95417e42dc25c2088fcd9d601"
    "00000000000000000000000000000000";
const std::string kSendI = "35592ddce740c40650069356f4a3d91e834bf0980df0aabc3052c9be8189b883";
const std::string kRecvI = "4fee8ac7c06a9542da3523251820536713c7e4b3b53c9216b9b9e1ebd7170b91";
const std::string kCk1 = "0afc6f008f6afbfe9f30a73f15184f9afebbeabd160b38e4fe0df9eb990f8e87";
const std::string kH1 = "656f1f5556891797e643f30194777c7baf20b23c2899986c770959872ce8a9f6";

class Transcript : public ::testing::Test {
 protected:
  Transcript()
      : p(transcript_initiator_static(), transcript_responder_static()),
        e_i(filled_key(0x11)),
        e_r(filled_key(0x22)),
        timestamp(tai64n(wall(1700000000))),
        now(boot(1000s)) {}

  // Message 1 exactly as the initiator sends it (mac1 added, no cookie).
  std::array<uint8_t, kInitiationSize> make_message1() {
    std::array<uint8_t, kInitiationSize> m;
    EXPECT_EQ(create_initiation(p.initiator.hs, p.initiator.id, p.initiator.peer,
                                kTranscriptInitiatorIndex, timestamp, e_i, m),
              HandshakeError::kNone);
    p.initiator.generator.add_macs(m, now);
    return m;
  }
  // The responder consumes message 1 and answers with message 2.
  std::array<uint8_t, kResponseSize> make_message2(const std::array<uint8_t, kInitiationSize>& m1,
                                                   SessionKeys& keys) {
    auto start = begin_consume_initiation(p.responder.id, m1);
    EXPECT_TRUE(start);
    EXPECT_EQ(
        finish_consume_initiation(p.responder.hs, p.responder.peer, std::move(*start), m1, now),
        HandshakeError::kNone);
    std::array<uint8_t, kResponseSize> m;
    EXPECT_EQ(
        create_response(p.responder.hs, p.responder.peer, kTranscriptResponderIndex, e_r, m, keys),
        HandshakeError::kNone);
    p.responder.generator.add_macs(m, now);
    return m;
  }

  Pair p;
  PrivateKey e_i, e_r;
  Tai64n timestamp;
  Instant now;
};

TEST_F(Transcript, ProtocolConstants) {
  Hash c0, h0;
  blake2s(c0, {ascii(kConstruction)});
  blake2s(h0, {c0, ascii(kIdentifier)});
  EXPECT_EQ(kConstruction.size(), 37u);
  EXPECT_EQ(kIdentifier.size(), 34u);
  EXPECT_EQ(hex_of(c0), "60e26daef327efc02ec335e2a025d2d016eb4206f87277f52d38d1988b78cd36");
  EXPECT_EQ(hex_of(h0), "2211b361081ac566691243db458ad5322d9c6c662293e8b70ee19c65ba079ef3");
}

TEST_F(Transcript, IdentitiesAndDerivedKeys) {
  EXPECT_EQ(hex_of(p.initiator.id.public_key),
            "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
  EXPECT_EQ(hex_of(p.responder.id.public_key),
            "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
  // The stored private key is the clamped form.
  EXPECT_EQ(hex_of(p.initiator.id.private_key.span()),
            "70076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c6a");
  EXPECT_EQ(hex_of(derive_public_key(e_i)),
            "7b4e909bbe7ffe44c465a220037d608ee35897d31ef972f07f74892cb0f73f13");
  EXPECT_EQ(hex_of(derive_public_key(e_r)),
            "0faa684ed28867b97f4a6a2dee5df8ce974e76b7018e3f22a1c4cf2678570f20");
  const std::string mac1_to_responder =
      "52c0a95717f46ba7941f80cec1ead35984c9f023a996170d9e47e314d260dc96";
  const std::string mac1_to_initiator =
      "0ec72453412f9befa2f799ea837d0b88429321711dd01f9025163123bd1905be";
  const std::string responder_cookie =
      "da2c25a7f8182d2a7a58b0978d9dcd7e5f76c3fcf138fd6e5754404304cacba0";
  EXPECT_EQ(hex_of(p.responder.id.mac1_key), mac1_to_responder);
  EXPECT_EQ(hex_of(p.initiator.peer.mac1_key), mac1_to_responder);
  EXPECT_EQ(hex_of(p.initiator.id.mac1_key), mac1_to_initiator);
  EXPECT_EQ(hex_of(p.responder.peer.mac1_key), mac1_to_initiator);
  EXPECT_EQ(hex_of(p.responder.id.cookie_key), responder_cookie);
  EXPECT_EQ(hex_of(p.initiator.peer.cookie_key), responder_cookie);
  // Static-static DH, precomputed on both sides (= RFC 7748 §6.1 shared secret).
  const std::string ss = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";
  ASSERT_TRUE(p.initiator.peer.static_static_valid);
  ASSERT_TRUE(p.responder.peer.static_static_valid);
  EXPECT_EQ(hex_of(p.initiator.peer.static_static.span()), ss);
  EXPECT_EQ(hex_of(p.responder.peer.static_static.span()), ss);
  EXPECT_EQ(hex_of(timestamp), "400000006553f10a00000000");
}

// Recomputes the §6.3 intermediate table from the primitives, one Noise token
// at a time; a mismatch here points at the first step that went wrong.
TEST_F(Transcript, IntermediateValuesStepByStep) {
  const PublicKey s_r = p.responder.id.public_key, s_i = p.initiator.id.public_key;
  const PublicKey e_i_pub = derive_public_key(e_i), e_r_pub = derive_public_key(e_r);
  Secret<32> c, h, k, tau, dh;
  ikpsk2::initialize(c, h, ascii(kIdentifier), s_r);
  EXPECT_EQ(hex_of(c.span()), "60e26daef327efc02ec335e2a025d2d016eb4206f87277f52d38d1988b78cd36");
  EXPECT_EQ(hex_of(h.span()), "08963986a41d7612e4d6f0868a37c8bb14e41536450acbb8b92dc45fd17ef8d5");
  // e
  kdf1(c, c.span(), e_i_pub);
  blake2s(h.span(), {h.span(), e_i_pub});
  EXPECT_EQ(hex_of(c.span()), "d3e33074ccc786876c1b33f1ee3f8380f71fa69cf1ee59c6a3ba9a0f3be6bb9c");
  EXPECT_EQ(hex_of(h.span()), "c0b6cdb724cff012553a8a95cbdb81525aef837ff8e72d5a0c1262e220ad02fc");
  // es
  ASSERT_TRUE(x25519(dh, e_i, s_r));
  EXPECT_EQ(hex_of(dh.span()), "5035c91b66814f8a39664a505e0a50b6375ee0ef9b3fe7220bde56dc2dc77746");
  kdf2(c, k, c.span(), dh.span());
  EXPECT_EQ(hex_of(c.span()), "0fabe0ff93f4bce7b5201682f6f21a63fbf2cf296c858a32826cba84b3835279");
  EXPECT_EQ(hex_of(k.span()), "f1f68cfa5de8787cc1f09fef09c906a060b91c36fdc2ae98ff8ae8aadded31a3");
  // s
  std::array<uint8_t, 48> enc_static;
  ASSERT_TRUE(aead_seal(k, 0, s_i, h.span(), enc_static));
  EXPECT_EQ(hex_of(enc_static), kMessage1.substr(80, 96));
  blake2s(h.span(), {h.span(), enc_static});
  EXPECT_EQ(hex_of(h.span()), "af023ee6d7f590d4f224089bdce870d60e53f18cfc3da360da28119613d09e56");
  // ss
  ASSERT_TRUE(x25519(dh, p.initiator.id.private_key, s_r));
  EXPECT_EQ(hex_of(dh.span()), "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
  kdf2(c, k, c.span(), dh.span());
  EXPECT_EQ(hex_of(c.span()), kCk1);
  EXPECT_EQ(hex_of(k.span()), "1a4c08f27dec07551cf23d213183751878a089188a18ad9ed1ec2c3dcbe93086");
  // {t}
  std::array<uint8_t, 28> enc_ts;
  ASSERT_TRUE(aead_seal(k, 0, timestamp, h.span(), enc_ts));
  EXPECT_EQ(hex_of(enc_ts), kMessage1.substr(176, 56));
  blake2s(h.span(), {h.span(), enc_ts});
  EXPECT_EQ(hex_of(h.span()), kH1);
  // e (responder)
  kdf1(c, c.span(), e_r_pub);
  blake2s(h.span(), {h.span(), e_r_pub});
  EXPECT_EQ(hex_of(c.span()), "6bd4c046eaf557b90793dd645be6993a98a3d61e5b3688b2156112d5c8b40c7e");
  EXPECT_EQ(hex_of(h.span()), "d76fd8e08873d4842ae5983a90fa7fbd6697b6d9a3e6cdcccea912f7dd9e8d29");
  // ee
  ASSERT_TRUE(x25519(dh, e_r, e_i_pub));
  EXPECT_EQ(hex_of(dh.span()), "9e004098efc091d4ec2663b4e9f5cfd4d7064571690b4bea97ab146ab9f35056");
  kdf1(c, c.span(), dh.span());
  EXPECT_EQ(hex_of(c.span()), "817ff343206dffd70b3fcd29586d9f0029221eef270c8e682cfc83a0a4ec31c2");
  // se
  ASSERT_TRUE(x25519(dh, e_r, s_i));
  EXPECT_EQ(hex_of(dh.span()), "d8fbd109c632909addb6bf64f433792d1382ef2824934460b5fdc4f847f82a2b");
  kdf1(c, c.span(), dh.span());
  EXPECT_EQ(hex_of(c.span()), "442c45334911545e58ebf67f3b1145ac567a64f214b9d10907e600d772520351");
  // psk
  Secret<32> psk;
  kdf3(c, tau, k, c.span(), psk.span());
  EXPECT_EQ(hex_of(c.span()), "855ba00b49d15d3d939b21e6d9dcbc2bc435862d3966a6c5c58904ab3f28e9c9");
  EXPECT_EQ(hex_of(tau.span()), "0a928120fba69df26db2ca9f198ec5e79519dd24ead7c42991b49e316c1bdfe0");
  EXPECT_EQ(hex_of(k.span()), "618b906f1e5eecbd48994a9419d1ff8ce5e67adafbaa0238a02b8d947cd5db43");
  blake2s(h.span(), {h.span(), tau.span()});
  EXPECT_EQ(hex_of(h.span()), "2408eb4b035e7d1e85fd4a1ed6733569834764fba3d23a6530adefe2047a53cb");
  // {}
  std::array<uint8_t, 16> empty;
  ASSERT_TRUE(aead_seal(k, 0, {}, h.span(), empty));
  EXPECT_EQ(hex_of(empty), "9e46a356c83312dc8767cee2d0bad22e");
  blake2s(h.span(), {h.span(), empty});
  EXPECT_EQ(hex_of(h.span()), "886164310afcf7c17e862e1cdb5d13fad45fe024c6d47d2acb3c6c098bd57616");
  // Split
  Secret<32> t1, t2;
  kdf2(t1, t2, c.span(), {});
  EXPECT_EQ(hex_of(t1.span()), kSendI);
  EXPECT_EQ(hex_of(t2.span()), kRecvI);
}

TEST_F(Transcript, Message1) {
  auto m1 = make_message1();
  EXPECT_EQ(hex_of(m1), kMessage1);
  // The initiator's stored state is ck1 / h1, waiting for the response.
  EXPECT_EQ(p.initiator.hs.state, HandshakeState::kInitiationCreated);
  EXPECT_EQ(p.initiator.hs.local_index, kTranscriptInitiatorIndex);
  EXPECT_EQ(hex_of(p.initiator.hs.chain_key.span()), kCk1);
  EXPECT_EQ(hex_of(p.initiator.hs.hash.span()), kH1);
  EXPECT_TRUE(p.initiator.hs.ephemeral_private == e_i);
}

TEST_F(Transcript, ResponderConsumesMessage1) {
  const auto m1 = hex_array<kInitiationSize>(kMessage1);
  EXPECT_TRUE(p.responder.checker.check_mac1(m1));
  auto start = begin_consume_initiation(p.responder.id, m1);
  ASSERT_TRUE(start);
  EXPECT_EQ(start->initiator_public, p.initiator.id.public_key);
  // After e, es, s: C after es and H after the static key.
  EXPECT_EQ(hex_of(start->chain_key.span()),
            "0fabe0ff93f4bce7b5201682f6f21a63fbf2cf296c858a32826cba84b3835279");
  EXPECT_EQ(hex_of(start->hash.span()),
            "af023ee6d7f590d4f224089bdce870d60e53f18cfc3da360da28119613d09e56");
  ASSERT_EQ(finish_consume_initiation(p.responder.hs, p.responder.peer, std::move(*start), m1, now),
            HandshakeError::kNone);
  const Handshake& hs = p.responder.hs;
  EXPECT_EQ(hs.state, HandshakeState::kInitiationConsumed);
  EXPECT_EQ(hex_of(hs.chain_key.span()), kCk1);
  EXPECT_EQ(hex_of(hs.hash.span()), kH1);
  EXPECT_EQ(hs.remote_index, kTranscriptInitiatorIndex);
  EXPECT_EQ(hex_of(hs.remote_ephemeral), kMessage1.substr(16, 64));
  EXPECT_EQ(hs.latest_timestamp, timestamp);
  EXPECT_EQ(hs.last_initiation_consumed, now);
}

TEST_F(Transcript, Message2AndResponderKeys) {
  auto m1 = make_message1();
  SessionKeys rkeys;
  auto m2 = make_message2(m1, rkeys);
  EXPECT_EQ(hex_of(m2), kMessage2);
  EXPECT_EQ(hex_of(rkeys.receive.span()), kSendI);
  EXPECT_EQ(hex_of(rkeys.send.span()), kRecvI);
  EXPECT_EQ(rkeys.local_index, kTranscriptResponderIndex);
  EXPECT_EQ(rkeys.remote_index, kTranscriptInitiatorIndex);
  EXPECT_FALSE(rkeys.we_initiated);
  EXPECT_EQ(p.responder.hs.state, HandshakeState::kResponseCreated);
  EXPECT_EQ(p.responder.hs.local_index, kTranscriptResponderIndex);
  EXPECT_TRUE(p.responder.hs.chain_key.is_zero());
  EXPECT_TRUE(p.responder.hs.hash.is_zero());
  EXPECT_TRUE(p.responder.hs.ephemeral_private.is_zero());
}

TEST_F(Transcript, ResponderChainKeyAndHashAfterMessage2) {
  // ck2 / h2 are wiped by create_response; observe them through the ikpsk2
  // step it is built on, from the consumed state.
  auto m1 = make_message1();
  auto start = begin_consume_initiation(p.responder.id, m1);
  ASSERT_TRUE(start);
  ASSERT_EQ(finish_consume_initiation(p.responder.hs, p.responder.peer, std::move(*start), m1, now),
            HandshakeError::kNone);
  std::array<uint8_t, ikpsk2::kMessage2Overhead> body;
  ASSERT_EQ(ikpsk2::write_message2(p.responder.hs, p.responder.peer, e_r, {}, body),
            HandshakeError::kNone);
  EXPECT_EQ(hex_of(body), kMessage2.substr(24, 96));
  EXPECT_EQ(hex_of(p.responder.hs.chain_key.span()),
            "855ba00b49d15d3d939b21e6d9dcbc2bc435862d3966a6c5c58904ab3f28e9c9");
  EXPECT_EQ(hex_of(p.responder.hs.hash.span()),
            "886164310afcf7c17e862e1cdb5d13fad45fe024c6d47d2acb3c6c098bd57616");
}

TEST_F(Transcript, InitiatorConsumesMessage2) {
  make_message1();
  const auto m2 = hex_array<kResponseSize>(kMessage2);
  EXPECT_TRUE(p.initiator.checker.check_mac1(m2));
  // The ikpsk2 step shows ck2 / h2 without touching the handshake.
  Secret<32> ck2, h2;
  ASSERT_EQ(ikpsk2::read_message2(p.initiator.hs, p.initiator.id, p.initiator.peer,
                                  ByteView(m2).subspan(12, 48), {}, ck2, h2),
            HandshakeError::kNone);
  EXPECT_EQ(hex_of(ck2.span()), "855ba00b49d15d3d939b21e6d9dcbc2bc435862d3966a6c5c58904ab3f28e9c9");
  EXPECT_EQ(hex_of(h2.span()), "886164310afcf7c17e862e1cdb5d13fad45fe024c6d47d2acb3c6c098bd57616");

  SessionKeys ikeys;
  ASSERT_EQ(consume_response(p.initiator.hs, p.initiator.id, p.initiator.peer, m2, ikeys),
            HandshakeError::kNone);
  EXPECT_EQ(hex_of(ikeys.send.span()), kSendI);
  EXPECT_EQ(hex_of(ikeys.receive.span()), kRecvI);
  EXPECT_EQ(ikeys.local_index, kTranscriptInitiatorIndex);
  EXPECT_EQ(ikeys.remote_index, kTranscriptResponderIndex);
  EXPECT_TRUE(ikeys.we_initiated);
  EXPECT_EQ(p.initiator.hs.state, HandshakeState::kZeroed);
  EXPECT_TRUE(p.initiator.hs.chain_key.is_zero());
  EXPECT_TRUE(p.initiator.hs.ephemeral_private.is_zero());
}

TEST_F(Transcript, KeepaliveAndDataPacket) {
  auto m1 = make_message1();
  SessionKeys rkeys, ikeys;
  auto m2 = make_message2(m1, rkeys);
  ASSERT_EQ(consume_response(p.initiator.hs, p.initiator.id, p.initiator.peer, m2, ikeys),
            HandshakeError::kNone);
  AeadKey send(ikeys.send), recv(rkeys.receive);

  // Keepalive, counter 0: header ‖ tag of the empty plaintext.
  std::array<uint8_t, kTransportMinSize> keepalive{};
  store_le32(keepalive.data(), uint32_t(MessageType::kTransport));
  store_le32(keepalive.data() + kTransportReceiverOffset, ikeys.remote_index);
  store_le64(keepalive.data() + kTransportCounterOffset, 0);
  ASSERT_TRUE(send.seal(0, {}, {}, MutableByteView(keepalive).subspan(kTransportHeaderSize)));
  EXPECT_EQ(hex_of(keepalive), "04000000887766550000000000000000f0e79bbad4994a4cc7b71fc2216b7104");
  EXPECT_TRUE(recv.open(0, ByteView(keepalive).subspan(kTransportHeaderSize), {}, {}));

  // Data, counter 1: a 28-byte ICMP echo padded with zeros to 32.
  const auto icmp = hex("4500001c00000000400166df0a0000010a0000020800f7fd00010001");
  std::array<uint8_t, 64> data{};
  store_le32(data.data(), uint32_t(MessageType::kTransport));
  store_le32(data.data() + kTransportReceiverOffset, ikeys.remote_index);
  store_le64(data.data() + kTransportCounterOffset, 1);
  std::array<uint8_t, 32> padded{};
  std::copy(icmp.begin(), icmp.end(), padded.begin());
  ASSERT_TRUE(send.seal(1, padded, {}, MutableByteView(data).subspan(kTransportHeaderSize)));
  EXPECT_EQ(hex_of(data),
            "04000000887766550100000000000000"
            "29114e530be647ab0ee89c74424c1297def0e91b7fd7d2586c002baf28eb0a3c"
            "23d872ab4d8b8e6390522275ca17ef17");
  std::array<uint8_t, 32> opened;
  ASSERT_TRUE(recv.open(1, ByteView(data).subspan(kTransportHeaderSize), {}, opened));
  EXPECT_EQ(opened, padded);
}

TEST_F(Transcript, CookieReplyAndMac2) {
  auto m1 = make_message1();
  const auto source = hex("c0000201ca6c");  // 192.0.2.1:51820, kernel layout
  // τ = MAC(Rm, source) with Rm = 32 × 44.
  Secret<32> rm;
  std::fill(rm.span().begin(), rm.span().end(), 0x44);
  EXPECT_EQ(hex_of(mac16(rm.span(), {source})), "00b0b0b39588be1a179e520a7822bb07");

  TranscriptRandom rng;
  std::array<uint8_t, kCookieReplySize> reply;
  p.responder.checker.make_reply(m1, kTranscriptInitiatorIndex, source, now, rng, reply);
  EXPECT_EQ(hex_of(reply),
            "03000000"
            "44332211"
            "000102030405060708090a0b0c0d0e0f1011121314151617"
            "e08dbb71ee2da25230be478070fe3ef38803a872eb7ad9fa45cb37a50f92f7f1");

  ASSERT_TRUE(p.initiator.generator.consume_reply(reply, now));
  // The next transmission of the same message carries mac2; mac1 is unchanged.
  auto again = m1;
  p.initiator.generator.add_macs(again, now + 1s);
  EXPECT_EQ(hex_of(ByteView(again).first(kInitiationMac2Offset)),
            kMessage1.substr(0, 2 * kInitiationMac2Offset));
  EXPECT_EQ(hex_of(ByteView(again).subspan(kInitiationMac2Offset)),
            "9aa380278e266f3205491993fb1c0bfe");
  EXPECT_TRUE(p.responder.checker.check_mac1(again));
  EXPECT_TRUE(p.responder.checker.check_mac2(again, source, now + 2s, rng));
  EXPECT_FALSE(p.responder.checker.check_mac2(m1, source, now + 2s, rng)) << "mac2 zero";
}

}  // namespace
}  // namespace wgp::noise
