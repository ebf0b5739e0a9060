// wgsd's records in the registry's zone (DESIGN.md §11): the TXT at each
// instance name, byte for byte as wgsd writes it; its place in an SRV
// answer (the address first, then the TXT); names; the registry's own
// record (Self); and the plain-DNS size rule with all of it. Responses are
// read back with ldns.
#include <gtest/gtest.h>

#include "dnssd/base32.h"
#include "dnssd/peer_txt.h"
#include "dnssd/responder.h"
#include "unit/dnssd/responder_test_util.h"

namespace wgp::dnssd {
namespace {

using namespace wgp::dnssd::testing;

IpPrefix prefix(const char* text) { return *IpPrefix::parse(text); }

// The key of RFC 7748 §6.1 Bob, whose base64 everyone can check.
PublicKey bob_key() {
  return *public_key_from_base64("3p7bfXt9wbTTW2HC7OQ1Nz+DQ8hbeGdNrfx+FG+IK08=");
}

std::string as_text(const std::vector<uint8_t>& b) { return std::string(b.begin(), b.end()); }

TEST(PeerTxt, WgsdBytesExactly) {
  PeerTxt txt{bob_key(), {prefix("10.0.0.2/32"), prefix("fd00::2/128")}, ""};
  // wgsd's getTXTRR: three strings, each a length byte and the text.
  std::string expected = std::string("\x09") + "txtvers=1" + "\x30" +
                         "pub=3p7bfXt9wbTTW2HC7OQ1Nz+DQ8hbeGdNrfx+FG+IK08=" + "\x1f" +
                         "allowed=10.0.0.2/32,fd00::2/128";
  EXPECT_EQ(as_text(build_peer_txt(txt)), expected);
  txt.name = "alice";
  EXPECT_EQ(as_text(build_peer_txt(txt)), expected + "\x0a" + "name=alice");
  txt.allowed.clear();  // wgsd writes the key with nothing after it
  EXPECT_EQ(as_text(build_peer_txt(txt)).substr(59, 9), std::string("\x08") + "allowed=");
}

TEST(PeerTxt, AllowedKeepsWholePrefixesThatFitOneString) {
  std::vector<IpPrefix> many;
  for (int i = 0; i < 40; ++i)
    many.push_back(prefix(("10.0." + std::to_string(i) + ".0/24").c_str()));
  std::vector<uint8_t> rdata = build_peer_txt({bob_key(), many, "alice"});
  // txtvers (10 bytes) and pub= (49), then allowed=: one string of at most
  // 255 bytes with whole prefixes, then name= still whole after it.
  ASSERT_GT(rdata.size(), 60u);
  size_t len = rdata[59];
  ASSERT_LE(60 + len, rdata.size());
  std::string allowed(rdata.begin() + 60, rdata.begin() + 60 + long(len));
  EXPECT_LE(len, 255u);
  EXPECT_EQ(len, 244u);  // 19 whole /24s; a 20th would make it 256
  EXPECT_EQ(allowed.rfind("allowed=10.0.0.0/24,10.0.1.0/24,", 0), 0u);
  EXPECT_EQ(allowed.substr(allowed.size() - 13), ",10.0.18.0/24") << allowed;
  EXPECT_EQ(as_text({rdata.begin() + 60 + long(len), rdata.end()}),
            std::string("\x0a") + "name=alice");
}

class MeshRecords : public ::testing::Test {
 protected:
  MeshRecords() : responder(kZone), out(65535) {
    PublishedPeer alice = peer(1, "198.51.100.7:51820");
    alice.allowed = {prefix("10.0.0.1/32"), prefix("fd00::1/128"), prefix("10.1.0.0/16")};
    alice.name = "alice";
    PublishedPeer bob = peer(2, "[2001:db8::2]:4500");
    bob.allowed = {prefix("10.0.0.2/32")};
    responder.set_peers({alice, bob});
    responder.set_serial(7);
  }
  Reply ask(const std::vector<uint8_t>& query, std::optional<IpAddress> local = std::nullopt,
            size_t limit = 65535) {
    auto r = responder.answer(query, QueryAccess::kAllowed, MutableByteView(out.data(), limit),
                              Transport::kDatagram, local);
    EXPECT_GT(r.length, 0u);
    return parse(std::vector<uint8_t>(out.begin(), out.begin() + r.length));
  }
  static std::string instance(int n) {
    return peer_label(key_n(n)) + "._wireguard._udp.example.net.";
  }
  static std::string host(int n) { return peer_label(key_n(n)) + ".example.net."; }
  static std::string b64(int n) { return key_to_base64(key_n(n)); }

  Responder responder;
  std::vector<uint8_t> out;
};

TEST_F(MeshRecords, TxtAtTheInstanceName) {
  Reply r = ask(make_query(instance(1), kTypeTxt));
  ASSERT_EQ(r.answer.size(), 1u);
  EXPECT_EQ(r.answer[0], instance(1) + " 0 IN TXT \"txtvers=1\" \"pub=" + b64(1) +
                             "\" \"allowed=10.0.0.1/32,fd00::1/128,10.1.0.0/16\" \"name=alice\"");
  Reply bob = ask(make_query(instance(2), kTypeTxt));
  ASSERT_EQ(bob.answer.size(), 1u);
  EXPECT_EQ(bob.answer[0],
            instance(2) + " 0 IN TXT \"txtvers=1\" \"pub=" + b64(2) + "\" \"allowed=10.0.0.2/32\"");
  // Not at the host name (wgsd has it at the instance only): NODATA.
  Reply none = ask(make_query(host(1), kTypeTxt));
  EXPECT_EQ(none.rcode, kRcodeNoError);
  EXPECT_TRUE(none.answer.empty());
  ASSERT_EQ(none.authority.size(), 1u);
}

TEST_F(MeshRecords, SrvAdditionalHoldsTheAddressFirstThenTheTxt) {
  Reply r = ask(make_query(instance(1), kTypeSrv, {.edns = Edns{}}));
  ASSERT_EQ(r.answer.size(), 1u);
  ASSERT_EQ(r.additional.size(), 2u);
  EXPECT_EQ(r.additional[0], host(1) + " 0 IN A 198.51.100.7");  // the stock wgsd-client's Extra[0]
  EXPECT_EQ(r.additional[1].rfind(instance(1) + " 0 IN TXT \"txtvers=1\"", 0), 0u)
      << r.additional[1];
  // With candidates too: every address before the TXT.
  PublishedPeer alice = peer(1, "198.51.100.7:51820");
  alice.candidates = {*IpAddress::parse("10.9.0.7")};
  alice.candidate_port = 51820;
  responder.set_peers({alice});
  Reply c = ask(make_query(instance(1), kTypeSrv));
  ASSERT_EQ(c.additional.size(), 3u);
  EXPECT_EQ(c.additional[0], host(1) + " 0 IN A 198.51.100.7");
  EXPECT_EQ(c.additional[1], "c." + host(1) + " 0 IN A 10.9.0.7");
  EXPECT_NE(c.additional[2].find(" IN TXT "), std::string::npos);
}

TEST_F(MeshRecords, AnyAtTheInstanceHoldsTheTxtOnce) {
  Reply r = ask(make_query(instance(1), kTypeAny));
  ASSERT_EQ(r.answer.size(), 3u);  // SRV, A, TXT
  EXPECT_NE(r.answer[2].find(" IN TXT "), std::string::npos);
  for (const std::string& a : r.additional) EXPECT_EQ(a.find(" IN TXT "), std::string::npos) << a;
}

TEST_F(MeshRecords, NamesGiveTheTunnelAddresses) {
  Reply a = ask(make_query("alice.example.net", kTypeA));
  ASSERT_EQ(a.answer.size(), 1u);
  EXPECT_EQ(a.answer[0], "alice.example.net. 0 IN A 10.0.0.1");  // the /16 is no host
  Reply aaaa = ask(make_query("ALICE.example.net", kTypeAaaa));
  ASSERT_EQ(aaaa.answer.size(), 1u);
  EXPECT_EQ(aaaa.answer[0], "ALICE.example.net. 0 IN AAAA fd00::1");
  Reply none = ask(make_query("bob.example.net", kTypeA));
  EXPECT_EQ(none.rcode, kRcodeNxDomain);
  // A name lookup is no lookup of the peer's endpoint: no NOTIFY for it.
  auto r = responder.answer(make_query("alice.example.net", kTypeA), QueryAccess::kAllowed, out);
  EXPECT_FALSE(r.asked_about);
}

TEST_F(MeshRecords, TransfersCarryTxtAndNames) {
  RecordList all;
  responder.zone_view().all_records(all);
  size_t txt = 0, named = 0;
  for (size_t i = 0; i < all.size(); ++i) {
    if (all[i].type == kTypeTxt) ++txt;
    if (all[i].owner.size() > 6 && all[i].owner[0] == 5 &&
        std::string_view(reinterpret_cast<const char*>(all[i].owner.data()) + 1, 5) == "alice")
      ++named;
  }
  EXPECT_EQ(txt, 2u);
  EXPECT_EQ(named, 2u);  // A and AAAA
}

TEST_F(MeshRecords, SelfWithoutSelfEndpointIsAtTheAddressTheQueryCameTo) {
  PublishedPeer self;
  self.key = key_n(9);
  self.endpoint.port = 51820;
  self.at_local_address = true;
  self.allowed = {prefix("10.0.0.254/32")};
  responder.set_peers({peer(1, "198.51.100.7:51820"), self});
  auto v4 = *IpAddress::parse("203.0.113.1");
  Reply r = ask(make_query(instance(9), kTypeSrv), v4);
  ASSERT_EQ(r.answer.size(), 1u);
  EXPECT_EQ(r.answer[0], instance(9) + " 0 IN SRV 0 0 51820 " + host(9));
  EXPECT_EQ(r.additional[0], host(9) + " 0 IN A 203.0.113.1");
  // Cached per address: another address the query came to, another answer.
  Reply other = ask(make_query(instance(9), kTypeSrv), *IpAddress::parse("192.0.2.77"));
  EXPECT_EQ(other.additional[0], host(9) + " 0 IN A 192.0.2.77");
  Reply six = ask(make_query(host(9), kTypeAaaa), *IpAddress::parse("2001:db8::1"));
  ASSERT_EQ(six.answer.size(), 1u);
  EXPECT_EQ(six.answer[0], host(9) + " 0 IN AAAA 2001:db8::1");
  Reply ptr = ask(make_query("_wireguard._udp.example.net", kTypePtr), v4);
  EXPECT_EQ(ptr.answer.size(), 2u);
  // A transfer has no address the query came to: the self record is left out.
  RecordList all;
  responder.zone_view().all_records(all);
  size_t ptrs = 0;
  for (size_t i = 0; i < all.size(); ++i) ptrs += all[i].type == kTypePtr;
  EXPECT_EQ(ptrs, 1u);
}

TEST(MeshRecordsPlain, PlainAnswersStayWithin1232BytesWithTxt) {
  Responder responder(kZone);
  std::vector<PublishedPeer> peers;
  for (int i = 1; i <= 60; ++i) {
    PublishedPeer p = peer(i, "198.51.100.7:51820");
    for (int k = 0; k < 8; ++k)
      p.allowed.push_back(
          *IpPrefix::parse("fd00:" + std::to_string(i) + "::" + std::to_string(k) + "/128"));
    p.name = "n" + std::to_string(i);
    peers.push_back(p);
  }
  responder.set_peers(peers);
  std::vector<uint8_t> out(65535);
  // The registry's plain path passes 1232 bytes whatever the EDNS size says.
  for (uint16_t qtype : {kTypePtr, kTypeSrv, kTypeTxt, kTypeAny}) {
    std::string name = qtype == kTypePtr ? "_wireguard._udp.example.net"
                                         : peer_label(key_n(3)) + "._wireguard._udp.example.net";
    auto r = responder.answer(make_query(name, qtype, {.edns = Edns{.udp_size = 65535}}),
                              QueryAccess::kAllowed, MutableByteView(out.data(), 1232));
    EXPECT_GT(r.length, 0u);
    EXPECT_LE(r.length, 1232u);
    Reply reply = parse(std::vector<uint8_t>(out.begin(), out.begin() + r.length));
    EXPECT_FALSE(reply.answer.empty());
  }
}

}  // namespace
}  // namespace wgp::dnssd
