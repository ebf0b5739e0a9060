// The registry responder against DESIGN.md §4: records, RCODEs, case, EDNS,
// truncation, compression, malformed input and the answer cache. Responses
// are read back with ldns_wire2pkt (an independent parser of our bytes) and
// checked byte by byte where the wire layout is the point.
#include "dnssd/responder.h"

#include <gtest/gtest.h>
#include <ldns/ldns.h>
#include <strings.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "dnssd/base32.h"
#include "unit/dnssd/responder_test_util.h"

namespace wgp::dnssd {
namespace {

using namespace wgp::dnssd::testing;

class ResponderTest : public ::testing::Test {
 protected:
  ResponderTest() : responder(kZone), out(65535) {
    responder.set_peers({peer(1, "198.51.100.7:51820"), peer(2, "[2001:db8::2]:4500")});
    responder.set_serial(1);  // the zone publisher's, in the registry
  }

  // Answers `query`; nullopt when the responder drops it.
  std::optional<Reply> ask(const std::vector<uint8_t>& query,
                           QueryAccess access = QueryAccess::kAllowed) {
    last = responder.answer(query, access, out);
    if (!last.length) return std::nullopt;
    return parse(std::vector<uint8_t>(out.begin(), out.begin() + last.length));
  }
  Reply must_ask(const std::vector<uint8_t>& query, QueryAccess access = QueryAccess::kAllowed) {
    auto r = ask(query, access);
    EXPECT_TRUE(r) << "dropped";
    return r ? *r : Reply{};
  }

  static std::string label(int n) { return peer_label(key_n(n)); }
  static std::string instance(int n) { return label(n) + "._wireguard._udp.example.net."; }
  static std::string host(int n) { return label(n) + ".example.net."; }

  Responder responder;
  std::vector<uint8_t> out;
  AnswerResult last;
};

TEST_F(ResponderTest, PtrListsEveryPeerInUpperCase) {
  Reply r = must_ask(make_query("_wireguard._udp.example.net", kTypePtr));
  EXPECT_EQ(r.rcode, kRcodeNoError);
  EXPECT_TRUE(r.qr);
  EXPECT_TRUE(r.aa);
  EXPECT_TRUE(r.rd);  // copied from the query
  EXPECT_FALSE(r.tc);
  EXPECT_FALSE(r.has_opt);
  ASSERT_EQ(r.answer.size(), 2u);
  EXPECT_EQ(r.answer[0], "_wireguard._udp.example.net. 0 IN PTR " + instance(1));
  EXPECT_EQ(r.answer[1], "_wireguard._udp.example.net. 0 IN PTR " + instance(2));
  EXPECT_TRUE(r.additional.empty());
  EXPECT_FALSE(last.asked_about);
  EXPECT_EQ(load_be16(r.wire.data()), 0x1234);
}

TEST_F(ResponderTest, SrvHasTargetAddressFirstInAdditional) {
  Reply r = must_ask(make_query(instance(1), kTypeSrv));
  EXPECT_EQ(r.rcode, kRcodeNoError);
  ASSERT_EQ(r.answer.size(), 1u);
  EXPECT_EQ(r.answer[0], instance(1) + " 0 IN SRV 0 0 51820 " + host(1));
  ASSERT_EQ(r.additional.size(), 2u);  // the address, then the TXT (§11)
  EXPECT_EQ(r.additional[0], host(1) + " 0 IN A 198.51.100.7");
  EXPECT_NE(r.additional[1].find(" IN TXT "), std::string::npos) << r.additional[1];
  ASSERT_TRUE(last.asked_about);
  EXPECT_EQ(*last.asked_about, key_n(1));

  Reply v6 = must_ask(make_query(instance(2), kTypeSrv, {.edns = Edns{}}));
  ASSERT_EQ(v6.answer.size(), 1u);
  EXPECT_EQ(v6.answer[0], instance(2) + " 0 IN SRV 0 0 4500 " + host(2));
  // The address first, the TXT, the OPT (which ldns keeps apart) only after them.
  ASSERT_EQ(v6.additional.size(), 2u);
  EXPECT_EQ(v6.additional[0], host(2) + " 0 IN AAAA 2001:db8::2");
  EXPECT_TRUE(v6.has_opt);
  EXPECT_EQ(load_be16(v6.wire.data() + 10), 3);  // ARCOUNT: address + TXT + OPT
}

TEST_F(ResponderTest, AddressRecordsAtHostAndInstanceNames) {
  Reply a = must_ask(make_query(host(1), kTypeA));
  ASSERT_EQ(a.answer.size(), 1u);
  EXPECT_EQ(a.answer[0], host(1) + " 0 IN A 198.51.100.7");
  ASSERT_TRUE(last.asked_about);
  EXPECT_EQ(*last.asked_about, key_n(1));

  Reply at_instance = must_ask(make_query(instance(1), kTypeA));
  ASSERT_EQ(at_instance.answer.size(), 1u);
  EXPECT_EQ(at_instance.answer[0], instance(1) + " 0 IN A 198.51.100.7");

  Reply aaaa = must_ask(make_query(host(2), kTypeAaaa));
  ASSERT_EQ(aaaa.answer.size(), 1u);
  EXPECT_EQ(aaaa.answer[0], host(2) + " 0 IN AAAA 2001:db8::2");
  Reply aaaa_instance = must_ask(make_query(instance(2), kTypeAaaa));
  ASSERT_EQ(aaaa_instance.answer.size(), 1u);
  EXPECT_EQ(aaaa_instance.answer[0], instance(2) + " 0 IN AAAA 2001:db8::2");
  ASSERT_TRUE(last.asked_about);
  EXPECT_EQ(*last.asked_about, key_n(2));
}

TEST_F(ResponderTest, WrongAddressFamilyIsNodataWithSoa) {
  Reply r = must_ask(make_query(host(1), kTypeAaaa));
  EXPECT_EQ(r.rcode, kRcodeNoError);
  EXPECT_TRUE(r.answer.empty());
  ASSERT_EQ(r.authority.size(), 1u);
  EXPECT_EQ(r.authority[0],
            "example.net. 0 IN SOA example.net. hostmaster.example.net. 1 60 10 86400 0");
  EXPECT_FALSE(last.asked_about);
  Reply txt = must_ask(make_query(host(1), 16 /* TXT: at the instance name only */));
  EXPECT_EQ(txt.rcode, kRcodeNoError);
  EXPECT_TRUE(txt.answer.empty());
  EXPECT_EQ(txt.authority.size(), 1u);
}

TEST_F(ResponderTest, MissingNamesAreNxdomainWithSoa) {
  for (std::string name : std::vector<std::string>{
           "nothing.example.net.", host(9), instance(9), "a." + host(1), "x._udp.example.net.",
           "_tcp._wireguard._udp.example.net.", "_wireguard.example.net."}) {
    Reply r = must_ask(make_query(name, kTypeA));
    EXPECT_EQ(r.rcode, kRcodeNxDomain) << name;
    EXPECT_TRUE(r.aa) << name;
    EXPECT_TRUE(r.answer.empty()) << name;
    ASSERT_EQ(r.authority.size(), 1u) << name;
    EXPECT_NE(r.authority[0].find("IN SOA example.net. hostmaster.example.net. 1 "),
              std::string::npos);
    EXPECT_FALSE(last.asked_about);
  }
}

TEST_F(ResponderTest, ApexAndEmptyNonTerminal) {
  Reply soa = must_ask(make_query("example.net", kTypeSoa));
  EXPECT_EQ(soa.rcode, kRcodeNoError);
  ASSERT_EQ(soa.answer.size(), 1u);
  EXPECT_EQ(soa.answer[0],
            "example.net. 0 IN SOA example.net. hostmaster.example.net. 1 60 10 86400 0");
  // NS at the apex: the apex itself unless name servers are set.
  Reply ns = must_ask(make_query("example.net", kTypeNs));
  EXPECT_EQ(ns.rcode, kRcodeNoError);
  ASSERT_EQ(ns.answer.size(), 1u);
  EXPECT_EQ(ns.answer[0], "example.net. 0 IN NS example.net.");
  EXPECT_TRUE(ns.authority.empty());
  responder.set_name_servers({{3, 'n', 's', '1', 3, 'o', 'r', 'g', 0}, {3, 'n', 's', '2', 0}});
  ns = must_ask(make_query("example.net", kTypeNs));
  ASSERT_EQ(ns.answer.size(), 2u);
  EXPECT_EQ(ns.answer[0], "example.net. 0 IN NS ns1.org.");
  EXPECT_EQ(ns.answer[1], "example.net. 0 IN NS ns2.");
  Reply any = must_ask(make_query("example.net", kTypeAny));
  ASSERT_EQ(any.answer.size(), 3u);
  EXPECT_NE(any.answer[0].find(" IN SOA "), std::string::npos);
  Reply ent = must_ask(make_query("_udp.example.net", kTypePtr));
  EXPECT_EQ(ent.rcode, kRcodeNoError);
  EXPECT_TRUE(ent.answer.empty());
  EXPECT_EQ(ent.authority.size(), 1u);
}

TEST_F(ResponderTest, ServiceNameExistsWithoutPeers) {
  responder.set_peers({});
  Reply r = must_ask(make_query("_wireguard._udp.example.net", kTypePtr));
  EXPECT_EQ(r.rcode, kRcodeNoError);
  EXPECT_TRUE(r.answer.empty());
  EXPECT_EQ(r.authority.size(), 1u);
}

TEST_F(ResponderTest, AnyReturnsEveryRecordAtTheName) {
  Reply r = must_ask(make_query(instance(1), kTypeAny));
  ASSERT_EQ(r.answer.size(), 3u);
  EXPECT_EQ(r.answer[0], instance(1) + " 0 IN SRV 0 0 51820 " + host(1));
  EXPECT_EQ(r.answer[1], instance(1) + " 0 IN A 198.51.100.7");
  EXPECT_NE(r.answer[2].find(" IN TXT "), std::string::npos) << r.answer[2];
  ASSERT_EQ(r.additional.size(), 1u);  // the target's address; the TXT is in ANSWER
  Reply ptr = must_ask(make_query("_wireguard._udp.example.net", kTypeAny));
  EXPECT_EQ(ptr.answer.size(), 2u);
}

TEST_F(ResponderTest, OutsideTheZoneIsRefusedWithTheQuestion) {
  for (std::string name : std::vector<std::string>{"example.com.", "net.", ".", "xexample.net.",
                                                   "example.net.evil.", "fooexample.net."}) {
    Reply r = must_ask(make_query(name, kTypeA));
    EXPECT_EQ(r.rcode, kRcodeRefused) << name;
    EXPECT_FALSE(r.aa);
    ASSERT_EQ(r.question.size(), 1u);
    EXPECT_TRUE(r.answer.empty());
    EXPECT_TRUE(r.authority.empty());
  }
  Reply chaos = must_ask(make_query("version.bind", 16, {.qclass = 3}));
  EXPECT_EQ(chaos.rcode, kRcodeRefused);
  Reply chaos_in_zone = must_ask(make_query(host(1), kTypeA, {.qclass = 3}));
  EXPECT_EQ(chaos_in_zone.rcode, kRcodeRefused);
}

TEST_F(ResponderTest, AccessRefused) {
  Reply r = must_ask(make_query(instance(1), kTypeSrv), QueryAccess::kRefused);
  EXPECT_EQ(r.rcode, kRcodeRefused);
  EXPECT_TRUE(r.answer.empty());
  EXPECT_FALSE(last.asked_about);
  // With EDNS the refusal carries an OPT too.
  Reply e = must_ask(make_query(instance(1), kTypeSrv, {.edns = Edns{}}), QueryAccess::kRefused);
  EXPECT_EQ(e.rcode, kRcodeRefused);
  EXPECT_TRUE(e.has_opt);
}

TEST_F(ResponderTest, MatchingIgnoresCaseAndEchoesTheQuestionAsAsked) {
  std::string mixed = instance(1);
  for (size_t i = 0; i < mixed.size(); i += 2) {
    mixed[i] = char(std::islower(static_cast<unsigned char>(mixed[i])) ? std::toupper(mixed[i])
                                                                       : std::tolower(mixed[i]));
  }
  auto query = make_query(mixed, kTypeSrv, {.id = 0xbeef});
  Reply r = must_ask(query);
  EXPECT_EQ(r.rcode, kRcodeNoError);
  ASSERT_EQ(r.answer.size(), 1u);
  // Record data keeps the canonical upper-case label.
  EXPECT_NE(r.answer[0].find(" SRV 0 0 51820 " + host(1)), std::string::npos);
  // The address owner compresses into the question's zone labels, so those
  // carry the asker's case; its B32 label is spelled out, upper case.
  ASSERT_EQ(r.additional.size(), 2u);  // then the TXT
  EXPECT_EQ(r.additional[0].substr(0, kPeerLabelSize + 1), label(1) + ".");
  EXPECT_TRUE(strcasecmp(r.additional[0].c_str(), (host(1) + " 0 IN A 198.51.100.7").c_str()) == 0);
  // The question section is byte for byte the one sent (0x20 echo), and the ID too.
  size_t qlen = query.size() - 12;
  ASSERT_GE(r.wire.size(), 12 + qlen);
  EXPECT_EQ(std::vector<uint8_t>(r.wire.begin() + 12, r.wire.begin() + 12 + qlen),
            std::vector<uint8_t>(query.begin() + 12, query.end()));
  EXPECT_EQ(load_be16(r.wire.data()), 0xbeef);

  // All lower case works as well (the label as `base32 -d` would reject it).
  std::string lower = host(1);
  for (char& c : lower) c = char(std::tolower(static_cast<unsigned char>(c)));
  Reply l = must_ask(make_query(lower, kTypeA));
  ASSERT_EQ(l.answer.size(), 1u);
  EXPECT_NE(l.answer[0].find("198.51.100.7"), std::string::npos);
}

TEST_F(ResponderTest, FlagsCopiedFromTheQueryOnCachedAnswers) {
  auto rd = make_query(host(1), kTypeA, {.id = 1, .flags_hi = 0x01, .flags_lo = 0x10});
  auto no_rd = make_query(host(1), kTypeA, {.id = 2, .flags_hi = 0x00});
  Reply a = must_ask(rd);
  Reply b = must_ask(no_rd);  // served from the cache
  EXPECT_TRUE(a.rd);
  EXPECT_FALSE(b.rd);
  EXPECT_TRUE(a.wire[3] & 0x10);  // CD
  EXPECT_FALSE(b.wire[3] & 0x10);
  EXPECT_EQ(load_be16(a.wire.data()), 1);
  EXPECT_EQ(load_be16(b.wire.data()), 2);
  EXPECT_EQ(responder.cache_entries(), 1u);
}

TEST_F(ResponderTest, EdnsOptOnlyWhenAskedAndBadvers) {
  Reply plain = must_ask(make_query(host(1), kTypeA));
  EXPECT_FALSE(plain.has_opt);
  EXPECT_EQ(load_be16(plain.wire.data() + 10), 0);
  Reply e = must_ask(make_query(host(1), kTypeA, {.edns = Edns{.udp_size = 4096, .do_bit = true}}));
  EXPECT_TRUE(e.has_opt);
  EXPECT_EQ(e.opt_udp, kAdvertisedUdpSize);
  EXPECT_TRUE(e.opt_do);
  Reply e2 = must_ask(make_query(host(1), kTypeA, {.edns = Edns{.udp_size = 4096}}));
  EXPECT_FALSE(e2.opt_do);
  Reply bad = must_ask(make_query(host(1), kTypeA, {.edns = Edns{.version = 1}}));
  EXPECT_EQ(bad.rcode, kRcodeBadVers);
  EXPECT_TRUE(bad.has_opt);
  EXPECT_TRUE(bad.answer.empty());
  EXPECT_EQ(bad.wire[3] & 0x0F, 0);  // 16 = 1 << 4: all in the OPT's extended RCODE
}

class ManyPeers : public ResponderTest {
 protected:
  void SetUp() override {
    std::vector<PublishedPeer> peers;
    for (int i = 0; i < 100; ++i) {
      peers.push_back({key_n(100 + i), {*IpAddress::parse("203.0.113.9"), uint16_t(1000 + i)}});
    }
    responder.set_peers(std::move(peers));
  }
  std::vector<uint8_t> ptr_query(std::optional<Edns> edns) {
    return make_query("_wireguard._udp.example.net", kTypePtr, {.edns = edns});
  }
};

TEST_F(ManyPeers, PlainQueryTruncatesTo512WholeRecords) {
  Reply r = must_ask(ptr_query(std::nullopt));
  EXPECT_LE(r.wire.size(), 512u);
  EXPECT_TRUE(r.tc);
  EXPECT_EQ(r.rcode, kRcodeNoError);
  // Each compressed PTR costs 2 + 10 + 57 + 2 = 71 bytes: 6 fit after the 45-byte header+question.
  EXPECT_EQ(r.answer.size(), 6u);
  EXPECT_EQ(load_be16(r.wire.data() + 6), r.answer.size());
  EXPECT_GT(r.wire.size() + 71, 512u);  // one more would not have fit
  EXPECT_FALSE(r.has_opt);
}

TEST_F(ManyPeers, EdnsSizeIsHonouredAndCapped) {
  Reply small = must_ask(ptr_query(Edns{.udp_size = 100}));  // below 512 counts as 512
  EXPECT_LE(small.wire.size(), 512u);
  EXPECT_TRUE(small.tc);
  EXPECT_TRUE(small.has_opt);  // the OPT survives truncation (RFC 6891 §7)

  Reply mid = must_ask(ptr_query(Edns{.udp_size = 1232}));
  EXPECT_LE(mid.wire.size(), 1232u);
  EXPECT_GT(mid.wire.size(), 1232u - 71);
  EXPECT_TRUE(mid.tc);
  EXPECT_GT(mid.answer.size(), small.answer.size());

  // As large as `out` allows: the registry gives the responder 65,535
  // bytes only over TCP; plain UDP answers get 1,232, in-tunnel ones the
  // tunnel MTU (discovery/registry_service.h).
  Reply all = must_ask(ptr_query(Edns{.udp_size = 65535}));
  EXPECT_FALSE(all.tc);
  EXPECT_EQ(all.answer.size(), 100u);

  // Over a stream (TCP) the EDNS size does not bound the answer; `out` does.
  std::vector<uint8_t> stream_out(65535);
  auto streamed = responder.answer(ptr_query(Edns{.udp_size = 1232}), QueryAccess::kAllowed,
                                   stream_out, Transport::kStream);
  Reply over_tcp = parse(std::vector<uint8_t>(stream_out.begin(), stream_out.begin() + streamed.length));
  EXPECT_FALSE(over_tcp.tc);
  EXPECT_EQ(over_tcp.answer.size(), 100u);
  auto plain_tcp = responder.answer(ptr_query(std::nullopt), QueryAccess::kAllowed, stream_out,
                                    Transport::kStream);
  EXPECT_EQ(parse(std::vector<uint8_t>(stream_out.begin(), stream_out.begin() + plain_tcp.length))
                .answer.size(),
            100u);

  // The transport limit (`out`) wins over what EDNS allows.
  std::vector<uint8_t> small_out(1000);
  auto res = responder.answer(ptr_query(Edns{.udp_size = 65535}), QueryAccess::kAllowed, small_out);
  ASSERT_GT(res.length, 0u);
  EXPECT_LE(res.length, 1000u);
  Reply capped = parse(std::vector<uint8_t>(small_out.begin(), small_out.begin() + res.length));
  EXPECT_TRUE(capped.tc);
}

TEST_F(ManyPeers, NamesAreCompressed) {
  Reply all = must_ask(ptr_query(Edns{.udp_size = 65535}));
  // Header 12, question 29 + 4, 100 PTRs of 71 bytes, OPT 11.
  EXPECT_EQ(all.wire.size(), 12u + 33 + 100 * 71 + 11);
  // The first answer's owner is a pointer to the question name at offset 12,
  // and its PTR target ends in a pointer to the same place.
  size_t rr = 12 + 33;
  EXPECT_EQ(all.wire[rr], 0xC0);
  EXPECT_EQ(all.wire[rr + 1], 12);
  size_t rdata = rr + 12;
  EXPECT_EQ(all.wire[rdata], 56);  // the B32 label, spelled out
  EXPECT_EQ(all.wire[rdata + 57], 0xC0);
  EXPECT_EQ(all.wire[rdata + 58], 12);
}

TEST_F(ResponderTest, SrvAnswerIsCompressed) {
  Reply r = must_ask(make_query(instance(1), kTypeSrv));
  // Question name 57+11+5+13 = 86. SRV: owner a pointer to the question, the
  // target spelled out (RFC 2782 forbids compressing it). The address owner:
  // its B32 label and a pointer to "example.net." in the question. The TXT:
  // a pointer to the question, then "txtvers=1", "pub=<44>", "allowed=".
  EXPECT_EQ(r.wire.size(),
            12u + 86 + 4 + (2 + 10 + 6 + 57 + 13) + (57 + 2 + 10 + 4) + (2 + 10 + 10 + 49 + 9));
  size_t srv_rdata = 12 + 90 + 12;
  EXPECT_EQ(r.wire[srv_rdata + 6], 56);
  EXPECT_EQ(r.wire[srv_rdata + 6 + 57 + 12], 0);  // target ends in the root label, no pointer
  size_t a_owner = srv_rdata + 76;
  EXPECT_EQ(r.wire[a_owner], 56);
  EXPECT_EQ(r.wire[a_owner + 57], 0xC0);
  EXPECT_EQ(r.wire[a_owner + 58], 12 + 57 + 11 + 5);  // "example.net." inside the question
}

TEST_F(ResponderTest, MalformedQueriesGetFormerrOrAreDropped) {
  auto header = [](uint16_t qd, uint16_t an = 0, uint16_t ar = 0) {
    std::vector<uint8_t> h = {0xab, 0xcd, 0x01, 0x00, 0, 0, 0, 0, 0, 0, 0, 0};
    store_be16(h.data() + 4, qd);
    store_be16(h.data() + 6, an);
    store_be16(h.data() + 10, ar);
    return h;
  };
  auto expect_formerr = [&](const std::vector<uint8_t>& q, const char* what) {
    auto r = ask(q);
    ASSERT_TRUE(r) << what;
    EXPECT_EQ(r->rcode, kRcodeFormErr) << what;
    EXPECT_TRUE(r->qr) << what;
    EXPECT_EQ(load_be16(r->wire.data()), 0xabcd) << what;
    EXPECT_EQ(r->wire.size(), 12u) << what;
  };
  auto good = make_query(host(1), kTypeA, {.id = 0xabcd});

  // Pointer loops: to itself, and a label followed by a pointer back to it.
  auto loop = header(1);
  loop.insert(loop.end(), {0xC0, 12, 0, 1, 0, 1});
  expect_formerr(loop, "self pointer");
  auto loop2 = header(1);
  loop2.insert(loop2.end(), {3, 'w', 'w', 'w', 0xC0, 12, 0, 1, 0, 1});
  expect_formerr(loop2, "pointer back to the start");
  auto forward = header(1);
  forward.insert(forward.end(), {0xC0, 14, 0, 0, 1, 0, 1});
  expect_formerr(forward, "forward pointer");
  auto into_header = header(1);
  into_header.insert(into_header.end(), {0xC0, 2, 0, 1, 0, 1});
  expect_formerr(into_header, "pointer into the header");

  // Over-long: 5 labels of 63 bytes (321 bytes), and a 64-byte label.
  auto longname = header(1);
  for (int i = 0; i < 5; ++i) {
    longname.push_back(63);
    longname.insert(longname.end(), 63, 'a');
  }
  longname.insert(longname.end(), {0, 0, 1, 0, 1});
  expect_formerr(longname, "name over 255 bytes");
  auto label64 = header(1);
  label64.push_back(64);
  label64.insert(label64.end(), 64, 'a');
  label64.insert(label64.end(), {0, 0, 1, 0, 1});
  expect_formerr(label64, "label type 0x40");

  // Truncated question: name cut short, type/class missing.
  for (size_t cut = 13; cut < good.size(); ++cut) {
    expect_formerr(std::vector<uint8_t>(good.begin(), good.begin() + cut), "truncated question");
  }
  // QDCOUNT 0 and 2.
  auto qd0 = good;
  store_be16(qd0.data() + 4, 0);
  expect_formerr(qd0, "QDCOUNT 0");
  auto qd2 = good;
  store_be16(qd2.data() + 4, 2);
  qd2.insert(qd2.end(), good.begin() + 12, good.end());
  expect_formerr(qd2, "QDCOUNT 2");
  // Counts promising records that are not there.
  auto ar = good;
  store_be16(ar.data() + 10, 1);
  expect_formerr(ar, "ARCOUNT 1, no record");
  auto an = good;
  store_be16(an.data() + 6, 0xffff);
  expect_formerr(an, "ANCOUNT 65535");
  // Two OPT records; an OPT with a non-root owner; an OPT in ANSWER.
  auto two_opt = make_query(host(1), kTypeA, {.id = 0xabcd, .edns = Edns{}});
  two_opt.insert(two_opt.end(), two_opt.end() - 11, two_opt.end());
  store_be16(two_opt.data() + 10, 2);
  expect_formerr(two_opt, "two OPT");
  auto owned_opt = good;
  store_be16(owned_opt.data() + 10, 1);
  owned_opt.insert(owned_opt.end(), {1, 'x', 0, 0, 41, 4, 0, 0, 0, 0, 0, 0, 0});
  expect_formerr(owned_opt, "OPT owner not root");
  auto opt_in_answer = make_query(host(1), kTypeA, {.id = 0xabcd, .edns = Edns{}});
  store_be16(opt_in_answer.data() + 6, 1);
  store_be16(opt_in_answer.data() + 10, 0);
  expect_formerr(opt_in_answer, "OPT in ANSWER");
  auto bad_option = make_query(host(1), kTypeA, {.id = 0xabcd, .edns = Edns{}});
  store_be16(bad_option.data() + bad_option.size() - 2, 3);  // RDLENGTH 3: half an option
  bad_option.insert(bad_option.end(), {0, 10, 0});
  expect_formerr(bad_option, "option overruns RDATA");

  // Dropped: shorter than a header, or a response.
  EXPECT_FALSE(ask(std::vector<uint8_t>(good.begin(), good.begin() + 11)));
  EXPECT_FALSE(ask({}));
  auto response = good;
  response[2] |= 0x80;
  EXPECT_FALSE(ask(response));
  EXPECT_EQ(responder.cache_entries(), 0u);
}

TEST_F(ResponderTest, QtypeOptIsFormerrAndOtherOpcodesNotimp) {
  Reply opt = must_ask(make_query(host(1), kTypeOpt));
  EXPECT_EQ(opt.rcode, kRcodeFormErr);
  for (uint8_t opcode : {1, 2, 4, 5, 6, 15}) {
    Reply r = must_ask(make_query(host(1), kTypeSoa, {.flags_hi = uint8_t(opcode << 3)}));
    EXPECT_EQ(r.rcode, kRcodeNotImp) << int(opcode);
    EXPECT_EQ((r.wire[2] >> 3) & 0xF, opcode);  // opcode echoed
  }
  for (uint16_t t : {kTypeAxfr, kTypeIxfr, kTypeMaila, kTypeMailb}) {
    EXPECT_EQ(must_ask(make_query("example.net", t)).rcode, kRcodeNotImp) << t;
  }
}

TEST_F(ResponderTest, CacheInvalidatedWhenAnEndpointChanges) {
  auto q = make_query(instance(1), kTypeSrv);
  Reply before = must_ask(q);
  must_ask(q);
  EXPECT_EQ(responder.cache_entries(), 1u);
  responder.set_peers({peer(1, "192.0.2.44:6000"), peer(2, "[2001:db8::2]:4500")});
  EXPECT_EQ(responder.cache_entries(), 0u);
  Reply after = must_ask(q);
  EXPECT_EQ(before.answer[0], instance(1) + " 0 IN SRV 0 0 51820 " + host(1));
  EXPECT_EQ(after.answer[0], instance(1) + " 0 IN SRV 0 0 6000 " + host(1));
  EXPECT_EQ(after.additional[0], host(1) + " 0 IN A 192.0.2.44");
  // The serial is the publisher's: set_peers leaves it, set_serial changes
  // it and empties the cache (the SOA is cached too).
  Reply soa = must_ask(make_query("example.net", kTypeSoa));
  EXPECT_NE(soa.answer[0].find("hostmaster.example.net. 1 "), std::string::npos);
  responder.set_serial(1700000000);
  EXPECT_EQ(responder.cache_entries(), 0u);
  soa = must_ask(make_query("example.net", kTypeSoa));
  EXPECT_NE(soa.answer[0].find("hostmaster.example.net. 1700000000 "), std::string::npos);
  // A peer that left: NXDOMAIN now.
  responder.set_peers({peer(2, "[2001:db8::2]:4500")});
  EXPECT_EQ(must_ask(q).rcode, kRcodeNxDomain);
}

TEST_F(ResponderTest, CacheKeysSeparateTypeEdnsAndSize) {
  must_ask(make_query(host(1), kTypeA));
  must_ask(make_query(host(1), kTypeA));
  EXPECT_EQ(responder.cache_entries(), 1u);
  std::string upper = host(1);
  for (char& c : upper) c = char(std::toupper(static_cast<unsigned char>(c)));
  must_ask(make_query(upper, kTypeA));  // same entry, other case
  EXPECT_EQ(responder.cache_entries(), 1u);
  must_ask(make_query(host(1), kTypeAaaa));
  must_ask(make_query(host(1), kTypeA, {.edns = Edns{}}));
  must_ask(make_query(host(1), kTypeA, {.edns = Edns{.do_bit = true}}));
  must_ask(make_query(host(1), kTypeA, {.edns = Edns{.udp_size = 4096}}));
  EXPECT_EQ(responder.cache_entries(), 5u);
  // Outside-zone refusals are not cached.
  must_ask(make_query("example.org", kTypeA));
  EXPECT_EQ(responder.cache_entries(), 5u);
}

TEST_F(ResponderTest, CacheStaysBounded) {
  for (size_t i = 0; i < Responder::kMaxCacheEntries + 10; ++i) {
    must_ask(make_query("n" + std::to_string(i) + ".example.net", kTypeA));
  }
  EXPECT_LE(responder.cache_entries(), Responder::kMaxCacheEntries);
}

TEST_F(ResponderTest, CountsAndStatus) {
  EXPECT_EQ(responder.published_records(), 10u);
  EXPECT_EQ(responder.published_peers(), 2u);
  EXPECT_EQ(responder.zone(), "example.net.");
  uint64_t before = responder.queries_answered();
  must_ask(make_query(host(1), kTypeA));
  must_ask(make_query("example.org", kTypeA));
  ask(std::vector<uint8_t>(5, 0));  // dropped: not counted
  EXPECT_EQ(responder.queries_answered(), before + 2);
  // A key published twice counts once, the later endpoint wins.
  responder.set_peers({peer(1, "192.0.2.1:1"), peer(1, "192.0.2.2:2")});
  EXPECT_EQ(responder.published_peers(), 1u);
  EXPECT_EQ(must_ask(make_query(host(1), kTypeA)).answer[0], host(1) + " 0 IN A 192.0.2.2");
}

TEST(ResponderZone, NormalisesAndValidatesTheZone) {
  Responder upper("Example.NET");
  EXPECT_EQ(upper.zone(), "example.net.");
  EXPECT_THROW(Responder("a..b."), std::invalid_argument);
  EXPECT_THROW(Responder(std::string(64, 'a') + ".net."), std::invalid_argument);
  // 183 bytes of zone leave no room for <56>._wireguard._udp. below it.
  std::string long_zone;
  for (int i = 0; i < 3; ++i) long_zone += std::string(60, 'z') + ".";
  EXPECT_THROW(Responder{long_zone}, std::invalid_argument);
  std::string ok_zone = std::string(60, 'z') + "." + std::string(60, 'y') + "." +
                        std::string(50, 'x') + ".";  // 174 bytes of wire
  Responder ok(ok_zone);
  ok.set_peers({peer(1, "192.0.2.1:1")});
  std::vector<uint8_t> out(4096);
  auto name = peer_label(key_n(1)) + "._wireguard._udp." + ok_zone;
  // In 512 bytes the SRV fits but its target's address does not: ADDITIONAL
  // goes without TC (RFC 2181 §9). With EDNS it is there.
  auto res = ok.answer(make_query(name, kTypeSrv), QueryAccess::kAllowed, out);
  ASSERT_GT(res.length, 0u);
  Reply r = parse(std::vector<uint8_t>(out.begin(), out.begin() + res.length));
  EXPECT_EQ(r.answer.size(), 1u);
  EXPECT_EQ(r.additional.size(), 0u);
  EXPECT_FALSE(r.tc);
  res = ok.answer(make_query(name, kTypeSrv, {.edns = Edns{}}), QueryAccess::kAllowed, out);
  Reply e = parse(std::vector<uint8_t>(out.begin(), out.begin() + res.length));
  EXPECT_EQ(e.answer.size(), 1u);
  EXPECT_EQ(e.additional.size(), 2u);  // the address, then the TXT
}

TEST(ResponderRoot, RootZoneHoldsEverything) {
  Responder root(".");
  root.set_peers({peer(1, "192.0.2.1:1")});
  std::vector<uint8_t> out(512);
  auto res = root.answer(make_query(peer_label(key_n(1)), kTypeA), QueryAccess::kAllowed, out);
  Reply r = parse(std::vector<uint8_t>(out.begin(), out.begin() + res.length));
  ASSERT_EQ(r.answer.size(), 1u);
  EXPECT_NE(r.answer[0].find("192.0.2.1"), std::string::npos);
}

TEST_F(ResponderTest, TinyOutputBuffersNeverOverflow) {
  auto q = make_query(instance(1), kTypeSrv);
  for (size_t n = 0; n < 200; ++n) {
    std::vector<uint8_t> buf(n + 16, 0xEE);
    auto res = responder.answer(q, QueryAccess::kAllowed, MutableByteView(buf.data(), n));
    EXPECT_LE(res.length, n);
    for (size_t i = n; i < buf.size(); ++i) ASSERT_EQ(buf[i], 0xEE) << n;
    if (res.length) {
      Reply r = parse(std::vector<uint8_t>(buf.begin(), buf.begin() + res.length));
      EXPECT_EQ(r.rcode, kRcodeNoError);
    }
  }
}

// Random corruptions of valid queries: every answer parses and stays in
// bounds; nothing crashes. Bounded and seeded.
TEST_F(ResponderTest, MutatedQueriesNeverBreakIt) {
  std::mt19937 rng(12345);
  std::vector<std::vector<uint8_t>> seeds = {
      make_query(instance(1), kTypeSrv, {.edns = Edns{}}),
      make_query("_wireguard._udp.example.net", kTypePtr),
      make_query(host(2), kTypeAaaa),
  };
  for (int i = 0; i < 20000; ++i) {
    auto q = seeds[i % seeds.size()];
    int edits = 1 + rng() % 4;
    for (int e = 0; e < edits; ++e) {
      switch (rng() % 3) {
        case 0:
          q[rng() % q.size()] = uint8_t(rng());
          break;
        case 1:
          q.resize(rng() % (q.size() + 1));
          break;
        default:
          q.insert(q.begin() + rng() % (q.size() + 1), uint8_t(rng()));
          break;
      }
      if (q.empty()) break;
    }
    std::vector<uint8_t> buf(600);
    auto res = responder.answer(q, QueryAccess::kAllowed, MutableByteView(buf.data(), 512));
    ASSERT_LE(res.length, 512u);
    if (res.length) {
      ldns_pkt* pkt = nullptr;
      ASSERT_EQ(ldns_wire2pkt(&pkt, buf.data(), res.length), LDNS_STATUS_OK) << i;
      ldns_pkt_free(pkt);
    }
  }
}

}  // namespace
}  // namespace wgp::dnssd
