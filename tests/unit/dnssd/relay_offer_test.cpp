// The relay offer (dnssd/relay_offer.h): a node asks a registry in its tunnel
// whether it relays, and believes only the answer to exactly that question.
#include "dnssd/relay_offer.h"

#include <gtest/gtest.h>

#include "dnssd/discovery_query.h"
#include "dnssd/peer_txt.h"

namespace wgp::dnssd {
namespace {

PublicKey key(uint8_t b) {
  PublicKey k{};
  k.fill(b);
  return k;
}

std::vector<uint8_t> question(uint16_t id, const PublicKey& registry, uint16_t type = kQueryTypeTxt,
                              std::string_view zone = "example.net.") {
  std::vector<uint8_t> q;
  EXPECT_TRUE(build_query(id, instance_name(registry, zone), type, q));
  return q;
}

TEST(RelayOffer, QuestionAnswerRoundTrip) {
  auto q = question(0x1234, key(7));
  auto id = relay_offer_question(q, key(7), "example.net.");
  ASSERT_TRUE(id);
  EXPECT_EQ(*id, 0x1234);
  for (bool relays : {true, false}) {
    std::vector<uint8_t> answer;
    ASSERT_TRUE(build_relay_offer(*id, key(7), "example.net.", relays, {}, answer));
    EXPECT_EQ(parse_relay_offer(answer, 0x1234, key(7), "example.net."), relays);
    EXPECT_EQ(parse_relay_offer(answer, 0x1234, key(7), "EXAMPLE.NET"), relays);  // any case
    EXPECT_FALSE(parse_relay_offer(answer, 0x1235, key(7), "example.net."));      // other id
    EXPECT_FALSE(parse_relay_offer(answer, 0x1234, key(8), "example.net."));      // other registry
    EXPECT_FALSE(relay_offer_question(answer, key(7), "example.net."));           // a response
  }
}

TEST(RelayOffer, OnlyItsOwnQuestion) {
  EXPECT_FALSE(relay_offer_question(question(1, key(8)), key(7), "example.net."));
  EXPECT_FALSE(relay_offer_question(question(1, key(7), kQueryTypeSrv), key(7), "example.net."));
  EXPECT_FALSE(relay_offer_question(question(1, key(7), kQueryTypeTxt, "other.net."), key(7),
                                    "example.net."));
  std::vector<uint8_t> garbage(40, 0xff);
  EXPECT_FALSE(relay_offer_question(garbage, key(7), "example.net."));
  EXPECT_FALSE(parse_relay_offer(garbage, 0xffff, key(7), "example.net."));
}

// A registry that publishes itself answers with wgsd's record for itself and
// the key after its strings: both readers find theirs in the one record.
TEST(RelayOffer, SelfPublishingRegistryKeepsWgsdStrings) {
  auto q = question(0x0101, key(7));
  auto id = relay_offer_question(q, key(7), "example.net.");
  ASSERT_TRUE(id);
  auto address = IpAddress::parse("10.0.0.254");
  ASSERT_TRUE(address);
  std::vector<uint8_t> published = build_peer_txt({key(7), {{*address, 32}}, ""});
  std::vector<uint8_t> answer;
  ASSERT_TRUE(build_relay_offer(*id, key(7), "example.net.", true, published, answer));
  EXPECT_EQ(parse_relay_offer(answer, 0x0101, key(7), "example.net."), true);
  // The answer's RDATA is the published one with "relay=yes" after it.
  std::vector<uint8_t> tail = published;
  const std::string relay = "relay=yes";
  tail.push_back(uint8_t(relay.size()));
  tail.insert(tail.end(), relay.begin(), relay.end());
  ASSERT_GE(answer.size(), tail.size() + 2);
  EXPECT_TRUE(std::equal(tail.begin(), tail.end(), answer.end() - long(tail.size())));
  EXPECT_EQ(load_be16(&answer[answer.size() - tail.size() - 2]), tail.size());  // RDLENGTH
  // A published record cut short is refused, not sent.
  published.pop_back();
  std::vector<uint8_t> refused;
  EXPECT_FALSE(build_relay_offer(*id, key(7), "example.net.", true, published, refused));
}

// A registry that says nothing of a relay (an older one answers NXDOMAIN for
// its own instance) offers none.
TEST(RelayOffer, SilenceIsNo) {
  auto q = question(0x4242, key(7));
  q[2] |= 0x80;              // QR
  q[3] = (q[3] & 0xf0) | 3;  // NXDOMAIN
  EXPECT_EQ(parse_relay_offer(q, 0x4242, key(7), "example.net."), false);
  q[3] = (q[3] & 0xf0) | 2;  // SERVFAIL: no answer at all
  EXPECT_FALSE(parse_relay_offer(q, 0x4242, key(7), "example.net."));
}

}  // namespace
}  // namespace wgp::dnssd
