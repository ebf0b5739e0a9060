#include "dnssd/notify.h"

#include <gtest/gtest.h>
#include <ldns/ldns.h>

#include <random>
#include <string>

#include "dnssd/demux.h"
#include "dnssd/discovery_query.h"
#include "dnssd/inner_udp.h"
#include "unit/dnssd/dns_test_message.h"

namespace wgp::dnssd {
namespace {

using namespace testing;  // the message writer

constexpr std::string_view kZone = "example.net.";

PublicKey key_of(uint8_t first) { return test_key(first); }

Bytes notify_bytes(uint16_t id, const PublicKey& asker) {
  Bytes out;
  EXPECT_TRUE(build_notify(id, asker, kZone, out));
  return out;
}

// What RFC 1996 and DESIGN.md §5 say the NOTIFY is, written byte by byte.
Message expected_notify(uint16_t id, const PublicKey& asker) {
  Message m;
  m.id = id;
  m.flags = opcode_bits(kOpcodeNotify) | kAa;
  m.questions = {question(name(instance_name(asker, kZone)), 33)};
  return m;
}

TEST(Notify, ExactBytes) {
  const Bytes out = notify_bytes(0x0042, key_of(1));
  EXPECT_EQ(to_hex(out), to_hex(expected_notify(0x0042, key_of(1)).wire()));
  EXPECT_EQ(to_hex(ByteView(out).first(12)), "004224000001000000000000");
}

TEST(Notify, LdnsReadsIt) {
  const Bytes out = notify_bytes(0xfeed, key_of(2));
  ldns_pkt* p = nullptr;
  ASSERT_EQ(ldns_wire2pkt(&p, out.data(), out.size()), LDNS_STATUS_OK);
  EXPECT_EQ(ldns_pkt_get_opcode(p), LDNS_PACKET_NOTIFY);
  EXPECT_EQ(ldns_pkt_id(p), 0xfeed);
  EXPECT_TRUE(ldns_pkt_aa(p));
  EXPECT_FALSE(ldns_pkt_qr(p));
  EXPECT_FALSE(ldns_pkt_rd(p));
  EXPECT_FALSE(ldns_pkt_edns(p));
  ASSERT_EQ(ldns_pkt_qdcount(p), 1);
  const ldns_rr* q = ldns_rr_list_rr(ldns_pkt_question(p), 0);
  char* owner = ldns_rdf2str(ldns_rr_owner(q));
  EXPECT_EQ(std::string(owner), instance_name(key_of(2), kZone));
  free(owner);
  EXPECT_EQ(ldns_rr_get_type(q), LDNS_RR_TYPE_SRV);
  ldns_pkt_free(p);
}

TEST(Notify, RoundTrip) {
  for (uint8_t i = 0; i < 20; ++i) {
    const uint16_t id = uint16_t(i * 3271);
    auto n = parse_notify(notify_bytes(id, key_of(i)), kZone);
    ASSERT_TRUE(n) << int(i);
    EXPECT_EQ(n->id, id);
    EXPECT_EQ(n->asker, key_of(i));
  }
  // The zone as the receiver's config spells it.
  auto n = parse_notify(notify_bytes(7, key_of(1)), "EXAMPLE.net");
  ASSERT_TRUE(n);
  EXPECT_EQ(n->asker, key_of(1));
}

TEST(Notify, AppendsAndRefusesBadZones) {
  Bytes out = {9};
  ASSERT_TRUE(build_notify(1, key_of(1), kZone, out));
  EXPECT_EQ(out[0], 9);
  EXPECT_EQ(Bytes(out.begin() + 1, out.end()), notify_bytes(1, key_of(1)));
  Bytes untouched = {9};
  EXPECT_FALSE(build_notify(1, key_of(1), std::string(64, 'z') + ".net.", untouched));
  EXPECT_FALSE(build_notify_ack(Notify{1, key_of(1)}, "a..b.", untouched));
  EXPECT_EQ(untouched, Bytes{9});
}

TEST(Notify, AcceptsLowerCaseAndExtraSections) {
  Message m = expected_notify(5, key_of(3));
  std::string lower = instance_name(key_of(3), kZone);
  for (char& c : lower) c = char(std::tolower(static_cast<unsigned char>(c)));
  m.questions = {question(name(lower), 33)};
  // RFC 1996 §3.7 lets a NOTIFY carry the new SOA in ANSWER.
  Bytes soa = cat(name("ns.example.net."), name("hostmaster.example.net."));
  for (int i = 0; i < 10; ++i) put16(soa, 0);
  m.answers = {record(name(kZone), 6, soa)};
  auto n = parse_notify(m.wire(), kZone);
  ASSERT_TRUE(n);
  EXPECT_EQ(n->asker, key_of(3));
}

TEST(Notify, RefusesEverythingElse) {
  auto variant = [](auto edit) {
    Message m = expected_notify(5, key_of(3));
    edit(m);
    return parse_notify(m.wire(), kZone).has_value();
  };
  EXPECT_TRUE(variant([](Message&) {}));
  EXPECT_FALSE(variant([](Message& m) { m.flags |= kQr; }));                  // an ack
  EXPECT_FALSE(variant([](Message& m) { m.flags = kAa; }));                   // a QUERY
  EXPECT_FALSE(variant([](Message& m) { m.flags = opcode_bits(5) | kAa; }));  // UPDATE
  EXPECT_FALSE(variant([](Message& m) { m.questions.clear(); }));
  EXPECT_FALSE(variant([](Message& m) { m.questions.push_back(m.questions[0]); }));
  EXPECT_FALSE(variant([](Message& m) {  // the classic zone NOTIFY: SOA at the apex
    m.questions = {question(name(kZone), 6)};
  }));
  EXPECT_FALSE(variant(
      [](Message& m) { m.questions = {question(name(instance_name(key_of(3), kZone)), 6)}; }));
  EXPECT_FALSE(variant(
      [](Message& m) { m.questions = {question(name(instance_name(key_of(3), kZone)), 33, 3)}; }));
  EXPECT_FALSE(variant([](Message& m) {
    m.questions = {question(name(instance_name(key_of(3), "example.org.")), 33)};
  }));
  EXPECT_FALSE(variant(
      [](Message& m) { m.questions = {question(name(target_name(key_of(3), kZone)), 33)}; }));
  EXPECT_FALSE(variant([](Message& m) {
    std::string bad = instance_name(key_of(3), kZone);
    bad[0] = '0';  // not base32
    m.questions = {question(name(bad), 33)};
  }));
  EXPECT_FALSE(variant([](Message& m) { m.answers = {Bytes{1, 2, 3}}; }));  // cut record
  const Bytes good = notify_bytes(5, key_of(3));
  for (size_t n = 0; n < good.size(); ++n) {
    EXPECT_FALSE(parse_notify(ByteView(good).first(n), kZone)) << n;
  }
  EXPECT_FALSE(parse_notify(good, "example.org."));
}

TEST(NotifyAck, ExactBytesAndRecognition) {
  const Notify n{0x0bad, key_of(4)};
  Bytes ack;
  ASSERT_TRUE(build_notify_ack(n, kZone, ack));
  Message expected = expected_notify(0x0bad, key_of(4));
  expected.flags |= kQr;
  EXPECT_EQ(to_hex(ack), to_hex(expected.wire()));
  EXPECT_TRUE(is_notify_ack(ack));
  EXPECT_FALSE(parse_notify(ack, kZone));
  EXPECT_EQ(response_id(ack), 0x0bad);
  // Not acks: the NOTIFY itself, an ordinary response, a query, short bytes.
  EXPECT_FALSE(is_notify_ack(notify_bytes(1, key_of(4))));
  Message response;
  response.questions = {question(name(instance_name(key_of(4), kZone)), 33)};
  EXPECT_FALSE(is_notify_ack(response.wire()));
  Bytes query;
  ASSERT_TRUE(build_query(1, instance_name(key_of(4), kZone), kQueryTypeSrv, query));
  EXPECT_FALSE(is_notify_ack(query));
  EXPECT_FALSE(is_notify_ack(ByteView(ack).first(11)));
  EXPECT_TRUE(is_notify_ack(ByteView(ack).first(12)));  // the header decides
  // An error reply (e.g. NOTIMP from a peer that does not understand us) is an ack too.
  expected.flags |= 4;
  EXPECT_TRUE(is_notify_ack(expected.wire()));
}

// The way the registry sends it: wrapped in IP/UDP, through the tunnel; and
// if it ever reached a WireGuard port in plain DNS, the demultiplexer sees DNS.
TEST(Notify, ThroughTheTunnelAndTheDemultiplexer) {
  const Bytes notify = notify_bytes(0x0400, key_of(5));  // an id that starts like type 4
  EXPECT_EQ(classify_datagram(notify), DatagramKind::kDns);
  for (const char* s : {"10.0.0.254", "fd00::fe"}) {
    const IpAddress registry = *IpAddress::parse(s);
    const IpAddress peer = *IpAddress::parse(registry.is_v4() ? "10.0.0.2" : "fd00::2");
    std::vector<uint8_t> packet(udp_packet_size(registry.family, notify.size()));
    ASSERT_EQ(build_udp_packet(registry, 53, peer, 51820, notify, packet), packet.size());
    auto udp = parse_udp_packet(packet);
    ASSERT_TRUE(udp);
    auto n = parse_notify(udp->payload, kZone);
    ASSERT_TRUE(n);
    EXPECT_EQ(n->id, 0x0400);
    EXPECT_EQ(n->asker, key_of(5));
  }
}

TEST(Notify, RandomMutationsNeverCrash) {
  std::mt19937 rng(99);
  Bytes ack;
  ASSERT_TRUE(build_notify_ack(Notify{3, key_of(6)}, kZone, ack));
  const Bytes seeds[] = {notify_bytes(3, key_of(6)), ack};
  int parsed = 0;
  for (int i = 0; i < 10000; ++i) {
    Bytes b = seeds[i % 2];
    for (int e = 1 + int(rng() % 3); e > 0; --e) {
      switch (rng() % 3) {
        case 0:
          b[rng() % b.size()] = uint8_t(rng());
          break;
        case 1:
          b.resize(rng() % (b.size() + 1));
          break;
        default:
          b.insert(b.begin() + long(rng() % (b.size() + 1)), uint8_t(rng()));
      }
      if (b.empty()) b.push_back(0);
    }
    Bytes exact(b);
    auto n = parse_notify(exact, kZone);
    if (n) {
      ++parsed;
      EXPECT_FALSE(is_notify_ack(exact));  // never both
    }
  }
  EXPECT_GT(parsed, 0);
}

}  // namespace
}  // namespace wgp::dnssd
