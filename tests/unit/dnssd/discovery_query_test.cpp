#include "dnssd/discovery_query.h"

#include <gtest/gtest.h>
#include <ldns/ldns.h>

#include <algorithm>
#include <memory>
#include <random>
#include <string>

#include "dnssd/base32.h"
#include "dnssd/responder.h"
#include "unit/dnssd/dns_test_message.h"

namespace wgp::dnssd {
namespace {

using namespace testing;  // the message writer
using ::testing::Test;

constexpr std::string_view kZone = "example.net.";
// Key bytes 00 01 … 1f; `printf … | base32` prints this label, `| base64`
// prints AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=.
constexpr std::string_view kLabel = "AAAQEAYEAUDAOCAJBIFQYDIOB4IBCEQTCQKRMFYYDENBWHA5DYPQ====";
constexpr uint16_t kId = 0x1234;

PublicKey key_of(uint8_t first) {
  PublicKey k;
  for (size_t i = 0; i < k.size(); ++i) k[i] = uint8_t(first + i);
  return k;
}
const PublicKey kKey = key_of(0);

std::string lower(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

Bytes a_rdata(uint8_t a, uint8_t b, uint8_t c, uint8_t d) { return {a, b, c, d}; }
Bytes aaaa_rdata(std::string_view text) {
  auto ip = IpAddress::parse(text);
  EXPECT_TRUE(ip && !ip->is_v4());
  return Bytes(ip->bytes.begin(), ip->bytes.end());
}

// The registry's answer as DESIGN.md §4 has it: SRV to <B32>.<zone>, the
// target's address first in ADDITIONAL.
Message srv_answer(const Bytes& address_rdata, uint16_t address_type = 1) {
  Message m;
  m.questions = {question(name(instance_name(kKey, kZone)), 33)};
  m.answers = {record(name(instance_name(kKey, kZone)), 33,
                      srv_rdata(40000, name(target_name(kKey, kZone))))};
  m.additional = {record(name(target_name(kKey, kZone)), address_type, address_rdata)};
  return m;
}

SrvAnswer parse(const Bytes& wire, uint16_t id = kId, const PublicKey& key = kKey,
                std::string_view zone = kZone) {
  return parse_srv_response(wire, id, key, zone);
}

struct PacketFree {
  void operator()(ldns_pkt* p) const { ldns_pkt_free(p); }
};
using PacketPtr = std::unique_ptr<ldns_pkt, PacketFree>;

PacketPtr ldns_parse(const Bytes& wire) {
  ldns_pkt* p = nullptr;
  EXPECT_EQ(ldns_wire2pkt(&p, wire.data(), wire.size()), LDNS_STATUS_OK);
  return PacketPtr(p);
}

std::string rdf_text(const ldns_rdf* rdf) {
  char* s = ldns_rdf2str(rdf);
  std::string out = s ? s : "";
  free(s);
  return out;
}

// --- names ----------------------------------------------------------------

TEST(DiscoveryNames, MatchDesign) {
  EXPECT_EQ(peer_label(kKey), kLabel);
  EXPECT_EQ(service_name("example.net."), "_wireguard._udp.example.net.");
  EXPECT_EQ(service_name("example.net"), "_wireguard._udp.example.net.");
  EXPECT_EQ(service_name(""), "_wireguard._udp.");
  EXPECT_EQ(service_name("."), "_wireguard._udp.");
  EXPECT_EQ(instance_name(kKey, kZone), std::string(kLabel) + "._wireguard._udp.example.net.");
  EXPECT_EQ(instance_name(kKey, "example.net"), instance_name(kKey, kZone));
  EXPECT_EQ(target_name(kKey, kZone), std::string(kLabel) + ".example.net.");
  EXPECT_EQ(target_name(kKey, "."), std::string(kLabel) + ".");
}

TEST(DiscoveryNames, KeyFromInstanceName) {
  auto key = key_from_instance_name(name(instance_name(kKey, kZone)), kZone);
  ASSERT_TRUE(key);
  EXPECT_EQ(*key, kKey);
  EXPECT_EQ(key_from_instance_name(name(lower(instance_name(kKey, kZone))), "EXAMPLE.NET"), kKey);
  EXPECT_EQ(key_from_instance_name(name(instance_name(key_of(7), "")), "."), key_of(7));
  // Everything that is not exactly <B32>._wireguard._udp.<zone>:
  EXPECT_FALSE(key_from_instance_name(name(instance_name(kKey, "example.org.")), kZone));
  EXPECT_FALSE(key_from_instance_name(name(instance_name(kKey, "sub.example.net.")), kZone));
  EXPECT_FALSE(key_from_instance_name(name(target_name(kKey, kZone)), kZone));
  EXPECT_FALSE(key_from_instance_name(name("x." + instance_name(kKey, kZone)), kZone));
  EXPECT_FALSE(key_from_instance_name(name(service_name(kZone)), kZone));
  std::string bad(kLabel);
  bad[0] = '1';  // not in the base32 alphabet
  EXPECT_FALSE(key_from_instance_name(name(bad + "._wireguard._udp.example.net."), kZone));
  bad = std::string(kLabel);
  bad[51] = 'R';  // non-zero trailing bits: not canonical
  EXPECT_FALSE(key_from_instance_name(name(bad + "._wireguard._udp.example.net."), kZone));
  EXPECT_FALSE(key_from_instance_name({}, kZone));
  Bytes cut = name(instance_name(kKey, kZone));
  cut.pop_back();  // no root label
  EXPECT_FALSE(key_from_instance_name(cut, kZone));
  EXPECT_FALSE(key_from_instance_name(Bytes(cut.begin(), cut.begin() + 20), kZone));
}

// --- queries --------------------------------------------------------------

// dig's own query (captured from the kernel, see inner_udp_test.cpp) for
// a.example. A with +edns=0 +nocookie, id 0x5820, flags RD AD. Ours differs
// only in id and flags: same question, same OPT of 1232 bytes.
TEST(DiscoveryQuery, ExactBytesMatchDigApartFromFlags) {
  Bytes out;
  ASSERT_TRUE(build_query(0xbeef, "a.example.", kQueryTypeA, out));
  EXPECT_EQ(to_hex(out),
            "beef0000000100000000000101610765"
            "78616d706c65000001000100002904d0000000000000");
  const std::string dig =
      "5820012000010000000000010161076578616d706c65000001000100002904d0000000000000";
  EXPECT_EQ(to_hex(out).substr(8), dig.substr(8));
}

TEST(DiscoveryQuery, ParsesBackWithLdns) {
  for (uint16_t type : {kQueryTypeSrv, kQueryTypeA, kQueryTypeAaaa, kQueryTypePtr}) {
    Bytes out = {0xaa, 0xbb};  // appended after what is there
    const std::string qname =
        type == kQueryTypePtr ? service_name(kZone) : instance_name(kKey, kZone);
    ASSERT_TRUE(build_query(0x4321, qname, type, out));
    EXPECT_EQ(out[0], 0xaa);
    EXPECT_EQ(out[1], 0xbb);
    Bytes wire(out.begin() + 2, out.end());
    PacketPtr p = ldns_parse(wire);
    ASSERT_TRUE(p);
    EXPECT_EQ(ldns_pkt_id(p.get()), 0x4321);
    EXPECT_FALSE(ldns_pkt_qr(p.get()));
    EXPECT_FALSE(ldns_pkt_rd(p.get()));
    EXPECT_FALSE(ldns_pkt_aa(p.get()));
    EXPECT_EQ(ldns_pkt_get_opcode(p.get()), LDNS_PACKET_QUERY);
    EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NOERROR);
    ASSERT_EQ(ldns_pkt_qdcount(p.get()), 1);
    EXPECT_EQ(ldns_pkt_ancount(p.get()), 0);
    EXPECT_EQ(ldns_pkt_nscount(p.get()), 0);
    const ldns_rr* q = ldns_rr_list_rr(ldns_pkt_question(p.get()), 0);
    EXPECT_EQ(rdf_text(ldns_rr_owner(q)), qname);
    EXPECT_EQ(ldns_rr_get_type(q), type);
    EXPECT_EQ(ldns_rr_get_class(q), LDNS_RR_CLASS_IN);
    EXPECT_TRUE(ldns_pkt_edns(p.get()));
    EXPECT_EQ(ldns_pkt_edns_udp_size(p.get()), 1232);
    EXPECT_EQ(ldns_pkt_edns_version(p.get()), 0);
    EXPECT_FALSE(ldns_pkt_edns_do(p.get()));
    // Header + question + 11-byte OPT, nothing else; the name spelled out.
    EXPECT_EQ(wire.size(), 12 + qname.size() + 1 + 4 + 11);
  }
}

TEST(DiscoveryQuery, RelativeNameIsMadeAbsolute) {
  Bytes a, b;
  ASSERT_TRUE(build_query(1, "a.example", kQueryTypeA, a));
  ASSERT_TRUE(build_query(1, "a.example.", kQueryTypeA, b));
  EXPECT_EQ(a, b);
}

TEST(DiscoveryQuery, InvalidNamesAreRefused) {
  Bytes out = {1, 2, 3};
  EXPECT_FALSE(build_query(1, std::string(64, 'a') + ".example.", kQueryTypeA, out));
  std::string long_name;
  for (int i = 0; i < 5; ++i) long_name += std::string(60, 'b') + ".";
  EXPECT_FALSE(build_query(1, long_name, kQueryTypeA, out));  // 305 bytes
  EXPECT_FALSE(build_query(1, "a..example.", kQueryTypeA, out));
  EXPECT_EQ(out, (Bytes{1, 2, 3}));
  EXPECT_TRUE(build_query(1, std::string(63, 'a') + ".example.", kQueryTypeA, out));
}

TEST(DiscoveryQuery, ResponseId) {
  Message m;
  m.id = 0xa1b2;
  EXPECT_EQ(response_id(m.wire()), 0xa1b2);
  Bytes query;
  ASSERT_TRUE(build_query(0xa1b2, "a.example.", kQueryTypeA, query));
  EXPECT_FALSE(response_id(query));
  const Bytes wire = m.wire();
  EXPECT_FALSE(response_id(Bytes(wire.begin(), wire.begin() + 11)));
  EXPECT_FALSE(response_id({}));
}

// --- SRV answers: success -------------------------------------------------

TEST(SrvAnswer, WithA) {
  SrvAnswer a = parse(srv_answer(a_rdata(198, 51, 100, 7)).wire());
  ASSERT_EQ(a.status, AnswerStatus::kOk);
  ASSERT_TRUE(a.peer);
  EXPECT_EQ(a.peer->key, kKey);
  EXPECT_EQ(a.peer->endpoint.to_string(), "198.51.100.7:40000");
}

TEST(SrvAnswer, WithAaaa) {
  SrvAnswer a = parse(srv_answer(aaaa_rdata("2001:db8::7"), 28).wire());
  ASSERT_EQ(a.status, AnswerStatus::kOk);
  EXPECT_EQ(a.peer->endpoint.to_string(), "[2001:db8::7]:40000");
}

TEST(SrvAnswer, TargetAtTheInstanceName) {
  // The later wgsd: SRV target and address at <B32>._wireguard._udp.<zone>.
  Message m;
  const Bytes instance = name(instance_name(kKey, kZone));
  m.questions = {question(instance, 33)};
  m.answers = {record(instance, 33, srv_rdata(51820, instance))};
  m.additional = {record(instance, 1, a_rdata(203, 0, 113, 9))};
  SrvAnswer a = parse(m.wire());
  ASSERT_EQ(a.status, AnswerStatus::kOk);
  EXPECT_EQ(a.peer->endpoint.to_string(), "203.0.113.9:51820");
}

TEST(SrvAnswer, CompressedNames) {
  // Question at offset 12; "example.net." begins after the B32 label (57
  // bytes) and "_wireguard" (11) and "_udp" (5): offset 85.
  Message m;
  m.questions = {question(name(instance_name(kKey, kZone)), 33)};
  Bytes label = name(kLabel);
  label.pop_back();  // the label alone, no root
  m.answers = {record(pointer(12), 33, srv_rdata(40000, cat(label, pointer(85))))};
  // The address's owner: a pointer to the SRV target inside the SRV rdata.
  const uint16_t target_offset =
      uint16_t(12 + name(instance_name(kKey, kZone)).size() + 4 + 2 + 8 + 2 + 6);
  m.additional = {record(pointer(target_offset), 1, a_rdata(198, 51, 100, 8))};
  SrvAnswer a = parse(m.wire());
  ASSERT_EQ(a.status, AnswerStatus::kOk);
  EXPECT_EQ(a.peer->endpoint.to_string(), "198.51.100.8:40000");
}

TEST(SrvAnswer, NamesMatchInAnyCase) {
  Message m;
  m.questions = {question(name(lower(instance_name(kKey, kZone))), 33)};
  m.answers = {record(name(lower(instance_name(kKey, kZone))), 33,
                      srv_rdata(40000, name(lower(target_name(kKey, "EXAMPLE.net.")))))};
  m.additional = {record(name(target_name(kKey, "Example.Net.")), 1, a_rdata(192, 0, 2, 1))};
  SrvAnswer a = parse(m.wire(), kId, kKey, "EXAMPLE.NET");
  ASSERT_EQ(a.status, AnswerStatus::kOk);
  EXPECT_EQ(a.peer->endpoint.to_string(), "192.0.2.1:40000");
}

TEST(SrvAnswer, FirstAddressWins) {
  Message m = srv_answer(aaaa_rdata("2001:db8::1"), 28);
  m.additional.push_back(record(name(target_name(kKey, kZone)), 1, a_rdata(192, 0, 2, 2)));
  m.additional.push_back(record(name(target_name(kKey, kZone)), 28, aaaa_rdata("2001:db8::3")));
  EXPECT_EQ(parse(m.wire()).peer->endpoint.to_string(), "[2001:db8::1]:40000");
  std::swap(m.additional[0], m.additional[1]);
  EXPECT_EQ(parse(m.wire()).peer->endpoint.to_string(), "192.0.2.2:40000");
}

TEST(SrvAnswer, OptAndOtherRecordsAreSkipped) {
  Message m = srv_answer(a_rdata(192, 0, 2, 4));
  m.additional.insert(m.additional.begin(), opt());
  m.additional.insert(m.additional.begin(),
                      record(name("other.example.net."), 1, a_rdata(192, 0, 2, 99)));
  m.additional.insert(m.additional.begin(),
                      record(name(target_name(kKey, kZone)), 1, a_rdata(0, 0, 0, 0)));
  m.additional.insert(m.additional.begin(),
                      record(name(target_name(kKey, kZone)), 1, a_rdata(192, 0, 2, 98), 3));  // CH
  m.answers.insert(m.answers.begin(),
                   record(name(instance_name(kKey, kZone)), 16, {3, 'a', 'b', 'c'}));
  SrvAnswer a = parse(m.wire());
  ASSERT_EQ(a.status, AnswerStatus::kOk);
  EXPECT_EQ(a.peer->endpoint.to_string(), "192.0.2.4:40000");
}

TEST(SrvAnswer, AddressInAnswerSection) {
  Message m = srv_answer(a_rdata(192, 0, 2, 5));
  m.answers.push_back(m.additional[0]);
  m.additional.clear();
  EXPECT_EQ(parse(m.wire()).peer->endpoint.to_string(), "192.0.2.5:40000");
}

TEST(SrvAnswer, BuiltByLdnsWithCompression) {
  PacketPtr p(ldns_pkt_new());
  ldns_pkt_set_id(p.get(), kId);
  ldns_pkt_set_qr(p.get(), true);
  ldns_pkt_set_aa(p.get(), true);
  const std::string instance = instance_name(kKey, kZone);
  auto rr = [](const std::string& text) {
    ldns_rr* r = nullptr;
    EXPECT_EQ(ldns_rr_new_frm_str(&r, text.c_str(), 0, nullptr, nullptr), LDNS_STATUS_OK) << text;
    return r;
  };
  ldns_rr* q = nullptr;
  ASSERT_EQ(ldns_rr_new_question_frm_str(&q, (instance + " IN SRV").c_str(), nullptr, nullptr),
            LDNS_STATUS_OK);
  ldns_pkt_push_rr(p.get(), LDNS_SECTION_QUESTION, q);
  ldns_pkt_push_rr(p.get(), LDNS_SECTION_ANSWER,
                   rr(instance + " 0 IN SRV 0 0 4242 " + target_name(kKey, kZone)));
  ldns_pkt_push_rr(p.get(), LDNS_SECTION_ADDITIONAL,
                   rr(target_name(kKey, kZone) + " 0 IN AAAA 2001:db8::42"));
  ldns_pkt_set_edns_udp_size(p.get(), 1232);
  uint8_t* wire = nullptr;
  size_t size = 0;
  ASSERT_EQ(ldns_pkt2wire(&wire, p.get(), &size), LDNS_STATUS_OK);
  Bytes bytes(wire, wire + size);
  free(wire);
  // ldns compresses: the message is shorter than the names spelled out.
  EXPECT_LT(bytes.size(),
            12 + 2 * (instance.size() + 1) + 2 * (target_name(kKey, kZone).size() + 1));
  SrvAnswer a = parse(bytes);
  ASSERT_EQ(a.status, AnswerStatus::kOk);
  EXPECT_EQ(a.peer->endpoint.to_string(), "[2001:db8::42]:4242");
}

// --- SRV answers: every other status --------------------------------------

TEST(SrvAnswer, RcodesMapToStatuses) {
  const std::pair<uint16_t, AnswerStatus> cases[] = {
      {1, AnswerStatus::kServerError},                                   // FORMERR
      {2, AnswerStatus::kServerError},                                   // SERVFAIL
      {3, AnswerStatus::kNxDomain},    {4, AnswerStatus::kServerError},  // NOTIMP
      {5, AnswerStatus::kRefused},     {9, AnswerStatus::kServerError},  // NOTAUTH
  };
  for (auto [rcode, status] : cases) {
    Message m;
    m.flags = kQr | kAa | rcode;
    m.questions = {question(name(instance_name(kKey, kZone)), 33)};
    if (rcode == 3) {  // NXDOMAIN with the zone's SOA, as the registry sends it
      Bytes soa = cat(name("ns.example.net."), name("hostmaster.example.net."));
      for (int i = 0; i < 5; ++i) put16(soa, 0), put16(soa, 1);
      m.authority = {record(name(kZone), 6, soa)};
    }
    SrvAnswer a = parse(m.wire());
    EXPECT_EQ(a.status, status) << rcode;
    EXPECT_FALSE(a.peer);
  }
}

TEST(SrvAnswer, NoData) {
  Message m = srv_answer(a_rdata(192, 0, 2, 1));
  m.answers.clear();
  m.additional.clear();
  EXPECT_EQ(parse(m.wire()).status, AnswerStatus::kNoData);

  // SRV without an address for its target.
  m = srv_answer(a_rdata(192, 0, 2, 1));
  m.additional.clear();
  EXPECT_EQ(parse(m.wire()).status, AnswerStatus::kNoData);
  // Address for a different name only.
  m = srv_answer(a_rdata(192, 0, 2, 1));
  m.additional = {record(name(target_name(key_of(1), kZone)), 1, a_rdata(192, 0, 2, 1))};
  EXPECT_EQ(parse(m.wire()).status, AnswerStatus::kNoData);
  // SRV pointing somewhere else, even with that name's address present.
  m = srv_answer(a_rdata(192, 0, 2, 1));
  m.answers = {
      record(name(instance_name(kKey, kZone)), 33, srv_rdata(40000, name("evil.example.")))};
  m.additional = {record(name("evil.example."), 1, a_rdata(192, 0, 2, 1))};
  EXPECT_EQ(parse(m.wire()).status, AnswerStatus::kNoData);
  // Port 0 is no endpoint.
  m = srv_answer(a_rdata(192, 0, 2, 1));
  m.answers = {
      record(name(instance_name(kKey, kZone)), 33, srv_rdata(0, name(target_name(kKey, kZone))))};
  EXPECT_EQ(parse(m.wire()).status, AnswerStatus::kNoData);
  // Only an unspecified address.
  EXPECT_EQ(parse(srv_answer(aaaa_rdata("::"), 28).wire()).status, AnswerStatus::kNoData);
  // SRV at another peer's instance name (not what we asked for).
  m = srv_answer(a_rdata(192, 0, 2, 1));
  m.answers = {record(name(instance_name(key_of(1), kZone)), 33,
                      srv_rdata(40000, name(target_name(key_of(1), kZone))))};
  m.additional = {record(name(target_name(key_of(1), kZone)), 1, a_rdata(192, 0, 2, 1))};
  EXPECT_EQ(parse(m.wire()).status, AnswerStatus::kNoData);
}

TEST(SrvAnswer, Truncated) {
  Message m = srv_answer(a_rdata(192, 0, 2, 1));
  m.flags |= kTc;
  EXPECT_EQ(parse(m.wire()).status, AnswerStatus::kTruncated);
  m.answers.clear();
  m.additional.clear();
  EXPECT_EQ(parse(m.wire()).status, AnswerStatus::kTruncated);
}

TEST(SrvAnswer, WrongId) {
  SrvAnswer a = parse(srv_answer(a_rdata(192, 0, 2, 1)).wire(), kId + 1);
  EXPECT_EQ(a.status, AnswerStatus::kWrongId);
  EXPECT_FALSE(a.peer);
}

TEST(SrvAnswer, WrongQuestion) {
  auto with_questions = [](std::vector<Bytes> questions) {
    Message m = srv_answer(a_rdata(192, 0, 2, 1));
    m.questions = std::move(questions);
    return parse(m.wire()).status;
  };
  const Bytes ours = name(instance_name(kKey, kZone));
  EXPECT_EQ(with_questions({question(name(instance_name(key_of(1), kZone)), 33)}),
            AnswerStatus::kWrongQuestion);
  EXPECT_EQ(with_questions({question(name(instance_name(kKey, "example.org.")), 33)}),
            AnswerStatus::kWrongQuestion);
  EXPECT_EQ(with_questions({question(ours, 1)}), AnswerStatus::kWrongQuestion);
  EXPECT_EQ(with_questions({question(ours, 33, 3)}), AnswerStatus::kWrongQuestion);
  EXPECT_EQ(with_questions({}), AnswerStatus::kWrongQuestion);
  EXPECT_EQ(with_questions({question(ours, 33), question(ours, 33)}), AnswerStatus::kWrongQuestion);
  // The right question asked about another key by the caller.
  EXPECT_EQ(parse(srv_answer(a_rdata(192, 0, 2, 1)).wire(), kId, key_of(9)).status,
            AnswerStatus::kWrongQuestion);
}

TEST(SrvAnswer, NotAResponse) {
  Message m = srv_answer(a_rdata(192, 0, 2, 1));
  m.flags = kAa;  // QR clear: a query
  EXPECT_EQ(parse(m.wire()).status, AnswerStatus::kMalformed);
  m.flags = kQr | opcode_bits(4);  // a NOTIFY acknowledgement
  EXPECT_EQ(parse(m.wire()).status, AnswerStatus::kMalformed);
  Bytes query;
  ASSERT_TRUE(build_query(kId, instance_name(kKey, kZone), kQueryTypeSrv, query));
  EXPECT_EQ(parse(query).status, AnswerStatus::kMalformed);
}

TEST(SrvAnswer, MalformedBytes) {
  const Bytes good = srv_answer(a_rdata(192, 0, 2, 1)).wire();
  EXPECT_EQ(parse({}).status, AnswerStatus::kMalformed);
  EXPECT_EQ(parse(Bytes(good.begin(), good.begin() + 11)).status, AnswerStatus::kMalformed);
  // Every cut after the header: a record or question runs past the end.
  for (size_t n = 12; n < good.size(); ++n) {
    EXPECT_EQ(parse(Bytes(good.begin(), good.begin() + long(n))).status, AnswerStatus::kMalformed)
        << n;
  }
  // Counts that promise more records than there are.
  Bytes more = good;
  more[11] = 5;
  EXPECT_EQ(parse(more).status, AnswerStatus::kMalformed);
  // A pointer loop in the question: a name pointing at itself.
  Message loop;
  loop.questions = {question(pointer(12), 33)};
  EXPECT_EQ(parse(loop.wire()).status, AnswerStatus::kMalformed);
  // A pointer forward past the end.
  loop.questions = {question(pointer(0x3fff), 33)};
  EXPECT_EQ(parse(loop.wire()).status, AnswerStatus::kMalformed);
  // An rdlength longer than the message.
  Bytes long_rdata = good;
  const size_t a_rdlength = good.size() - 4 - 2;
  long_rdata[a_rdlength + 1] = 200;
  EXPECT_EQ(parse(long_rdata).status, AnswerStatus::kMalformed);
  // A label over 63 bytes (0x40 is the reserved label type).
  Bytes bad_label = good;
  bad_label[12] = 0x40;
  EXPECT_EQ(parse(bad_label).status, AnswerStatus::kMalformed);
}

TEST(SrvAnswer, RandomMutationsNeverCrash) {
  std::mt19937 rng(20240611);
  Message compressed;
  compressed.questions = {question(name(instance_name(kKey, kZone)), 33)};
  compressed.answers = {record(pointer(12), 33, srv_rdata(40000, pointer(12)))};
  compressed.additional = {record(pointer(12), 28, aaaa_rdata("2001:db8::1")), opt()};
  const Bytes seeds[] = {srv_answer(a_rdata(192, 0, 2, 1)).wire(),
                         srv_answer(aaaa_rdata("2001:db8::2"), 28).wire(), compressed.wire()};
  ASSERT_EQ(parse(seeds[2]).status, AnswerStatus::kOk);
  int ok = 0;
  for (int i = 0; i < 10000; ++i) {
    Bytes b = seeds[i % 3];
    for (int e = 1 + int(rng() % 4); e > 0; --e) {
      switch (rng() % 4) {
        case 0:
          b[rng() % b.size()] = uint8_t(rng());
          break;
        case 1:
          b[rng() % b.size()] ^= uint8_t(1 << (rng() % 8));
          break;
        case 2:
          b.resize(rng() % (b.size() + 1));
          break;
        default:
          b.insert(b.begin() + long(rng() % (b.size() + 1)), uint8_t(rng()));
      }
      if (b.empty()) b.push_back(0x12);
    }
    Bytes exact(b);  // exactly sized, so a sanitizer sees an overread
    SrvAnswer a = parse(exact);
    EXPECT_EQ(a.peer.has_value(), a.status == AnswerStatus::kOk);
    if (a.peer) {
      ++ok;
      EXPECT_EQ(a.peer->key, kKey);
      EXPECT_NE(a.peer->endpoint.port, 0);
    }
    (void)parse_ptr_response(exact, kId, kZone);
  }
  EXPECT_GT(ok, 0);  // some mutations (e.g. of the TTL) keep the answer valid
}

// --- PTR answers -----------------------------------------------------------

Message ptr_answer(const std::vector<Bytes>& targets) {
  Message m;
  m.questions = {question(name(service_name(kZone)), 12)};
  for (const Bytes& t : targets) m.answers.push_back(record(name(service_name(kZone)), 12, t));
  return m;
}

TEST(PtrAnswer, ListsKeysInOrderWithoutDuplicates) {
  Message m = ptr_answer({name(instance_name(key_of(5), kZone)),
                          name(instance_name(key_of(1), "example.org.")),  // other zone
                          name(lower(instance_name(key_of(2), kZone))),
                          name("printer._ipp._tcp.example.net."),
                          pointer(12),  // the service name itself
                          name(instance_name(key_of(5), kZone))});
  m.additional = {opt()};
  auto keys = parse_ptr_response(m.wire(), kId, kZone);
  ASSERT_TRUE(keys);
  ASSERT_EQ(keys->size(), 2u);
  EXPECT_EQ((*keys)[0], key_of(5));
  EXPECT_EQ((*keys)[1], key_of(2));
}

TEST(PtrAnswer, EmptyAndErrors) {
  auto empty = parse_ptr_response(ptr_answer({}).wire(), kId, kZone);
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
  Message nx = ptr_answer({});
  nx.flags |= 3;
  auto none = parse_ptr_response(nx.wire(), kId, kZone);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
  for (uint16_t rcode : {1, 2, 4, 5}) {
    Message m = ptr_answer({name(instance_name(key_of(5), kZone))});
    m.flags |= rcode;
    EXPECT_FALSE(parse_ptr_response(m.wire(), kId, kZone)) << rcode;
  }
  const Bytes good = ptr_answer({name(instance_name(key_of(5), kZone))}).wire();
  EXPECT_FALSE(parse_ptr_response(good, kId + 1, kZone));
  EXPECT_FALSE(parse_ptr_response(good, kId, "example.org."));
  EXPECT_FALSE(parse_ptr_response(Bytes(good.begin(), good.end() - 1), kId, kZone));
  Message srv = ptr_answer({name(instance_name(key_of(5), kZone))});
  srv.questions = {question(name(service_name(kZone)), 33)};
  EXPECT_FALSE(parse_ptr_response(srv.wire(), kId, kZone));
}

TEST(PtrAnswer, TruncatedGivesWhatItHolds) {
  Message m = ptr_answer({name(instance_name(key_of(3), kZone))});
  m.flags |= kTc;
  auto keys = parse_ptr_response(m.wire(), kId, kZone);
  ASSERT_TRUE(keys);
  ASSERT_EQ(keys->size(), 1u);
  EXPECT_EQ((*keys)[0], key_of(3));
}

// --- against the registry's own responder ---------------------------------

// Our queries, answered by dnssd::Responder, parse into the published
// endpoints: the two halves of discovery agree on names, types and layout.
TEST(DiscoveryAgainstResponder, SrvPtrAndMissingPeer) {
  Responder registry("Example.Net");
  const PublishedPeer alice{key_of(1), *Endpoint::parse("198.51.100.20:41000")};
  const PublishedPeer bob{key_of(2), *Endpoint::parse("[2001:db8::20]:42000")};
  registry.set_peers({alice, bob});
  std::vector<uint8_t> answer(65535);
  for (const PublishedPeer& peer : {alice, bob}) {
    Bytes query;
    ASSERT_TRUE(build_query(0x7001, instance_name(peer.key, kZone), kQueryTypeSrv, query));
    AnswerResult r = registry.answer(query, QueryAccess::kAllowed, answer);
    ASSERT_GT(r.length, 0u);
    EXPECT_EQ(r.asked_about, peer.key);
    SrvAnswer a = parse_srv_response(ByteView(answer).first(r.length), 0x7001, peer.key, kZone);
    ASSERT_EQ(a.status, AnswerStatus::kOk);
    EXPECT_EQ(a.peer->key, peer.key);
    EXPECT_EQ(a.peer->endpoint, peer.endpoint);
  }
  Bytes query;
  ASSERT_TRUE(build_query(0x7002, instance_name(key_of(3), kZone), kQueryTypeSrv, query));
  AnswerResult r = registry.answer(query, QueryAccess::kAllowed, answer);
  EXPECT_EQ(parse_srv_response(ByteView(answer).first(r.length), 0x7002, key_of(3), kZone).status,
            AnswerStatus::kNxDomain);
  r = registry.answer(query, QueryAccess::kRefused, answer);
  EXPECT_EQ(parse_srv_response(ByteView(answer).first(r.length), 0x7002, key_of(3), kZone).status,
            AnswerStatus::kRefused);

  query.clear();
  ASSERT_TRUE(build_query(0x7003, service_name(kZone), kQueryTypePtr, query));
  r = registry.answer(query, QueryAccess::kAllowed, answer);
  auto keys = parse_ptr_response(ByteView(answer).first(r.length), 0x7003, kZone);
  ASSERT_TRUE(keys);
  ASSERT_EQ(keys->size(), 2u);
  EXPECT_NE(std::find(keys->begin(), keys->end(), alice.key), keys->end());
  EXPECT_NE(std::find(keys->begin(), keys->end(), bob.key), keys->end());
}

}  // namespace
}  // namespace wgp::dnssd
