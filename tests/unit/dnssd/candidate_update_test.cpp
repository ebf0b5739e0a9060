// Candidate registration (RFC 2136 UPDATE, DESIGN.md §9): what a node sends,
// what the registry accepts — only the sender's own names, only the kinds of
// record it publishes — and how the candidates then appear in the zone and
// in the discovery client's reading of an SRV answer.
#include "dnssd/candidate_update.h"

#include <gtest/gtest.h>
#include <ldns/ldns.h>

#include "dnssd/discovery_query.h"
#include "dnssd/responder.h"
#include "unit/dnssd/dns_test_message.h"

namespace wgp::dnssd {
namespace {

using namespace testing;  // the message writer

constexpr std::string_view kZone = "example.net.";

PublicKey key_of(uint8_t first) { return test_key(first); }

IpAddress ip(const char* text) { return *IpAddress::parse(text); }

CandidateSet lan_and_v6() { return {51820, {ip("10.1.0.2"), ip("2001:db8:1::2")}}; }

TEST(CandidateUpdate, RoundTripsThroughLdns) {
  Bytes update;
  ASSERT_TRUE(build_candidate_update(0x1234, key_of(1), kZone, lan_and_v6(), update));
  // ldns reads it as an UPDATE of our zone with the records above.
  ldns_pkt* pkt = nullptr;
  ASSERT_EQ(ldns_wire2pkt(&pkt, update.data(), update.size()), LDNS_STATUS_OK);
  EXPECT_EQ(ldns_pkt_get_opcode(pkt), LDNS_PACKET_UPDATE);
  EXPECT_EQ(ldns_pkt_id(pkt), 0x1234);
  EXPECT_EQ(ldns_rr_list_rr_count(ldns_pkt_question(pkt)), 1u);  // ZONE
  EXPECT_EQ(ldns_rr_list_rr_count(ldns_pkt_authority(pkt)),
            2u + 1 + 2);  // 2 deletes, SRV, 2 addresses
  ldns_pkt_free(pkt);

  ReadUpdate read = read_candidate_update(update, key_of(1), kZone);
  EXPECT_EQ(read.verdict, UpdateVerdict::kOk);
  EXPECT_EQ(read.id, 0x1234);
  EXPECT_EQ(read.set, lan_and_v6());
  // An empty set withdraws.
  Bytes withdraw;
  ASSERT_TRUE(build_candidate_update(7, key_of(1), kZone, {}, withdraw));
  read = read_candidate_update(withdraw, key_of(1), kZone);
  EXPECT_EQ(read.verdict, UpdateVerdict::kOk);
  EXPECT_TRUE(read.set.addresses.empty());
}

TEST(CandidateUpdate, OnlyTheSendersOwnNames) {
  Bytes update;
  ASSERT_TRUE(build_candidate_update(1, key_of(1), kZone, lan_and_v6(), update));
  // Sent by peer 2, the same UPDATE is about someone else's names.
  EXPECT_EQ(read_candidate_update(update, key_of(2), kZone).verdict, UpdateVerdict::kRefused);
  // For another zone.
  EXPECT_EQ(read_candidate_update(update, key_of(1), "example.org.").verdict,
            UpdateVerdict::kNotZone);
}

TEST(CandidateUpdate, RefusesWhatItDoesNotPublish) {
  const std::string instance = instance_name(key_of(1), kZone);
  const std::string cand = candidate_name(key_of(1), kZone);
  auto update_with = [&](Bytes record) {
    Message m;
    m.id = 9;
    m.flags = opcode_bits(kOpcodeUpdate);
    m.questions = {question(name(kZone), 6)};  // ZONE: SOA
    m.authority = {std::move(record)};
    return m.wire();
  };
  Bytes srv_rdata = {0, 0, 0, 0, 0xca, 0x6c};  // priority 0: the registry's own
  srv_rdata = cat(srv_rdata, name(cand));
  EXPECT_EQ(
      read_candidate_update(update_with(record(name(instance), 33, srv_rdata)), key_of(1), kZone)
          .verdict,
      UpdateVerdict::kRefused);
  // A TXT at our own name: not a kind we publish.
  EXPECT_EQ(read_candidate_update(update_with(record(name(cand), 16, {3, 'a', 'b', 'c'})),
                                  key_of(1), kZone)
                .verdict,
            UpdateVerdict::kRefused);
  // The public host name is the registry's to write, not the peer's.
  EXPECT_EQ(read_candidate_update(
                update_with(record(name(target_name(key_of(1), kZone)), 1, {1, 2, 3, 4})),
                key_of(1), kZone)
                .verdict,
            UpdateVerdict::kRefused);
  // An address without a port.
  EXPECT_EQ(
      read_candidate_update(update_with(record(name(cand), 1, {10, 1, 0, 2})), key_of(1), kZone)
          .verdict,
      UpdateVerdict::kFormErr);
  // Not an UPDATE at all, and garbage.
  Bytes query;
  ASSERT_TRUE(build_query(3, instance, kQueryTypeSrv, query));
  EXPECT_EQ(read_candidate_update(query, key_of(1), kZone).verdict, UpdateVerdict::kFormErr);
  EXPECT_EQ(read_candidate_update(Bytes(40, 0xff), key_of(1), kZone).verdict,
            UpdateVerdict::kFormErr);
}

TEST(CandidateUpdate, ResponseHeader) {
  Bytes out;
  build_update_response(0xbeef, 5, out);
  ASSERT_EQ(out.size(), 12u);
  uint8_t rcode = 0;
  EXPECT_TRUE(is_update_response(out, &rcode));
  EXPECT_EQ(rcode, 5);
  EXPECT_EQ(load_be16(out.data()), 0xbeef);
}

// The registry publishes them, and the discovery client reads them back,
// with the observed endpoint first (wgsd-client reads Answer[0], Extra[0]).
TEST(CandidateUpdate, PublishedAndReadBack) {
  Responder responder{std::string(kZone)};
  PublishedPeer p{key_of(1), *Endpoint::parse("203.0.113.5:40000"), 51820, lan_and_v6().addresses};
  responder.set_peers({p});
  Bytes query;
  ASSERT_TRUE(build_query(0x4242, instance_name(key_of(1), kZone), kQueryTypeSrv, query));
  std::vector<uint8_t> out(65535);
  auto result = responder.answer(query, QueryAccess::kAllowed, out);
  ASSERT_GT(result.length, 0u);
  out.resize(result.length);
  SrvAnswer answer = parse_srv_response(out, 0x4242, key_of(1), kZone);
  ASSERT_EQ(answer.status, AnswerStatus::kOk);
  EXPECT_EQ(answer.peer->endpoint, *Endpoint::parse("203.0.113.5:40000"));
  ASSERT_EQ(answer.peer->candidates.size(), 2u);
  EXPECT_EQ(answer.peer->candidates[0], *Endpoint::parse("10.1.0.2:51820"));
  EXPECT_EQ(answer.peer->candidates[1], *Endpoint::parse("[2001:db8:1::2]:51820"));
  // Answer[0] is the public SRV and Extra[0] its address.
  ldns_pkt* pkt = nullptr;
  ASSERT_EQ(ldns_wire2pkt(&pkt, out.data(), out.size()), LDNS_STATUS_OK);
  const ldns_rr* first = ldns_rr_list_rr(ldns_pkt_answer(pkt), 0);
  EXPECT_EQ(ldns_rdf2native_int16(ldns_rr_rdf(first, 0)), 0);  // priority 0
  EXPECT_EQ(ldns_rdf2native_int16(ldns_rr_rdf(first, 2)), 40000);
  const ldns_rr* extra = ldns_rr_list_rr(ldns_pkt_additional(pkt), 0);
  EXPECT_EQ(ldns_rr_get_type(extra), LDNS_RR_TYPE_A);
  EXPECT_EQ(ldns_rdf_data(ldns_rr_rdf(extra, 0))[0], 203);
  ldns_pkt_free(pkt);
  // c.<B32>.<zone> answers A and AAAA; without candidates it does not exist.
  Bytes aaaa;
  ASSERT_TRUE(build_query(5, candidate_name(key_of(1), kZone), kQueryTypeAaaa, aaaa));
  out.assign(65535, 0);
  result = responder.answer(aaaa, QueryAccess::kAllowed, out);
  ASSERT_GT(result.length, 0u);
  EXPECT_EQ(out[3] & 0x0f, 0);       // NOERROR
  EXPECT_EQ(load_be16(&out[6]), 1);  // one AAAA
  p.candidates.clear();
  responder.set_peers({p});
  out.assign(65535, 0);
  result = responder.answer(aaaa, QueryAccess::kAllowed, out);
  EXPECT_EQ(out[3] & 0x0f, 3);  // NXDOMAIN
}

// A port mapping (issue 20) travels as a third SRV to m.<B32>.<zone>; a set
// with only a mapping (LocalCandidates = no) is fine too.
TEST(CandidateUpdate, MappingRoundTripsAndIsPublished) {
  CandidateSet with_mapping = lan_and_v6();
  with_mapping.mapped = *Endpoint::parse("192.0.3.1:40123");
  CandidateSet only_mapping{0, {}, *Endpoint::parse("192.0.3.1:40123")};
  for (const CandidateSet& set : {with_mapping, only_mapping}) {
    Bytes update;
    ASSERT_TRUE(build_candidate_update(3, key_of(1), kZone, set, update));
    ReadUpdate read = read_candidate_update(update, key_of(1), kZone);
    ASSERT_EQ(read.verdict, UpdateVerdict::kOk);
    EXPECT_EQ(read.set, set);
  }
  // The registry publishes it; the client reads it apart from the
  // candidates, and the observed endpoint stays Answer[0] / Extra[0].
  Responder responder{std::string(kZone)};
  PublishedPeer p{key_of(1), *Endpoint::parse("203.0.113.5:40000"), 51820, lan_and_v6().addresses,
                  with_mapping.mapped};
  responder.set_peers({p});
  Bytes query;
  ASSERT_TRUE(build_query(0x4343, instance_name(key_of(1), kZone), kQueryTypeSrv, query));
  std::vector<uint8_t> out(65535);
  auto result = responder.answer(query, QueryAccess::kAllowed, out);
  ASSERT_GT(result.length, 0u);
  out.resize(result.length);
  SrvAnswer answer = parse_srv_response(out, 0x4343, key_of(1), kZone);
  ASSERT_EQ(answer.status, AnswerStatus::kOk);
  EXPECT_EQ(answer.peer->endpoint, *Endpoint::parse("203.0.113.5:40000"));
  EXPECT_EQ(answer.peer->mapped, with_mapping.mapped);
  EXPECT_EQ(answer.peer->candidates.size(), 2u);
  ldns_pkt* pkt = nullptr;
  ASSERT_EQ(ldns_wire2pkt(&pkt, out.data(), out.size()), LDNS_STATUS_OK);
  const ldns_rr* extra = ldns_rr_list_rr(ldns_pkt_additional(pkt), 0);
  EXPECT_EQ(ldns_rdf_data(ldns_rr_rdf(extra, 0))[0], 203);
  ldns_pkt_free(pkt);
  // m.<B32>.<zone> exists only while the peer holds a mapping.
  Bytes a;
  ASSERT_TRUE(build_query(6, mapped_name(key_of(1), kZone), kQueryTypeA, a));
  out.assign(65535, 0);
  ASSERT_GT(responder.answer(a, QueryAccess::kAllowed, out).length, 0u);
  EXPECT_EQ(out[3] & 0x0f, 0);
  EXPECT_EQ(load_be16(&out[6]), 1);
  p.mapped.reset();
  responder.set_peers({p});
  out.assign(65535, 0);
  ASSERT_GT(responder.answer(a, QueryAccess::kAllowed, out).length, 0u);
  EXPECT_EQ(out[3] & 0x0f, 3);  // NXDOMAIN
}

// Two mappings, or a mapped port without its address, are refused.
TEST(CandidateUpdate, OneMappingWithItsAddress) {
  const std::string instance = instance_name(key_of(1), kZone);
  const std::string mapped = mapped_name(key_of(1), kZone);
  auto update_with = [&](std::vector<Bytes> records) {
    Message m;
    m.id = 9;
    m.flags = opcode_bits(kOpcodeUpdate);
    m.questions = {question(name(kZone), 6)};
    m.authority = std::move(records);
    return m.wire();
  };
  Bytes srv = cat(Bytes{0, 1, 0, 0, 0x9c, 0xbb}, name(mapped));
  Bytes addr = record(name(mapped), 1, {192, 0, 3, 1});
  EXPECT_EQ(read_candidate_update(update_with({record(name(instance), 33, srv)}), key_of(1), kZone)
                .verdict,
            UpdateVerdict::kFormErr);
  EXPECT_EQ(read_candidate_update(update_with({record(name(instance), 33, srv),
                                               record(name(instance), 33, srv), addr}),
                                  key_of(1), kZone)
                .verdict,
            UpdateVerdict::kRefused);
  EXPECT_EQ(read_candidate_update(update_with({record(name(instance), 33, srv), addr, addr}),
                                  key_of(1), kZone)
                .verdict,
            UpdateVerdict::kRefused);
  EXPECT_EQ(
      read_candidate_update(update_with({record(name(instance), 33, srv), addr}), key_of(1), kZone)
          .verdict,
      UpdateVerdict::kOk);
}

}  // namespace
}  // namespace wgp::dnssd
