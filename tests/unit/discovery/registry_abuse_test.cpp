// The registry's control plane under abuse (issue 17 items 4, 5, 6, 7), in
// simulated time: a registry (host b of SimNetwork, tunnel address 10.0.0.2)
// with one peer, a (10.0.0.1), and a listed secondary at 203.0.113.9 without
// a TransferKey. A spoofer sends queries and NOTIFY acknowledgements "from"
// the secondary; a registers candidates it cannot own, too many UPDATEs, and
// a candidate change must reach the secondary as a new zone version.
#include <gtest/gtest.h>

#include "discovery/dnssd_roles.h"
#include "discovery/registry_service.h"
#include "discovery/tunnel_route.h"
#include "discovery/zone_publisher.h"
#include "dnssd/candidate_update.h"
#include "dnssd/discovery_query.h"
#include "dnssd/inner_udp.h"
#include "dnssd/zone_notify.h"
#include "support/sim_network.h"
#include "unit/discovery/roles_test_util.h"
#include "unit/dnssd/dns_test_message.h"

namespace wgp::testing {
namespace {

using namespace std::chrono_literals;
using dnssd::testing::Bytes;
using dnssd::testing::Message;
using dnssd::testing::name;
using dnssd::testing::question;

const Endpoint kSecondary = *Endpoint::parse("203.0.113.9:53");

class RegistryAbuseTest : public ::testing::Test {
 protected:
  RegistryAbuseTest() {
    Config c;
    c.addresses.push_back(*InterfaceAddress::parse("10.0.0.2/24"));
    c.registry = RegistryConfig{"example.net.", false};
    c.registry->secondaries = {kSecondary};
    roles =
        std::make_unique<DnssdRoles>(c, net.b.device, rng, [this](const Endpoint& to, ByteView d) {
          sent.push_back({net.b.addr, to, Bytes(d.begin(), d.end())});
        });
    roles->set_host_addresses({net.b.addr.address, *IpAddress::parse("127.0.0.1")});
    roles->start(net.now());
    // a holds a session with the registry: it is published, and may register.
    net.a_sends();
    net.run();
  }

  void advance(Duration d) { advance_roles(net, *roles, d); }
  std::string status(const char* key) { return roles_status(*roles, key); }
  size_t sent_to(const IpAddress& a, size_t from = 0) const {
    size_t n = 0;
    for (size_t i = from; i < sent.size(); ++i) n += sent[i].to.address == a;
    return n;
  }
  // a's UPDATE of its candidates, as it arrives in the registry's tunnel.
  void update(const std::vector<const char*>& addresses, uint16_t id = 1) {
    dnssd::CandidateSet set{51820, {}};
    for (const char* a : addresses) set.addresses.push_back(*IpAddress::parse(a));
    std::vector<uint8_t> dns;
    ASSERT_TRUE(dnssd::build_candidate_update(id, net.a.public_key(), "example.net.", set, dns));
    std::vector<uint8_t> packet(dnssd::udp_packet_size(IpAddress::Family::kV4, dns.size()));
    size_t n = dnssd::build_udp_packet(*IpAddress::parse("10.0.0.1"), kDnsPort,
                                       *IpAddress::parse("10.0.0.2"), kDnsPort, dns, packet);
    roles->registry()->handle_inner(*net.b_peer, ByteView(packet.data(), n), net.now());
  }
  // The candidate addresses the registry publishes for a (its SRV answer).
  std::vector<std::string> published() {
    std::vector<uint8_t> q;
    EXPECT_TRUE(dnssd::build_query(9, dnssd::instance_name(net.a.public_key(), "example.net."),
                                   dnssd::kQueryTypeSrv, q));
    ByteView answer = roles->registry()->answer_stream_query(q);
    auto parsed = dnssd::parse_srv_response(answer, 9, net.a.public_key(), "example.net.");
    std::vector<std::string> out;
    if (parsed.peer)
      for (const Endpoint& e : parsed.peer->candidates) out.push_back(e.address.to_string());
    return out;
  }

  SimNetwork net;
  SeededRandom rng{7};
  std::vector<Datagram> sent;
  std::unique_ptr<DnssdRoles> roles;
};

// Item 4: a listed secondary's address is no licence to reflect: 200 queries
// spoofed from it (ports of the spoofer's choosing) get the per-address
// budget of answers, bursts of 20.
TEST_F(RegistryAbuseTest, SpoofedQueriesFromASecondaryGetTheBudgetOnly) {
  for (int i = 0; i < 200; ++i) {
    Message m;
    m.id = uint16_t(i);
    m.flags = 0;
    m.questions = {question(name("example.net."), 6)};  // SOA, as a secondary asks
    roles->receive_datagram(m.wire(), Endpoint{kSecondary.address, uint16_t(4000 + i)}, net.now());
  }
  size_t answers = sent_to(kSecondary.address);
  EXPECT_LE(answers, 20u) << answers << " answers reflected at the secondary";
  EXPECT_GT(answers, 0u);  // its own queries are still answered
}

// Item 4: a NOTIFY acknowledgement counts only from the address and port
// the NOTIFY went to: the id is 16 bits, and anyone can send from the
// secondary's address.
TEST_F(RegistryAbuseTest, AnAcknowledgementCountsOnlyFromWhereTheNotifyWent) {
  advance(1100ms);  // the second version: a NOTIFY to the secondary
  size_t notifies = sent_to(kSecondary.address);
  ASSERT_GE(notifies, 1u);
  Bytes ack = sent.back().bytes;
  ASSERT_EQ(sent.back().to, kSecondary);
  ack[2] |= 0x80;  // QR: the acknowledgement, with the right id
  roles->receive_datagram(ack, Endpoint{kSecondary.address, 4444}, net.now());
  EXPECT_EQ(status("registry_zone_notifies_acknowledged"), "0");
  advance(1500ms);
  EXPECT_GT(sent_to(kSecondary.address), notifies)
      << "a spoofed acknowledgement stopped the retries";
  roles->receive_datagram(ack, kSecondary, net.now());
  EXPECT_EQ(status("registry_zone_notifies_acknowledged"), "1");
}

// Item 5: only addresses a peer could own are published as its candidates:
// not loopback, multicast, broadcast, nor the registry's own (host or tunnel).
TEST_F(RegistryAbuseTest, CandidatesAPeerCannotOwnAreRefused) {
  update({"127.0.0.1", "224.0.0.251", "255.255.255.255", "192.0.2.2", "10.0.0.2", "169.254.1.1",
          "198.51.100.5"});
  EXPECT_EQ(published(), std::vector<std::string>{"198.51.100.5"});
  EXPECT_EQ(status("registry_candidates_refused"), "6");
}

// Item 7: UPDATEs have a budget per peer (each costs a parse, a change a
// new zone version); past it they are REFUSED, and the others still pass.
TEST_F(RegistryAbuseTest, UpdatesHaveABudgetPerPeer) {
  for (int i = 0; i < 40; ++i) update({i % 2 ? "198.51.100.5" : "198.51.100.6"}, uint16_t(i + 1));
  int limited = std::stoi(status("registry_updates_rate_limited").empty()
                              ? "0"
                              : status("registry_updates_rate_limited"));
  EXPECT_GE(limited, 25) << "UPDATEs refused for their rate: " << limited << " of 40";
  advance(2s);
  update({"198.51.100.7"}, 99);
  EXPECT_EQ(published(), std::vector<std::string>{"198.51.100.7"});
}

// Item 6: a candidate UPDATE and a registration's expiry change the zone's
// records: each is a new version (serial, NOTIFY), like an endpoint's move.
TEST_F(RegistryAbuseTest, ACandidateChangeIsANewZoneVersion) {
  advance(1100ms);  // past the forced second version
  const uint32_t s0 = roles->publisher()->serial();
  update({"198.51.100.5"});
  advance(1100ms);
  const uint32_t s1 = roles->publisher()->serial();
  EXPECT_NE(s1, s0) << "a new candidate without a new serial";
  // Registrations live 180 s unless renewed; a's session is kept alive.
  for (int i = 0; i < 20; ++i) {
    advance(10s);
    net.a_sends();
    net.run();
  }
  EXPECT_TRUE(published().empty());
  EXPECT_NE(roles->publisher()->serial(), s1) << "an expired candidate without a new serial";
}

}  // namespace
}  // namespace wgp::testing
