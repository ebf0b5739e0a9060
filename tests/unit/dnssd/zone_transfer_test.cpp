// Zone versions and transfers (dnssd/record_list.h, zone_history.h,
// zone_transfer.h): the records a transfer carries are exactly the zone's
// (ZoneView::records_at, which answers use too), AXFR and IXFR message
// sequences (RFC 5936, RFC 1995) read back by ldns, IXFR against Knot DNS's
// answers for the same zone versions (captured), multi-message splitting
// with compression, the journal and its bounds, and a model secondary that
// applies the IXFR it gets and ends up with the primary's records.
#include "dnssd/zone_transfer.h"

#include <gtest/gtest.h>
#include <ldns/ldns.h>

#include <algorithm>
#include <cctype>
#include <set>
#include <string>
#include <vector>

#include "dnssd/peer_txt.h"
#include "dnssd/record_list.h"
#include "dnssd/responder_zone.h"
#include "dnssd/zone_history.h"
#include "dnssd/zone_notify.h"
#include "unit/crypto/test_hex.h"
#include "unit/dnssd/dns_test_message.h"
#include "unit/dnssd/knot_ixfr_captures.h"

namespace wgp::dnssd {
namespace {

using namespace wgp::dnssd::testing;

PublicKey key_n(int n) {
  PublicKey k;
  for (size_t i = 0; i < k.size(); ++i) k[i] = uint8_t(i * 37 + 1);
  k[0] = uint8_t(n);
  k[1] = uint8_t(n >> 8);
  return k;
}

PublishedPeer peer(int n, uint16_t port) {
  uint8_t a[4] = {198, 51, 100, uint8_t(n)};
  return {key_n(n), Endpoint{IpAddress::v4(a), port}};
}

std::vector<PublishedPeer> peers(int count, uint16_t port = 51820) {
  std::vector<PublishedPeer> out;
  for (int i = 1; i <= count; ++i) out.push_back(peer(i, port));
  return out;
}

// The zone's records but the SOA, sorted: a version.
RecordList version_of(const ZoneView& zone) {
  RecordList r;
  zone.all_records(r);
  r.sort_unique();
  return r;
}

std::string text_of(const WireRecord& r) {
  ldns_rr* rr = nullptr;
  size_t pos = 0;
  EXPECT_EQ(ldns_wire2rr(&rr, r.wire.data(), r.wire.size(), &pos, LDNS_SECTION_ANSWER),
            LDNS_STATUS_OK);
  char* s = ldns_rr2str(rr);
  std::string out = s ? s : "";
  free(s);
  ldns_rr_free(rr);
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

// One response message as ldns reads it.
struct Parsed {
  uint16_t id = 0;
  bool qr = false, aa = false;
  int rcode = -1;
  size_t questions = 0;
  bool opt = false;
  std::vector<std::string> answer;
};

Parsed parse(const std::vector<uint8_t>& m) {
  Parsed p;
  ldns_pkt* pkt = nullptr;
  EXPECT_EQ(ldns_wire2pkt(&pkt, m.data(), m.size()), LDNS_STATUS_OK);
  if (!pkt) return p;
  p.id = ldns_pkt_id(pkt);
  p.qr = ldns_pkt_qr(pkt);
  p.aa = ldns_pkt_aa(pkt);
  p.rcode = ldns_pkt_get_rcode(pkt);
  p.questions = ldns_pkt_qdcount(pkt);
  p.opt = ldns_pkt_edns(pkt);
  ldns_rr_list* an = ldns_pkt_answer(pkt);
  for (size_t i = 0; i < ldns_rr_list_rr_count(an); ++i) {
    char* s = ldns_rr2str(ldns_rr_list_rr(an, i));
    std::string line = s;
    free(s);
    line.pop_back();  // '\n'
    p.answer.push_back(line);
  }
  ldns_pkt_free(pkt);
  return p;
}

// Every answer record of a response, in order, across its messages.
std::vector<std::string> answers(const std::vector<std::vector<uint8_t>>& messages) {
  std::vector<std::string> all;
  for (const auto& m : messages) {
    Parsed p = parse(m);
    all.insert(all.end(), p.answer.begin(), p.answer.end());
  }
  return all;
}

std::vector<std::string> texts(const RecordList& list) {
  std::vector<std::string> out;
  for (size_t i = 0; i < list.size(); ++i) out.push_back(text_of(list[i]));
  return out;
}

std::string soa(uint32_t serial) {
  return "example.net.\t0\tIN\tSOA\texample.net. hostmaster.example.net. " +
         std::to_string(serial) + " 60 10 86400 0";
}

ParsedQuery transfer_query(uint16_t qtype, bool edns = false) {
  Message m;
  m.id = 0xbeef;
  m.flags = 0;
  m.questions = {question(name("Example.NET."), qtype)};
  if (edns) m.additional = {opt(4096)};
  ParsedQuery q;
  EXPECT_EQ(parse_query(m.wire(), q), QueryParse::kOk);
  return q;
}

class ZoneTransferTest : public ::testing::Test {
 protected:
  ZoneTransferTest() : zone("example.net.") {
    zone.set_peers(peers(3));
    history.reset(100, version_of(zone));
  }
  // Publishes `p` and commits it as `serial`.
  void commit(std::vector<PublishedPeer> p, uint32_t serial) {
    zone.set_peers(std::move(p));
    ASSERT_TRUE(history.commit(serial, version_of(zone)));
  }

  ZoneView zone;
  ZoneHistory history;
};

TEST_F(ZoneTransferTest, TheZoneIsWhatAnswersAreMadeOf) {
  // records_at at every name, gathered, is all_records plus the SOA.
  RecordList all;
  zone.all_records(all);
  std::vector<std::string> t = texts(all);
  EXPECT_EQ(t.size(), 1 + 3 * 5u);  // NS; per peer PTR, SRV, A at instance, TXT, A at host
  EXPECT_EQ(t[0], "example.net.\t0\tIN\tNS\texample.net.");
  RecordList at_instance;
  uint8_t lower[kMaxNameWire];  // match() takes names in lower case
  lower_name(all[1].rdata.data(), all[1].rdata.size(), lower);
  zone.records_at(zone.match(ByteView(lower, all[1].rdata.size())),
                  at_instance);  // the PTR's target
  ASSERT_EQ(at_instance.size(), 3u);
  EXPECT_EQ(at_instance[0].type, kTypeSrv);
  EXPECT_EQ(at_instance[1].type, kTypeA);
  EXPECT_EQ(at_instance[2].type, kTypeTxt);
}

TEST_F(ZoneTransferTest, AxfrIsSoaRecordsSoa) {
  for (bool edns : {false, true}) {
    std::vector<std::vector<uint8_t>> out;
    EXPECT_EQ(build_transfer(transfer_query(kTypeAxfr, edns), std::nullopt, zone, history,
                             kTransferMessageLimit, out),
              TransferKind::kAxfr);
    ASSERT_EQ(out.size(), 1u);
    Parsed p = parse(out[0]);
    EXPECT_EQ(p.id, 0xbeef);
    EXPECT_TRUE(p.qr && p.aa);
    EXPECT_EQ(p.rcode, 0);
    EXPECT_EQ(p.questions, 1u);
    EXPECT_EQ(p.opt, edns);
    std::vector<std::string> want = {soa(100)};
    for (const std::string& r : texts(history.records())) want.push_back(r);
    want.push_back(soa(100));
    EXPECT_EQ(p.answer, want);
    // The question is echoed as asked.
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(out[0].data()) + 13, 7), "Example");
  }
}

TEST_F(ZoneTransferTest, BigZonesSpanMessagesWithCompressedNames) {
  zone.set_peers(peers(400));
  history.reset(7, version_of(zone));
  std::vector<std::vector<uint8_t>> out;
  build_transfer(transfer_query(kTypeAxfr), std::nullopt, zone, history, 8000, out);
  ASSERT_GT(out.size(), 2u);
  size_t uncompressed = 0;
  for (size_t i = 0; i < history.records().size(); ++i)
    uncompressed += history.records()[i].wire.size();
  size_t written = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    EXPECT_LE(out[i].size(), 8000u) << i;
    EXPECT_EQ(parse(out[i]).questions, i == 0 ? 1u : 0u) << i;  // RFC 5936 §2.2.1
    written += out[i].size();
  }
  EXPECT_LT(written, uncompressed * 2 / 3);  // names compressed
  std::vector<std::string> got = answers(out);
  ASSERT_EQ(got.size(), history.records().size() + 2);
  EXPECT_EQ(got.front(), soa(7));
  EXPECT_EQ(got.back(), soa(7));
  std::vector<std::string> middle(got.begin() + 1, got.end() - 1);
  EXPECT_EQ(middle, texts(history.records()));
  // SRV targets are written whole (RFC 2782): RDLENGTH = 6 + the full name.
  Bytes target = name("X._wireguard._udp.example.net.");
  size_t srvs = 0;
  for (const auto& m : out)
    for (size_t at = 0; at + 4 < m.size(); ++at)
      if (m[at] == 0 && m[at + 1] == kTypeSrv && m[at + 2] == 0 && m[at + 3] == 1) {
        size_t rdlength = load_be16(&m[at + 8]);
        if (rdlength == 6 + 1 + 56 + 13) ++srvs;  // <B32>.example.net. uncompressed
      }
  EXPECT_EQ(srvs, 400u);
}

// An IXFR answer (RFC 1995 §4) in a form two implementations can agree on:
// names in lower case (Knot writes them so; they match in any case), each run
// between two SOAs sorted (RFC 1995 orders the runs, not the records in one).
std::vector<std::string> canonical_ixfr(std::vector<std::string> records) {
  for (std::string& r : records)
    for (char& c : r) c = char(std::tolower(static_cast<unsigned char>(c)));
  auto run = records.begin();
  for (auto it = records.begin(); it != records.end(); ++it)
    if (it->find("\tsoa\t") != std::string::npos) {
      std::sort(run, it);
      run = it + 1;
    }
  std::sort(run, records.end());
  return records;
}

// The journal 100 -> 101 (peer 2 moved) -> 105 (peer 4 came), asked from
// every serial, against what Knot DNS answers for the same zone versions
// (knot_ixfr_captures.h: the zone written from DESIGN.md §4, not by us).
TEST_F(ZoneTransferTest, IxfrStepsThroughTheJournal) {
  commit({peer(1, 51820), peer(2, 40001), peer(3, 51820)}, 101);              // peer 2 moved
  commit({peer(1, 51820), peer(2, 40001), peer(3, 51820), peer(4, 9)}, 105);  // peer 4 came
  struct Case {
    uint32_t serial;
    TransferKind kind;
    const char* knot;
  } cases[] = {
      {100, TransferKind::kIxfr, kKnotIxfrFrom100},
      {101, TransferKind::kIxfr, kKnotIxfrFrom101},
      {105, TransferKind::kIxfrUpToDate, kKnotIxfrFrom105},
      {99, TransferKind::kIxfrAsAxfr, kKnotIxfrFrom99},  // a serial the journal never had
  };
  for (const Case& c : cases) {
    std::vector<std::vector<uint8_t>> out;
    EXPECT_EQ(build_transfer(transfer_query(kTypeIxfr), c.serial, zone, history,
                             kTransferMessageLimit, out),
              c.kind)
        << c.serial;
    Parsed knot = parse(wgp::testing::hex(c.knot));
    ASSERT_FALSE(knot.answer.empty()) << c.serial;
    EXPECT_EQ(canonical_ixfr(answers(out)), canonical_ixfr(knot.answer))
        << "IXFR from " << c.serial;
  }
  // The first answer, spelt out (RFC 1995 §4): SOA(new); SOA(100), the run removed, SOA(101),
  // the run added; SOA(101) ... SOA(105) ...; SOA(new). A new port changes peer 2's SRV alone;
  // a new peer adds its PTR, SRV, two A records and its TXT (§11).
  std::vector<std::vector<uint8_t>> out;
  build_transfer(transfer_query(kTypeIxfr), 100, zone, history, kTransferMessageLimit, out);
  std::vector<std::string> got = answers(out);
  ASSERT_EQ(got.size(), 1 + (1 + 1 + 1 + 1) + (1 + 0 + 1 + 5) + 1u);
  EXPECT_EQ(got[0], soa(105));
  EXPECT_EQ(got[1], soa(100));
  EXPECT_NE(got[2].find("\tSRV\t0 0 51820 "), std::string::npos) << got[2];
  EXPECT_EQ(got[3], soa(101));
  EXPECT_NE(got[4].find("\tSRV\t0 0 40001 "), std::string::npos) << got[4];
  EXPECT_EQ(got[5], soa(101));
  EXPECT_EQ(got[6], soa(105));
  EXPECT_EQ(got[12], soa(105));
}

// A secondary at version 100 that applies the IXFR it gets has the primary's records.
TEST_F(ZoneTransferTest, ModelSecondaryAppliesIxfr) {
  std::set<std::string> secondary;
  for (const std::string& r : texts(history.records())) secondary.insert(r);
  uint32_t serial = 106;
  for (int round = 0; round < 20; ++round) {
    std::vector<PublishedPeer> p;
    for (int i = 1; i <= 6; ++i)
      if ((i + round) % 4 != 0) p.push_back(peer(i, uint16_t(1000 + (i * round) % 7)));
    commit(p, serial);
    serial += 1 + uint32_t(round % 3);
  }
  std::vector<std::vector<uint8_t>> out;
  ASSERT_EQ(build_transfer(transfer_query(kTypeIxfr), 100, zone, history, 600, out),
            TransferKind::kIxfr);
  EXPECT_GT(out.size(), 3u);  // small messages: many of them
  std::vector<std::string> got = answers(out);
  // RFC 1995 §4: after the first SOA, SOA(old) starts a deletion run, the
  // next SOA an addition run, until the final SOA(new).
  ASSERT_GE(got.size(), 2u);
  bool deleting = false;
  for (size_t i = 1; i + 1 < got.size(); ++i) {
    if (got[i].find("\tSOA\t") != std::string::npos) {
      deleting = !deleting;
      continue;
    }
    if (deleting)
      EXPECT_EQ(secondary.erase(got[i]), 1u) << got[i];
    else
      secondary.insert(got[i]);
  }
  std::vector<std::string> primary = texts(history.records());
  EXPECT_EQ(secondary, std::set<std::string>(primary.begin(), primary.end()));
}

TEST_F(ZoneTransferTest, JournalBounds) {
  // Serials must follow (RFC 1982).
  EXPECT_FALSE(history.commit(100, version_of(zone)));
  EXPECT_FALSE(history.commit(99, version_of(zone)));
  // More versions than kept: the oldest go, and an IXFR from them is an AXFR.
  uint32_t serial = 100;
  for (size_t i = 0; i < ZoneHistory::kMaxVersions + 10; ++i) {
    ++serial;
    commit({peer(1, uint16_t(i)), peer(2, 1), peer(3, 1)}, serial);
  }
  EXPECT_EQ(history.journal_versions(), ZoneHistory::kMaxVersions);
  EXPECT_FALSE(history.diffs_since(100));
  EXPECT_FALSE(history.diffs_since(105));
  ASSERT_TRUE(history.diffs_since(history.oldest_serial()));
  EXPECT_EQ(history.diffs_since(history.oldest_serial())->size(), ZoneHistory::kMaxVersions);
  EXPECT_EQ(history.diffs_since(serial)->size(), 0u);
  // Bytes: a zone of 1 peer with the journal of a 300-peer churn keeps
  // no more than kMinJournalBytes.
  ZoneHistory h;
  zone.set_peers(peers(300, 1));
  h.reset(1, version_of(zone));
  zone.set_peers(peers(300, 2));
  ASSERT_TRUE(h.commit(2, version_of(zone)));
  size_t one_step = h.journal_bytes();
  EXPECT_GT(one_step, 0u);
  for (uint32_t s = 3; s < 20; ++s) {
    zone.set_peers(peers(300, uint16_t(s)));
    ASSERT_TRUE(h.commit(s, version_of(zone)));
  }
  EXPECT_LE(h.journal_bytes(), std::max(ZoneHistory::kMinJournalBytes, h.records().wire_size()));
  EXPECT_LT(h.journal_versions(), 17u);
}

TEST(RecordList, SortUniqueAndDiff) {
  RecordList a, b, removed, added;
  Bytes n1 = name("a.example."), n2 = name("b.example.");
  a.add(n2, kTypeA, 0, Bytes{1, 2, 3, 4});
  a.add(n1, kTypeA, 0, Bytes{1, 2, 3, 4});
  a.add(n2, kTypeA, 0, Bytes{1, 2, 3, 4});  // a repeat
  a.sort_unique();
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].owner.size(), n1.size());
  EXPECT_TRUE(std::equal(n1.begin(), n1.end(), a[0].owner.begin()));
  EXPECT_EQ(a[1].type, kTypeA);
  EXPECT_EQ(a[1].rdata.size(), 4u);
  b.add(n1, kTypeA, 0, Bytes{1, 2, 3, 4});
  b.add(n1, kTypeAaaa, 0, Bytes(16, 9));
  b.sort_unique();
  diff_records(a, b, removed, added);
  ASSERT_EQ(removed.size(), 1u);
  EXPECT_TRUE(std::equal(n2.begin(), n2.end(), removed[0].owner.begin()));
  ASSERT_EQ(added.size(), 1u);
  EXPECT_EQ(added[0].type, kTypeAaaa);
  EXPECT_FALSE(a == b);
  RecordList c = b;
  EXPECT_TRUE(c == b);
}

TEST(TransferRequest, IxfrSerialFromAuthority) {
  Message m;
  m.flags = 0;
  m.questions = {question(name("example.net."), kTypeIxfr)};
  Bytes soa_rdata = cat(cat(name("."), name(".")), Bytes{0x6b, 0x10, 0x5b, 0x10});
  soa_rdata.resize(soa_rdata.size() + 16);
  m.authority = {record(pointer(12), kTypeSoa, soa_rdata)};
  EXPECT_EQ(ixfr_request_serial(m.wire()), 1796234000u);
  // Compressed names inside the SOA, as BIND writes them.
  Bytes compressed = cat(cat(pointer(12), pointer(12)), Bytes{0, 0, 0, 42});
  compressed.resize(compressed.size() + 16);
  m.authority = {record(pointer(12), kTypeSoa, compressed)};
  EXPECT_EQ(ixfr_request_serial(m.wire()), 42u);
  // No SOA, a short one, one cut off: nothing.
  m.authority.clear();
  EXPECT_FALSE(ixfr_request_serial(m.wire()));
  Bytes short_soa = cat(cat(name("."), name(".")), Bytes{0, 0, 0, 42});
  m.authority = {record(pointer(12), kTypeSoa, short_soa)};
  EXPECT_FALSE(ixfr_request_serial(m.wire()));
  m.authority = {record(pointer(12), kTypeSoa, soa_rdata)};
  Bytes cut = m.wire();
  cut.resize(cut.size() - 5);
  EXPECT_FALSE(ixfr_request_serial(cut));
  EXPECT_FALSE(ixfr_request_serial(Bytes{1, 2, 3}));
}

TEST(ZoneNotify, MessageAndAcknowledgement) {
  ZoneView zone("example.net.");
  RecordList soas;
  zone.soa_record(1796234000, soas);
  Bytes n = build_zone_notify(0x4242, name("example.net."), soas[0]);
  Parsed p = parse(n);
  EXPECT_EQ(p.id, 0x4242);
  EXPECT_FALSE(p.qr);
  EXPECT_TRUE(p.aa);
  EXPECT_EQ((n[2] >> 3) & 0xF, 4);  // opcode NOTIFY
  ASSERT_EQ(p.answer.size(), 1u);
  EXPECT_EQ(p.answer[0], soa(1796234000));
  // The acknowledgement: same ID, QR, opcode NOTIFY; its RCODE.
  Bytes ack = n;
  ack[2] |= 0x80;
  EXPECT_EQ(zone_notify_response_rcode(ack, 0x4242), 0);
  ack[3] = 9;  // NOTAUTH
  EXPECT_EQ(zone_notify_response_rcode(ack, 0x4242), 9);
  EXPECT_FALSE(zone_notify_response_rcode(ack, 0x4243));
  EXPECT_FALSE(zone_notify_response_rcode(n, 0x4242));  // not a response
}

}  // namespace
}  // namespace wgp::dnssd

namespace wgp::dnssd {
namespace {

// The candidates of DESIGN.md §9 (a second SRV, priority 1, to c.<B32>, and
// its addresses) are records of the zone like any other: a transfer carries
// them, and the answer to an SRV question lists them after the observed ones.
TEST(ZoneRecords, CandidatesAreInTransfersAndAnswers) {
  ZoneView zone("example.net.");
  PublishedPeer p{key_n(1), *Endpoint::parse("198.51.100.1:51820")};
  p.candidate_port = 51821;
  p.candidates = {*IpAddress::parse("10.1.0.2"), *IpAddress::parse("2001:db8::2")};
  zone.set_peers({p, peer(2, 4000)});
  RecordList all;
  zone.all_records(all);
  std::vector<std::string> t = texts(all);
  auto has = [&](const std::string& part) {
    return std::any_of(t.begin(), t.end(),
                       [&](const std::string& r) { return r.find(part) != std::string::npos; });
  };
  EXPECT_TRUE(has("\tSRV\t1 0 51821 c."));
  EXPECT_TRUE(has("\tA\t10.1.0.2"));
  EXPECT_TRUE(has("\tAAAA\t2001:db8::2"));
  EXPECT_EQ(t.size(),
            1 + 5 + 3 + 5u);  // NS; peer 2's five; peer 1's five, a second SRV, two candidates
  // A transfer holds them too.
  ZoneHistory h;
  RecordList v = all;
  v.sort_unique();
  h.reset(5, v);
  std::vector<std::vector<uint8_t>> out;
  build_transfer(transfer_query(kTypeAxfr), std::nullopt, zone, h, kTransferMessageLimit, out);
  std::vector<std::string> got = answers(out);
  EXPECT_EQ(got.size(), all.size() + 2);
  EXPECT_TRUE(std::any_of(got.begin(), got.end(), [](const std::string& r) {
    return r.find("\tA\t10.1.0.2") != std::string::npos;
  }));
}

}  // namespace
}  // namespace wgp::dnssd
