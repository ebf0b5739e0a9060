// mac1/mac2 and cookie replies (PROTOCOL.md §3.4–3.5) beyond the transcript:
// what makes mac1 fail, when mac2 is zero, the 120 s / 115 s lifetimes, and
// every cookie reply the sender must refuse.
#include "noise/cookie.h"

#include <gtest/gtest.h>

#include "unit/noise/noise_fixture.h"

namespace wgp::noise {
namespace {

using namespace testing;
using namespace std::chrono_literals;

using Initiation = std::array<uint8_t, kInitiationSize>;

class Cookies : public ::testing::Test {
 protected:
  Cookies() : p(generate_private_key(rng), generate_private_key(rng)) {}

  // A type-1 message (its handshake content does not matter to the macs).
  Initiation message(uint8_t fill, Instant now) {
    Initiation m{};
    m[0] = 1;
    std::fill(m.begin() + 4, m.begin() + kInitiationMac1Offset, fill);
    p.initiator.generator.add_macs(m, now);
    return m;
  }
  std::array<uint8_t, kCookieReplySize> reply_to(const Initiation& m, ByteView source,
                                                 Instant now) {
    std::array<uint8_t, kCookieReplySize> r;
    p.responder.checker.make_reply(m, 7, source, now, rng, r);
    return r;
  }
  static bool mac2_is_zero(const Initiation& m) {
    return std::all_of(m.begin() + kInitiationMac2Offset, m.end(), [](uint8_t b) { return !b; });
  }

  SystemRandom rng;
  Pair p;
  std::vector<uint8_t> source = hex("c0000201ca6c");
  Instant t0 = boot(1000s);
};

TEST_F(Cookies, Mac1CoversEveryByteBeforeIt) {
  Initiation m = message(0x5a, t0);
  EXPECT_TRUE(p.responder.checker.check_mac1(m));
  for (size_t i = 0; i < kInitiationMac2Offset; ++i) {
    Initiation bad = m;
    bad[i] ^= 1;
    EXPECT_FALSE(p.responder.checker.check_mac1(bad)) << "byte " << i;
  }
  // mac2 is not covered by mac1.
  Initiation other_mac2 = m;
  other_mac2[kInitiationSize - 1] ^= 1;
  EXPECT_TRUE(p.responder.checker.check_mac1(other_mac2));
}

TEST_F(Cookies, Mac1IsKeyedToTheRecipient) {
  Initiation m = message(1, t0);
  // The initiator's own checker uses its own public key, not the responder's.
  EXPECT_FALSE(p.initiator.checker.check_mac1(m));
}

TEST_F(Cookies, Mac1RejectsOtherSizes) {
  Initiation m = message(1, t0);
  EXPECT_FALSE(p.responder.checker.check_mac1(ByteView(m).first(147)));
  EXPECT_FALSE(p.responder.checker.check_mac1(ByteView()));
  std::vector<uint8_t> longer(m.begin(), m.end());
  longer.push_back(0);
  EXPECT_FALSE(p.responder.checker.check_mac1(longer));
}

TEST_F(Cookies, ResponseMessagesUseTheirOwnOffsets) {
  std::array<uint8_t, kResponseSize> r{};
  r[0] = 2;
  std::fill(r.begin() + 4, r.begin() + kResponseMac1Offset, 0x33);
  p.responder.generator.add_macs(r, t0);
  EXPECT_TRUE(p.initiator.checker.check_mac1(r));
  EXPECT_FALSE(p.responder.checker.check_mac1(r));
  r[59] ^= 1;
  EXPECT_FALSE(p.initiator.checker.check_mac1(r));
}

TEST_F(Cookies, Mac2IsZeroWithoutACookie) {
  Initiation m = message(2, t0);
  EXPECT_TRUE(mac2_is_zero(m));
  EXPECT_FALSE(p.responder.checker.check_mac2(m, source, t0, rng));
}

TEST_F(Cookies, CookieEnablesMac2FromTheSameSourceOnly) {
  Initiation m = message(3, t0);
  auto reply = reply_to(m, source, t0);
  ASSERT_TRUE(p.initiator.generator.consume_reply(reply, t0));
  Initiation next = message(4, t0 + 1s);
  EXPECT_FALSE(mac2_is_zero(next));
  EXPECT_TRUE(p.responder.checker.check_mac1(next));
  EXPECT_TRUE(p.responder.checker.check_mac2(next, source, t0 + 1s, rng));
  auto elsewhere = hex("c0000201ca6d");  // another port
  EXPECT_FALSE(p.responder.checker.check_mac2(next, elsewhere, t0 + 1s, rng));
  Initiation tampered = next;
  tampered[kInitiationMac2Offset] ^= 1;
  EXPECT_FALSE(p.responder.checker.check_mac2(tampered, source, t0 + 1s, rng));
}

TEST_F(Cookies, SenderTrustsItsCookieFor115Seconds) {
  Initiation m = message(5, t0);
  ASSERT_TRUE(p.initiator.generator.consume_reply(reply_to(m, source, t0), t0));
  EXPECT_FALSE(mac2_is_zero(message(6, t0 + 114s)));
  EXPECT_FALSE(mac2_is_zero(message(6, t0 + 115s - 1ns)));
  EXPECT_TRUE(mac2_is_zero(message(6, t0 + 115s)));
  EXPECT_TRUE(mac2_is_zero(message(6, t0 + 200s)));
}

TEST_F(Cookies, ResponderSecretRotatesAfter120Seconds) {
  Initiation m = message(7, t0);
  ASSERT_TRUE(p.initiator.generator.consume_reply(reply_to(m, source, t0), t0));
  // mac2 made while the sender still trusts the cookie...
  Initiation a = message(8, t0 + 100s);
  Initiation b = message(9, t0 + 110s);
  ASSERT_FALSE(mac2_is_zero(a));
  ASSERT_FALSE(mac2_is_zero(b));
  // ...verifies while the secret is younger than 120 s, and not after.
  EXPECT_TRUE(p.responder.checker.check_mac2(a, source, t0 + 120s - 1ns, rng));
  EXPECT_FALSE(p.responder.checker.check_mac2(b, source, t0 + 120s, rng));
  // Once rotated, the old cookie stays useless.
  EXPECT_FALSE(p.responder.checker.check_mac2(a, source, t0 + 121s, rng));
}

TEST_F(Cookies, SecretIsDrawnOnceAndReused) {
  TranscriptRandom counting;
  Initiation m = message(10, t0);
  std::array<uint8_t, kCookieReplySize> r1, r2;
  p.responder.checker.make_reply(m, 1, source, t0, counting, r1);
  EXPECT_EQ(counting.calls, 2);  // nonce + secret
  p.responder.checker.make_reply(m, 1, source, t0 + 119s, counting, r2);
  EXPECT_EQ(counting.calls, 3);  // nonce only
  p.responder.checker.make_reply(m, 1, source, t0 + 120s, counting, r2);
  EXPECT_EQ(counting.calls, 5);  // nonce + new secret
}

TEST_F(Cookies, ReplyWithWrongAadIsRejected) {
  Initiation sent = message(11, t0);
  // The responder answers a different message (different mac1 = AAD).
  Initiation other = sent;
  other[20] ^= 1;
  p.initiator.generator.add_macs(other, t0);  // now `other` has a valid, different mac1
  auto reply_for_other = reply_to(other, source, t0);
  message(11, t0);  // the last mac1 we sent is `sent`'s again
  EXPECT_FALSE(p.initiator.generator.consume_reply(reply_for_other, t0));
  EXPECT_TRUE(mac2_is_zero(message(11, t0)));
}

TEST_F(Cookies, TamperedOrMistypedRepliesAreRejected) {
  Initiation m = message(12, t0);
  auto reply = reply_to(m, source, t0);
  for (size_t i : {size_t(8), size_t(31), size_t(32), size_t(47), size_t(48), size_t(63)}) {
    auto bad = reply;
    bad[i] ^= 0x40;
    EXPECT_FALSE(p.initiator.generator.consume_reply(bad, t0)) << "byte " << i;
  }
  auto bad_type = reply;
  bad_type[0] = 4;
  EXPECT_FALSE(p.initiator.generator.consume_reply(bad_type, t0));
  // A reply sealed with another responder's cookie key.
  CookieChecker stranger;
  Hash other_key{};
  other_key[0] = 1;
  stranger.set_keys(p.responder.id.mac1_key, other_key);
  std::array<uint8_t, kCookieReplySize> foreign;
  stranger.make_reply(m, 7, source, t0, rng, foreign);
  EXPECT_FALSE(p.initiator.generator.consume_reply(foreign, t0));
  // The genuine reply still works afterwards.
  EXPECT_TRUE(p.initiator.generator.consume_reply(reply, t0));
}

TEST_F(Cookies, ReplyNeedsAnOutstandingMac1AndIsConsumedOnce) {
  CookieGenerator fresh;
  fresh.set_keys(p.initiator.peer.mac1_key, p.initiator.peer.cookie_key);
  Initiation m = message(13, t0);
  auto reply = reply_to(m, source, t0);
  EXPECT_FALSE(fresh.consume_reply(reply, t0)) << "never sent a mac1";
  ASSERT_TRUE(p.initiator.generator.consume_reply(reply, t0));
  // Kernel behaviour: consuming clears "mac1 outstanding", so a duplicate is ignored.
  EXPECT_FALSE(p.initiator.generator.consume_reply(reply, t0 + 1s));
}

}  // namespace
}  // namespace wgp::noise
