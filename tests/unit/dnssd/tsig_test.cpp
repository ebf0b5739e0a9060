// TSIG (RFC 8945, dnssd/tsig.h) against messages that Knot DNS's tools made,
// and our signer against itself over a multi-message exchange.
//
// Known answers: key xfr.example., hmac-sha256, secret
// 8UJ8mLQb2ZfEvSBdWb8XsBx4ENYxnPcQAEmZ4sPcS30= (32 bytes). Captured with a
// UDP/TCP relay between the tools and knotd 3.2.6 (Debian 12) serving
// example.net. with that key (2026-12-02):
//   kQuery/kQueryAnswer  kdig -y hmac-sha256:xfr.example.:SECRET example.net SOA
//                        +noedns +nocookie, and knotd's signed answer
//   kUpdate/kUpdateAnswer  knsupdate (key hmac-sha256:xfr.example. SECRET;
//                        update add foo.example.net. 0 A 192.0.2.99), knotd's answer
//   kIxfr                kdig -y ... +tcp example.net IXFR=1796234000 (the
//                        message, without the TCP length)
#include "dnssd/tsig.h"

#include <gtest/gtest.h>

#include "dnssd/zone_transfer.h"
#include "unit/crypto/test_hex.h"
#include "unit/dnssd/dns_test_message.h"

namespace wgp::dnssd {
namespace {

using wgp::testing::hex;
using namespace wgp::dnssd::testing;

const char kQuery[] =
    "ee3501200001000000000001076578616d706c65036e6574000006000103786672076578616d706c650000fa00"
    "ff00000000003d0b686d61632d7368613235360000006b105c16012c0020b29000d54d2a26a9522e97a02168f4"
    "5b9afa780e07aeec22fe0e996eb8558da3ee3500000000";
const char kQueryAnswer[] =
    "ee3585000001000100000001076578616d706c65036e65740000060001c00c00060001000000000023c00c0a68"
    "6f73746d6173746572c00c000000070000003c0000000a000151800000000003786672076578616d706c650000"
    "fa00ff00000000003d0b686d61632d7368613235360000006b105c16012c002019aec9eabc993269b33732206e"
    "41a4ac6db053e1b5941d1d9bc8a9aaf51b6e2cee3500000000";
const char kUpdate[] =
    "ee7d28000001000000010001076578616d706c65036e6574000006000103666f6fc00c00010001000000000004"
    "c000026303786672076578616d706c650000fa00ff00000000003d0b686d61632d7368613235360000006b105c"
    "16012c0020655b4619628524de30f83d2f21c3c85c6662646bb2615c7717ffd8048e737962ee7d00000000";
const char kUpdateAnswer[] =
    "ee7da8000001000000000001076578616d706c65036e6574000006000103786672076578616d706c650000fa00"
    "ff00000000003d0b686d61632d7368613235360000006b105c16012c00209c620a3dab0a4942a449b0b3cc77e2"
    "36b6fbcfb3e95199edfdf090b46a0a51c1ee7d00000000";
const char kIxfr[] =
    "dce001200001000000010001076578616d706c65036e65740000fb0001c00c0006000100000000001600006b10"
    "5b100000000000000000000000000000000003786672076578616d706c650000fa00ff00000000003d0b686d61"
    "632d7368613235360000006b105c23012c0020b644d5e53b1a762830f75fbe55b0306de29f79266e7c22403a44"
    "6ab6b9e3de86dce000000000";
constexpr uint64_t kSigned = 0x6b105c16;      // time signed of the SOA and UPDATE exchanges
constexpr uint64_t kIxfrSigned = 0x6b105c23;  // of the IXFR request

TsigKey key(const char* base64_secret = "8UJ8mLQb2ZfEvSBdWb8XsBx4ENYxnPcQAEmZ4sPcS30=",
            std::string_view name = "xfr.example.") {
  std::vector<uint8_t> raw(64);
  size_t size = 0;
  std::string b64(base64_secret);
  EXPECT_EQ(sodium_base642bin(raw.data(), raw.size(), b64.data(), b64.size(), nullptr, &size,
                              nullptr, sodium_base64_VARIANT_ORIGINAL),
            0);
  raw.resize(size);
  return TsigKey{testing::name(name), *HmacKey::from_bytes(raw)};
}

// `message` without its TSIG record: what the signer had before signing.
Bytes unsigned_part(const Bytes& message) {
  TsigRecord t;
  EXPECT_EQ(find_tsig(message, t), TsigFind::kFound);
  Bytes out(message.begin(), message.begin() + std::ptrdiff_t(t.start));
  store_be16(out.data() + 10, uint16_t(load_be16(out.data() + 10) - 1));
  return out;
}

TEST(Tsig, ReadsTheRecordKdigWrote) {
  TsigRecord t;
  Bytes q = hex(kQuery);
  ASSERT_EQ(find_tsig(q, t), TsigFind::kFound);
  EXPECT_EQ(Bytes(t.key_name.begin(), t.key_name.begin() + t.key_name_size), name("xfr.example."));
  EXPECT_EQ(Bytes(t.algorithm.begin(), t.algorithm.begin() + t.algorithm_size),
            name("hmac-sha256."));
  EXPECT_EQ(t.time_signed, kSigned);
  EXPECT_EQ(t.fudge, 300);
  EXPECT_EQ(t.mac.size(), 32u);
  EXPECT_EQ(t.original_id, 0xee35);
  EXPECT_EQ(t.error, 0);
  EXPECT_TRUE(t.other.empty());
  EXPECT_EQ(t.start, 29u);  // after the header and the question
}

TEST(Tsig, VerifiesKdigAndKnsupdateRequests) {
  TsigKey k = key();
  for (const char* request : {kQuery, kUpdate}) {
    TsigSession server(k);
    EXPECT_EQ(server.verify(hex(request), kSigned), TsigVerdict::kOk);
    EXPECT_EQ(server.messages(), 1u);
  }
  TsigSession ixfr(k);
  EXPECT_EQ(ixfr.verify(hex(kIxfr), kIxfrSigned + 299), TsigVerdict::kOk);
}

TEST(Tsig, VerifiesKnotdAnswersAsTheClient) {
  TsigKey k = key();
  for (auto [request, answer] : {std::pair{kQuery, kQueryAnswer}, {kUpdate, kUpdateAnswer}}) {
    TsigSession client(k);
    // Verifying the request is how a client's session learns the request MAC.
    ASSERT_EQ(client.verify(hex(request), kSigned), TsigVerdict::kOk);
    EXPECT_EQ(client.verify(hex(answer), kSigned), TsigVerdict::kOk);
    // The answer is tied to its request: under another request's MAC it fails.
    TsigSession other(k);
    ASSERT_EQ(other.verify(hex(request == kQuery ? kUpdate : kQuery), kSigned), TsigVerdict::kOk);
    EXPECT_EQ(other.verify(hex(answer), kSigned), TsigVerdict::kBadSig);
  }
}

// Our signer reproduces kdig's request and knotd's answer byte for byte.
TEST(Tsig, SignsExactlyAsKdigAndKnotd) {
  TsigKey k = key();
  Bytes request = unsigned_part(hex(kQuery));
  TsigSession client(k);
  client.sign(request, kSigned);
  EXPECT_EQ(to_hex(request), kQuery);

  TsigSession server(k);
  ASSERT_EQ(server.verify(hex(kQuery), kSigned), TsigVerdict::kOk);
  Bytes answer = unsigned_part(hex(kQueryAnswer));
  server.sign(answer, kSigned);
  EXPECT_EQ(to_hex(answer), kQueryAnswer);
  EXPECT_EQ(hex(kQueryAnswer).size() - unsigned_part(hex(kQueryAnswer)).size() + 6,
            server.record_size());  // record_size() leaves room for BADTIME's other data
}

TEST(Tsig, RefusesWhatIsNotRight) {
  TsigKey k = key();
  Bytes q = hex(kQuery);
  // Another secret, another key name, a changed byte, the clock.
  TsigKey wrong_secret = key("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
  EXPECT_EQ(TsigSession(wrong_secret).verify(q, kSigned), TsigVerdict::kBadSig);
  TsigKey wrong_name = key("8UJ8mLQb2ZfEvSBdWb8XsBx4ENYxnPcQAEmZ4sPcS30=", "other.example.");
  EXPECT_EQ(TsigSession(wrong_name).verify(q, kSigned), TsigVerdict::kBadKey);
  Bytes changed = q;
  changed[13] ^= 0x20;  // 'e' of the question -> 'E': the MAC covers letter case
  EXPECT_EQ(TsigSession(k).verify(changed, kSigned), TsigVerdict::kBadSig);
  EXPECT_EQ(TsigSession(k).verify(q, kSigned + 301), TsigVerdict::kBadTime);
  EXPECT_EQ(TsigSession(k).verify(q, kSigned - 301), TsigVerdict::kBadTime);
  EXPECT_EQ(TsigSession(k).verify(q, kSigned + 300), TsigVerdict::kOk);
  // The key name matches in any letter case (canonical form in the MAC).
  Bytes upper = q;
  upper[29 + 1] = 'X';  // xfr -> Xfr in the TSIG owner
  EXPECT_EQ(TsigSession(k).verify(upper, kSigned), TsigVerdict::kOk);
  // No TSIG at all.
  Bytes plain = unsigned_part(q);
  EXPECT_EQ(TsigSession(k).verify(plain, kSigned), TsigVerdict::kMissing);
  // A truncated MAC (16 bytes, MAC size field adjusted): BADTRUNC; 8: FORMERR.
  for (auto [size, verdict] :
       {std::pair{16, TsigVerdict::kBadTrunc}, {8, TsigVerdict::kMalformed}}) {
    Bytes cut = plain;
    Bytes rdata = cat(name("hmac-sha256."), hex("00006b105c16012c"));
    put16(rdata, uint16_t(size));
    rdata = cat(rdata, Bytes(q.end() - 38, q.end() - 38 + size));
    rdata = cat(rdata, hex("ee3500000000"));
    cut = cat(cut, record(name("xfr.example."), kTypeTsig, rdata, kClassAny));
    store_be16(cut.data() + 10, 1);
    EXPECT_EQ(TsigSession(k).verify(cut, kSigned), verdict) << size;
  }
}

TEST(Tsig, MisplacedOrMalformedRecords) {
  Bytes q = hex(kQuery);
  TsigRecord t;
  ASSERT_EQ(find_tsig(q, t), TsigFind::kFound);
  Bytes tsig(q.begin() + 29, q.end());
  Message m;
  m.flags = 0;
  m.questions = {question(name("example.net."), kTypeSoa)};
  // In ANSWER, not last in ADDITIONAL, twice, trailing bytes, short RDATA.
  m.answers = {tsig};
  EXPECT_EQ(find_tsig(m.wire(), t), TsigFind::kMalformed);
  m.answers.clear();
  m.additional = {tsig, opt()};
  EXPECT_EQ(find_tsig(m.wire(), t), TsigFind::kMalformed);
  m.additional = {tsig, tsig};
  EXPECT_EQ(find_tsig(m.wire(), t), TsigFind::kMalformed);
  m.additional = {tsig};
  EXPECT_EQ(find_tsig(m.wire(), t), TsigFind::kFound);
  EXPECT_EQ(find_tsig(cat(m.wire(), {0}), t), TsigFind::kMalformed);
  Bytes short_rdata = tsig;
  store_be16(short_rdata.data() + 14 + 8, uint16_t(load_be16(short_rdata.data() + 14 + 8) - 1));
  short_rdata.pop_back();
  m.additional = {short_rdata};
  EXPECT_EQ(find_tsig(m.wire(), t), TsigFind::kMalformed);
  // Counts beyond the message, a cut header: malformed, never a read past the end.
  Bytes lie = q;
  store_be16(lie.data() + 10, 40);
  EXPECT_EQ(find_tsig(lie, t), TsigFind::kMalformed);
  EXPECT_EQ(find_tsig(Bytes(q.begin(), q.begin() + 11), t), TsigFind::kMalformed);
  // No TSIG: kNone, also with an OPT.
  m.additional = {opt()};
  EXPECT_EQ(find_tsig(m.wire(), t), TsigFind::kNone);
}

// A transfer: request, then several answer messages, MACs chained (§5.3.1).
TEST(Tsig, MultiMessageChainSignedAndVerified) {
  TsigKey k = key();
  TsigSession client(k), server(k);
  Bytes request = unsigned_part(hex(kIxfr));
  client.sign(request, 1000);
  ASSERT_EQ(server.verify(request, 1000), TsigVerdict::kOk);
  std::vector<Bytes> answers;
  for (int i = 0; i < 4; ++i) {
    Message m;
    m.id = 0xdce0;
    m.answers = {record(name("example.net."), kTypeNs, name("ns" + std::to_string(i) + "."))};
    answers.push_back(m.wire());
    server.sign(answers.back(), 1000 + uint64_t(i));
  }
  {
    TsigSession c = client;  // a copy: the chain from here
    for (const Bytes& a : answers) EXPECT_EQ(c.verify(a, 1002), TsigVerdict::kOk);
    EXPECT_EQ(c.messages(), 5u);
  }
  {  // one message left out: the next one does not chain
    TsigSession c = client;
    EXPECT_EQ(c.verify(answers[0], 1002), TsigVerdict::kOk);
    EXPECT_EQ(c.verify(answers[2], 1002), TsigVerdict::kBadSig);
  }
  {  // a later message first
    TsigSession c = client;
    EXPECT_EQ(c.verify(answers[1], 1002), TsigVerdict::kBadSig);
  }
  {  // one byte of the third message changed
    TsigSession c = client;
    Bytes bad = answers[2];
    bad[13] ^= 0x20;  // a letter of the answer's owner
    EXPECT_EQ(c.verify(answers[0], 1002), TsigVerdict::kOk);
    EXPECT_EQ(c.verify(answers[1], 1002), TsigVerdict::kOk);
    EXPECT_EQ(c.verify(bad, 1002), TsigVerdict::kBadSig);
  }
}

TEST(Tsig, ErrorAnswers) {
  TsigKey k = key();
  // BADSIG: unsigned (MAC size 0), NOTAUTH; the client sees the peer's error.
  TsigSession client(k);
  Bytes request = unsigned_part(hex(kQuery));
  client.sign(request, kSigned);
  ParsedQuery q;
  ASSERT_EQ(parse_query(request, q), QueryParse::kOk);
  Bytes refusal = build_transfer_error(q, kRcodeNotAuth);
  TsigSession(k).append_error(refusal, kSigned, TsigError::kBadSig);
  TsigRecord t;
  ASSERT_EQ(find_tsig(refusal, t), TsigFind::kFound);
  EXPECT_TRUE(t.mac.empty());
  EXPECT_EQ(t.error, uint16_t(TsigError::kBadSig));
  EXPECT_EQ(refusal[3] & 0x0F, kRcodeNotAuth);
  EXPECT_EQ(TsigSession(client).verify(refusal, kSigned), TsigVerdict::kPeerError);
  // BADTIME: signed, with our time as other data; the client's MAC check passes.
  TsigSession server(k);
  EXPECT_EQ(server.verify(request, kSigned + 1000), TsigVerdict::kBadTime);
  Bytes late = build_transfer_error(q, kRcodeNotAuth);
  server.sign(late, kSigned + 1000, TsigError::kBadTime);
  ASSERT_EQ(find_tsig(late, t), TsigFind::kFound);
  EXPECT_EQ(t.error, uint16_t(TsigError::kBadTime));
  ASSERT_EQ(t.other.size(), 6u);
  EXPECT_EQ(load_be32(t.other.data() + 2), uint32_t(kSigned + 1000));
  EXPECT_EQ(TsigSession(client).verify(late, kSigned + 1000), TsigVerdict::kPeerError);
}

}  // namespace
}  // namespace wgp::dnssd
