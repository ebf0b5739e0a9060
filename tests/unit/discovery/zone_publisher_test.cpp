// The registry as a hidden primary (discovery/zone_publisher.h) in simulated
// time: a registry (host b of SimNetwork) with one peer (a) and a secondary
// at 203.0.113.9, TSIG key xfr.example.: versions at most once a second with
// the serial policy of dnssd/serial.h, signed NOTIFYs retried until a signed
// acknowledgement, the secondary's signed queries answered and signed,
// transfers over the stream as signed, chained messages; unsigned or wrongly
// signed requests get nothing or NOTAUTH.
#include "discovery/zone_publisher.h"

#include <gtest/gtest.h>

#include "discovery/dnssd_roles.h"
#include "dnssd/serial.h"
#include "dnssd/tsig.h"
#include "dnssd/zone_notify.h"
#include "support/sim_network.h"
#include "unit/discovery/roles_test_util.h"
#include "unit/dnssd/dns_test_message.h"

namespace wgp::testing {
namespace {

using namespace std::chrono_literals;
using dnssd::TsigSession;
using dnssd::TsigVerdict;
using dnssd::testing::Bytes;
using dnssd::testing::Message;
using dnssd::testing::name;
using dnssd::testing::question;

const Endpoint kSecondary = *Endpoint::parse("203.0.113.9:53");
constexpr uint64_t kStart = 1700000000;  // SimNetwork's wall clock at the start

std::vector<uint8_t> secret_bytes(uint8_t fill) { return std::vector<uint8_t>(32, fill); }

class ZonePublisherTest : public ::testing::Test {
 protected:
  ZonePublisherTest()
      : key{name("xfr.example."), *HmacKey::from_bytes(secret_bytes(0x42))},
        wrong_key{name("xfr.example."), *HmacKey::from_bytes(secret_bytes(0x43))} {
    Config c;
    c.addresses.push_back(*InterfaceAddress::parse("10.0.0.2/24"));
    c.registry = RegistryConfig{"example.net.", false};
    c.registry->secondaries = {kSecondary};
    c.registry->transfer_key = std::make_shared<const TransferKey>(
        TransferKey{"xfr.example.", *HmacKey::from_bytes(secret_bytes(0x42))});
    roles =
        std::make_unique<DnssdRoles>(c, net.b.device, rng, [this](const Endpoint& to, ByteView d) {
          sent.push_back({net.b.addr, to, Bytes(d.begin(), d.end())});
        });
    roles->start(net.now());
  }

  ZonePublisher& publisher() { return *roles->publisher(); }
  uint64_t unix_now() const {
    return uint64_t(
        std::chrono::duration_cast<std::chrono::seconds>(net.now().wall.time_since_epoch())
            .count());
  }
  void advance(Duration d) { advance_roles(net, *roles, d); }
  std::string status(const char* key) { return roles_status(*roles, key); }
  // NOTIFYs sent to the secondary since `from`.
  std::vector<Bytes> notifies(size_t from = 0) {
    std::vector<Bytes> out;
    for (size_t i = from; i < sent.size(); ++i)
      if (sent[i].to == kSecondary) out.push_back(sent[i].bytes);
    return out;
  }
  // The serial in a NOTIFY's SOA (the last 20 bytes of RDATA start with it).
  static uint32_t notify_serial(const Bytes& n) {
    dnssd::TsigRecord t;
    EXPECT_EQ(dnssd::find_tsig(n, t), dnssd::TsigFind::kFound);
    return load_be32(n.data() + t.start - 20);
  }
  // A query from the secondary, signed with `k` (or not), and its session.
  Bytes query(const char* qname, uint16_t qtype, const dnssd::TsigKey* k, TsigSession* session) {
    Message m;
    m.id = 0x7777;
    m.flags = 0;
    m.questions = {question(name(qname), qtype)};
    Bytes q = m.wire();
    if (k) session->sign(q, unix_now());
    return q;
  }
  // The framed stream answer to `q`, split into messages.
  std::vector<Bytes> stream(const Bytes& q) {
    std::vector<uint8_t> out;
    publisher().handle_stream(q, kSecondary.address, net.now(), out);
    std::vector<Bytes> messages;
    for (size_t at = 0; at + 2 <= out.size();) {
      size_t n = load_be16(&out[at]);
      messages.emplace_back(out.begin() + std::ptrdiff_t(at + 2),
                            out.begin() + std::ptrdiff_t(at + 2 + n));
      at += 2 + n;
    }
    return messages;
  }

  SimNetwork net;
  SeededRandom rng{7};
  dnssd::TsigKey key, wrong_key;
  std::vector<Datagram> sent;
  std::unique_ptr<DnssdRoles> roles;
};

TEST_F(ZonePublisherTest, FirstVersionAtStartAndAnotherASecondLater) {
  EXPECT_EQ(publisher().serial(), kStart);
  EXPECT_EQ(status("registry_zone_serial"), std::to_string(kStart));
  EXPECT_TRUE(notifies().empty());
  EXPECT_EQ(roles->next_deadline(), net.now().mono + 1s);
  advance(1s);
  // Nothing changed, yet a new serial: a restart within the last commit's
  // second must not reuse it for other records.
  EXPECT_EQ(publisher().serial(), kStart + 1);
  auto n = notifies();
  ASSERT_EQ(n.size(), 1u);
  EXPECT_EQ(notify_serial(n[0]), kStart + 1);
  TsigSession secondary(key);
  EXPECT_EQ(secondary.verify(n[0], unix_now()), TsigVerdict::kOk);
  EXPECT_EQ(TsigSession(wrong_key).verify(n[0], unix_now()), TsigVerdict::kBadSig);
}

TEST_F(ZonePublisherTest, NotifyRetriedUntilASignedAcknowledgement) {
  advance(1s);
  ASSERT_EQ(notifies().size(), 1u);
  // No answer: again after 1, 2, 4 and 8 s, then no more (5 sends; given
  // up 16 s after the last).
  advance(20s);
  EXPECT_EQ(notifies().size(), 5u);
  advance(15s);
  EXPECT_EQ(notifies().size(), 5u);
  EXPECT_EQ(status("registry_zone_notifies_unanswered"), "1");
  // A new version: a new NOTIFY; an unsigned acknowledgement is ignored, a
  // signed one ends the retries.
  net.a_sends();  // a handshakes: the registry publishes it
  net.run();
  advance(1s);
  auto n = notifies(0);
  ASSERT_EQ(n.size(), 6u);
  Bytes ack = n.back();
  dnssd::TsigRecord t;
  ASSERT_EQ(dnssd::find_tsig(ack, t), dnssd::TsigFind::kFound);
  ack.resize(t.start);
  store_be16(ack.data() + 10, 0);
  ack[2] |= 0x80;                                       // QR
  roles->receive_datagram(ack, kSecondary, net.now());  // unsigned: ignored
  advance(1500ms);
  EXPECT_EQ(notifies().size(), 7u);
  TsigSession secondary(key);
  ASSERT_EQ(secondary.verify(notifies().back(), unix_now()), TsigVerdict::kOk);
  Bytes signed_ack = ack;
  secondary.sign(signed_ack, unix_now());
  // Signed, but from another port than the NOTIFY went to: not an answer.
  roles->receive_datagram(signed_ack, Endpoint{kSecondary.address, 40000}, net.now());
  EXPECT_EQ(status("registry_zone_notifies_acknowledged"), "0");
  roles->receive_datagram(signed_ack, kSecondary, net.now());
  advance(20s);
  EXPECT_EQ(notifies().size(), 7u);
  EXPECT_EQ(status("registry_zone_notifies_acknowledged"), "1");
}

TEST_F(ZonePublisherTest, VersionsAtMostOncePerSecondAndOnlyOnChange) {
  advance(2s);
  uint32_t serial = publisher().serial();
  size_t sent_before = notifies().size();
  // Nothing published changed: no version.
  advance(3s);
  EXPECT_EQ(publisher().serial(), serial);
  // a handshakes, then roams twice within the second: one version.
  net.a_sends();
  net.run();
  advance(100ms);
  uint32_t after_first = publisher().serial();
  EXPECT_TRUE(dnssd::serial_less(serial, after_first));
  for (const char* at : {"192.0.2.1:40000", "192.0.2.1:40001"}) {
    net.a.addr = *Endpoint::parse(at);
    net.a_sends();
    net.run();
    advance(100ms);
    EXPECT_EQ(publisher().serial(), after_first) << "a second version within the second";
  }
  advance(1s);
  EXPECT_EQ(publisher().serial(), after_first + 1);
  // Serials follow the clock, never ahead of it.
  EXPECT_LE(publisher().serial(), unix_now());
  EXPECT_GE(notifies().size(), sent_before + 2);
  // The registry's own SOA carries the latest serial.
  TsigSession s(key);
  roles->receive_datagram(query("example.net.", dnssd::kTypeSoa, &key, &s), kSecondary, net.now());
  ASSERT_FALSE(sent.empty());
  EXPECT_EQ(s.verify(sent.back().bytes, unix_now()), TsigVerdict::kOk);
  dnssd::TsigRecord t;
  ASSERT_EQ(dnssd::find_tsig(sent.back().bytes, t), dnssd::TsigFind::kFound);
  EXPECT_EQ(load_be32(sent.back().bytes.data() + t.start - 20), publisher().serial());
}

TEST_F(ZonePublisherTest, SecondaryQueriesOverUdp) {
  // Signed: answered and signed for this request.
  TsigSession s(key);
  size_t before = sent.size();
  roles->receive_datagram(query("example.net.", dnssd::kTypeSoa, &key, &s), kSecondary, net.now());
  ASSERT_EQ(sent.size(), before + 1);
  EXPECT_EQ(sent.back().to, kSecondary);
  EXPECT_EQ(s.verify(sent.back().bytes, unix_now()), TsigVerdict::kOk);
  // Unsigned while a key is set: the registry's own rules, which give a
  // stranger (not a peer's endpoint, Public = no) silence.
  roles->receive_datagram(query("example.net.", dnssd::kTypeSoa, nullptr, nullptr), kSecondary,
                          net.now());
  EXPECT_EQ(sent.size(), before + 1);
  // Another secret: NOTAUTH with BADSIG, unsigned.
  TsigSession w(wrong_key);
  roles->receive_datagram(query("example.net.", dnssd::kTypeSoa, &wrong_key, &w), kSecondary,
                          net.now());
  ASSERT_EQ(sent.size(), before + 2);
  EXPECT_EQ(sent.back().bytes[3] & 0x0F, dnssd::kRcodeNotAuth);
  dnssd::TsigRecord t;
  ASSERT_EQ(dnssd::find_tsig(sent.back().bytes, t), dnssd::TsigFind::kFound);
  EXPECT_EQ(t.error, uint16_t(dnssd::TsigError::kBadSig));
  EXPECT_TRUE(t.mac.empty());
}

TEST_F(ZonePublisherTest, TransfersOverTheStream) {
  net.a_sends();
  net.run();
  advance(1500ms);
  uint32_t serial = publisher().serial();
  // AXFR: signed, every message verifies in the chain; a's SRV is in it.
  TsigSession client(key);
  auto messages = stream(query("example.net.", dnssd::kTypeAxfr, &key, &client));
  ASSERT_FALSE(messages.empty());
  std::string all;
  for (const Bytes& m : messages) {
    EXPECT_EQ(client.verify(m, unix_now()), TsigVerdict::kOk);
    all.append(m.begin(), m.end());
  }
  uint8_t port[2];
  store_be16(port, net.a.addr.port);
  std::string srv_fixed = {0, 0, 0, 0, char(port[0]), char(port[1])};
  EXPECT_NE(all.find(srv_fixed), std::string::npos) << "no SRV with a's port";
  EXPECT_EQ(status("registry_transfers_axfr"), "1");
  // IXFR from the current serial: the SOA alone.
  Message m;
  m.id = 9;
  m.flags = 0;
  m.questions = {question(name("example.net."), dnssd::kTypeIxfr)};
  Bytes soa_rdata = dnssd::testing::cat(name("."), name("."));
  soa_rdata.resize(soa_rdata.size() + 20);
  store_be32(soa_rdata.data() + 2, serial);
  m.authority = {dnssd::testing::record(name("example.net."), dnssd::kTypeSoa, soa_rdata)};
  Bytes ixfr = m.wire();
  TsigSession c2(key);
  c2.sign(ixfr, unix_now());
  messages = stream(ixfr);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(c2.verify(messages[0], unix_now()), TsigVerdict::kOk);
  EXPECT_EQ(load_be16(messages[0].data() + 6), 1u);  // ANCOUNT: the SOA
  EXPECT_EQ(status("registry_transfers_ixfr"), "1");
  // Unsigned: nothing (the connection closes). Another key: NOTAUTH.
  EXPECT_TRUE(stream(query("example.net.", dnssd::kTypeAxfr, nullptr, nullptr)).empty());
  TsigSession w(wrong_key);
  messages = stream(query("example.net.", dnssd::kTypeAxfr, &wrong_key, &w));
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0][3] & 0x0F, dnssd::kRcodeNotAuth);
  // Another zone: NOTAUTH, signed.
  TsigSession c3(key);
  messages = stream(query("example.org.", dnssd::kTypeAxfr, &key, &c3));
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0][3] & 0x0F, dnssd::kRcodeNotAuth);
  EXPECT_EQ(c3.verify(messages[0], unix_now()), TsigVerdict::kOk);
  EXPECT_EQ(status("registry_transfers_refused"), "3");  // unsigned, wrong key, other zone
  EXPECT_EQ(status("registry_transfer_key"), "xfr.example. (hmac-sha256)");
}

}  // namespace
}  // namespace wgp::testing

namespace wgp::testing {
namespace {

// Without secondaries the registry still versions its zone (the serial of
// its answers follows changes), keeping a digest instead of the records.
TEST(ZonePublisherAlone, VersionsOnChangeWithoutSecondaries) {
  SimNetwork net;
  SeededRandom rng{9};
  Config c;
  c.addresses.push_back(*InterfaceAddress::parse("10.0.0.2/24"));
  c.registry = RegistryConfig{"example.net.", false};
  std::vector<Datagram> sent;
  DnssdRoles roles(c, net.b.device, rng, [&](const Endpoint& to, ByteView d) {
    sent.push_back({net.b.addr, to, Bytes(d.begin(), d.end())});
  });
  roles.start(net.now());
  auto step = [&](Duration d) {
    for (Duration done{}; done < d; done += 50ms) {
      net.advance(50ms);
      roles.run_timers(net.now());
    }
  };
  ZonePublisher& p = *roles.publisher();
  EXPECT_EQ(p.serial(), kStart);
  step(1s);
  EXPECT_EQ(p.serial(), kStart + 1);  // the forced second version
  step(5s);
  EXPECT_EQ(p.serial(), kStart + 1);  // nothing changed
  net.a_sends();
  net.run();
  step(100ms);
  EXPECT_EQ(p.serial(), kStart + 6);  // a published: the clock's serial
  EXPECT_TRUE(sent.empty());          // no NOTIFY to anyone
  ExtraFields s;
  roles.add_status(s);
  ASSERT_FALSE(s.empty());
  bool has_secondaries = false;
  for (const auto& [k, v] : s) has_secondaries |= k == "registry_secondaries";
  EXPECT_FALSE(has_secondaries);
}

}  // namespace
}  // namespace wgp::testing
