// The port-mapping state machine in simulated time: which protocol is asked
// when, how many tries a silent gateway costs, renewal at half the lease
// (and retries of a failed renewal), expiry, network changes, a new
// ListenPort, deletion on stop, and the reason kept when there is none.
#include "portmap/port_mapper.h"

#include <gtest/gtest.h>

namespace wgp::portmap {
namespace {

using namespace std::chrono_literals;
using Kind = Request::Kind;

class CountingRandom final : public Random {
 public:
  void fill(std::span<uint8_t> out) override {
    for (auto& b : out) b = uint8_t(++n_);
  }

 private:
  uint8_t n_ = 0;
};

IpAddress ip(const char* text) { return *IpAddress::parse(text); }
Gateway home() { return {ip("10.2.0.1"), *InterfaceAddress::parse("10.2.0.2/24")}; }
Endpoint external(uint16_t port = 51820) { return {ip("192.0.3.1"), port}; }
Reply mapped(uint32_t lifetime, uint16_t port = 51820) {
  return {Reply::Kind::kMapped, external(port), lifetime, ""};
}

class PortMapperTest : public ::testing::Test {
 protected:
  // Runs the timers at every deadline up to `until`; the requests made.
  std::vector<Request> run_until(Instant until) {
    std::vector<Request> out;
    while (auto d = m.next_deadline()) {
      if (*d > until) break;
      now = std::max(now, *d);
      m.run_timers(now);
      for (Request& r : m.take_requests()) out.push_back(r);
    }
    now = until;
    return out;
  }
  // The kMap requests in `rs` to `p`.
  static size_t maps(const std::vector<Request>& rs, Protocol p) {
    size_t n = 0;
    for (const Request& r : rs) n += r.kind == Kind::kMap && r.protocol == p;
    return n;
  }

  CountingRandom rng;
  PortMapper m{rng, 51820};
  Instant now{std::chrono::seconds(1000)};
};

TEST_F(PortMapperTest, NothingWithoutAGateway) {
  m.on_network(std::nullopt, now);
  EXPECT_TRUE(m.take_requests().empty());
  EXPECT_FALSE(m.next_deadline());
  EXPECT_EQ(m.reason(), "no default gateway");
}

TEST_F(PortMapperTest, PcpFirstAndItsMappingIsTheCandidate) {
  m.on_network(home(), now);
  auto rs = m.take_requests();
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0].kind, Kind::kMap);
  EXPECT_EQ(rs[0].protocol, Protocol::kPcp);
  EXPECT_EQ(rs[0].gateway, home());
  EXPECT_EQ(rs[0].internal_port, 51820);
  EXPECT_EQ(rs[0].lifetime, PortMapper::kDefaultLifetime);
  EXPECT_FALSE(rs[0].current);
  EXPECT_EQ(m.reason(), "asking");
  m.on_reply(Protocol::kPcp, mapped(7200, 40000), now + 2ms);
  ASSERT_TRUE(m.mapping());
  EXPECT_EQ(m.mapping()->protocol, Protocol::kPcp);
  EXPECT_EQ(m.mapping()->external, external(40000));
  EXPECT_TRUE(m.take_mapping_changed());
  EXPECT_FALSE(m.take_mapping_changed());
  EXPECT_EQ(m.reason(), "");
  // Only a kCancel of PCP's transport is left to do; the next thing is the renewal.
  rs = m.take_requests();
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0].kind, Kind::kCancel);
  EXPECT_EQ(m.next_deadline(), now + 2ms + 3600s);
}

TEST_F(PortMapperTest, ASilentGatewayCostsThreeTriesOfEachProtocolThenWaits) {
  m.on_network(home(), now);
  Instant t0 = now;
  auto rs = m.take_requests();
  auto more = run_until(t0 + 1749ms);
  rs.insert(rs.end(), more.begin(), more.end());
  EXPECT_EQ(maps(rs, Protocol::kPcp), 3u);
  EXPECT_EQ(maps(rs, Protocol::kNatPmp), 0u);
  more = run_until(t0 + 1750ms + 1749ms);
  EXPECT_EQ(maps(more, Protocol::kNatPmp), 3u);
  more = run_until(t0 + 3500ms + 2999ms);
  EXPECT_EQ(maps(more, Protocol::kUpnp), 2u);
  EXPECT_EQ(m.reason(), "PCP: no answer; NAT-PMP: no answer; asking UPnP");
  more = run_until(t0 + 6500ms);
  EXPECT_EQ(m.reason(), "PCP: no answer; NAT-PMP: no answer; UPnP: no answer");
  // Nothing more for ten minutes.
  EXPECT_EQ(m.next_deadline(), t0 + 6500ms + PortMapper::kRetryAfterFailure);
  more = run_until(t0 + 6500ms + PortMapper::kRetryAfterFailure);
  EXPECT_EQ(maps(more, Protocol::kPcp), 1u);
}

TEST_F(PortMapperTest, RetriesAreMarkedAndKeepTheNonce) {
  m.on_network(home(), now);
  auto first = m.take_requests();
  auto rs = run_until(now + 800ms);
  ASSERT_EQ(maps(rs, Protocol::kPcp), 2u);
  EXPECT_FALSE(first[0].retry);
  EXPECT_TRUE(rs[0].retry);
  EXPECT_EQ(rs[0].nonce, first[0].nonce);
}

TEST_F(PortMapperTest, AClosedPortSkipsNatPmpAndAnUnsupportedPcpGoesToNatPmp) {
  m.on_network(home(), now);
  (void)m.take_requests();
  m.on_reply(Protocol::kPcp, {Reply::Kind::kNoServer, {}, 0, "port 5351 closed"}, now);
  auto rs = m.take_requests();
  ASSERT_EQ(rs.size(), 2u);
  EXPECT_EQ(rs[0].kind, Kind::kCancel);
  EXPECT_EQ(rs[1].protocol, Protocol::kUpnp);
  EXPECT_EQ(m.reason(), "PCP: port 5351 closed; NAT-PMP: port 5351 closed; asking UPnP");

  PortMapper other{rng, 51820};
  other.on_network(home(), now);
  (void)other.take_requests();
  other.on_reply(Protocol::kPcp, {Reply::Kind::kUnsupported, {}, 0, "unsupported version"}, now);
  rs = other.take_requests();
  ASSERT_EQ(rs.size(), 2u);
  EXPECT_EQ(rs[1].protocol, Protocol::kNatPmp);
  other.on_reply(Protocol::kNatPmp, mapped(3600), now + 1ms);
  EXPECT_EQ(other.mapping()->protocol, Protocol::kNatPmp);
}

TEST_F(PortMapperTest, RepliesFromProtocolsNotAskedAreIgnored) {
  m.on_network(home(), now);
  (void)m.take_requests();
  m.on_reply(Protocol::kUpnp, mapped(3600), now);
  m.on_reply(Protocol::kNatPmp, {Reply::Kind::kRefused, {}, 0, "x"}, now);
  EXPECT_FALSE(m.mapping());
  EXPECT_EQ(m.asking(), Protocol::kPcp);
  // An unusable "success" (no port, no address) counts as a refusal.
  m.on_reply(Protocol::kPcp, {Reply::Kind::kMapped, Endpoint{ip("0.0.0.0"), 5}, 60, ""}, now);
  EXPECT_FALSE(m.mapping());
  EXPECT_EQ(m.asking(), Protocol::kNatPmp);
  m.on_reply(Protocol::kNatPmp, {Reply::Kind::kMapped, external(0), 60, ""}, now);
  EXPECT_EQ(m.asking(), Protocol::kUpnp);
  m.on_reply(Protocol::kUpnp, {Reply::Kind::kMapped, external(), 0, ""}, now);
  EXPECT_FALSE(m.mapping());
  EXPECT_EQ(m.asking(), Protocol::kNone);
}

TEST_F(PortMapperTest, UpnpGetsLongerOnceTheDeviceAnswers) {
  m.on_network(home(), now);
  (void)m.take_requests();
  m.on_reply(Protocol::kPcp, {Reply::Kind::kNoServer, {}, 0, "closed"}, now);
  (void)m.take_requests();
  m.on_reply(Protocol::kUpnp, {Reply::Kind::kProgress, {}, 0, ""}, now + 500ms);
  (void)run_until(now + 8499ms);
  EXPECT_EQ(m.asking(), Protocol::kUpnp);
  m.on_reply(Protocol::kUpnp, mapped(3600), now);
  EXPECT_EQ(m.mapping()->protocol, Protocol::kUpnp);
}

TEST_F(PortMapperTest, RenewsAtHalfTheLeaseWithTheSameNonceAndTunnelNeverLosesIt) {
  m.on_network(home(), now);
  PcpNonce nonce = m.take_requests()[0].nonce;
  m.on_reply(Protocol::kPcp, mapped(30), now);
  (void)m.take_mapping_changed();
  auto rs = run_until(now + 15s);
  ASSERT_EQ(maps(rs, Protocol::kPcp), 1u);
  const Request& renewal = rs.back();
  EXPECT_EQ(renewal.nonce, nonce);
  EXPECT_EQ(renewal.current, external());
  now += 3ms;
  m.on_reply(Protocol::kPcp, mapped(30), now);
  EXPECT_EQ(m.renewals(), 1u);
  EXPECT_FALSE(m.take_mapping_changed()) << "same external endpoint: no new candidate";
  // Ten renewals over five minutes, the mapping there throughout.
  for (int i = 0; i < 10; ++i) {
    rs = run_until(now + 15s);
    ASSERT_EQ(maps(rs, Protocol::kPcp), 1u) << i;
    ASSERT_TRUE(m.mapping());
    m.on_reply(Protocol::kPcp, mapped(30), now);
  }
  EXPECT_EQ(m.renewals(), 11u);
}

TEST_F(PortMapperTest, AFailedRenewalIsRetriedUntilTheLeaseEndsThenStartsOver) {
  m.on_network(home(), now);
  (void)m.take_requests();
  Instant t0 = now;
  m.on_reply(Protocol::kPcp, mapped(60), now);
  // Renewal at 30 s, unanswered: tries until 31.75 s, then again at half of
  // what is left (about 45.9 s), and so on while at least 2 s would be left.
  auto rs = run_until(t0 + 59999ms);
  EXPECT_GE(maps(rs, Protocol::kPcp), 9u);
  EXPECT_EQ(maps(rs, Protocol::kNatPmp), 0u) << "a renewal asks the mapping's protocol only";
  ASSERT_TRUE(m.mapping());
  (void)m.take_mapping_changed();
  rs = run_until(t0 + 60s);
  EXPECT_FALSE(m.mapping());
  EXPECT_TRUE(m.take_mapping_changed());
  ASSERT_EQ(maps(rs, Protocol::kPcp), 1u) << "a new search";
  EXPECT_FALSE(rs.back().current);
}

TEST_F(PortMapperTest, ARenewalMayMoveTheMapping) {
  m.on_network(home(), now);
  (void)m.take_requests();
  m.on_reply(Protocol::kPcp, mapped(60), now);
  (void)m.take_mapping_changed();
  (void)run_until(now + 30s);
  m.on_reply(Protocol::kPcp, mapped(60, 40001), now);
  EXPECT_TRUE(m.take_mapping_changed());
  EXPECT_EQ(m.mapping()->external, external(40001));
}

TEST_F(PortMapperTest, NetworkChanges) {
  m.on_network(home(), now);
  (void)m.take_requests();
  m.on_reply(Protocol::kPcp, mapped(3600), now);
  (void)m.take_mapping_changed();
  (void)m.take_requests();
  // The same gateway again (another address came and went): nothing.
  m.on_network(home(), now + 1s);
  EXPECT_TRUE(m.take_requests().empty());
  EXPECT_TRUE(m.mapping());
  // A new gateway: the old mapping is dropped (not deleted: it may be gone), a new search.
  Gateway other{ip("192.168.1.1"), *InterfaceAddress::parse("192.168.1.5/24")};
  m.on_network(other, now + 2s);
  EXPECT_FALSE(m.mapping());
  EXPECT_TRUE(m.take_mapping_changed());
  auto rs = m.take_requests();
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0].gateway, other);
  // After a failed search a network change asks again, but not within 10 s of the last.
  (void)run_until(now + 10s);
  EXPECT_NE(m.reason().find("UPnP: no answer"), std::string::npos);
  m.on_network(other, now);
  EXPECT_TRUE(m.take_requests().empty()) << "less than 10 s since the last search began";
  now += 5s;
  m.on_network(other, now);
  rs = m.take_requests();
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0].protocol, Protocol::kPcp);
  // The default route goes away.
  m.on_network(std::nullopt, now);
  EXPECT_EQ(m.reason(), "no default gateway");
  EXPECT_FALSE(m.next_deadline());
}

TEST_F(PortMapperTest, ANewListenPortDeletesTheOldMappingAndAsksAgain) {
  m.on_network(home(), now);
  (void)m.take_requests();
  m.on_reply(Protocol::kNatPmp, mapped(3600), now);  // not asked: ignored
  EXPECT_FALSE(m.mapping());
  m.on_reply(Protocol::kPcp, mapped(3600), now);
  (void)m.take_requests();
  (void)m.take_mapping_changed();
  m.set_internal_port(51821, now);
  auto rs = m.take_requests();
  ASSERT_EQ(rs.size(), 2u);
  EXPECT_EQ(rs[0].kind, Kind::kDelete);
  EXPECT_EQ(rs[0].internal_port, 51820);
  EXPECT_EQ(rs[0].current, external());
  EXPECT_EQ(rs[1].kind, Kind::kMap);
  EXPECT_EQ(rs[1].internal_port, 51821);
  EXPECT_NE(rs[1].nonce, rs[0].nonce) << "a new mapping, a new nonce";
  EXPECT_TRUE(m.take_mapping_changed());
}

TEST_F(PortMapperTest, StopDeletesTheMappingWithItsProtocolAndNonce) {
  m.on_network(home(), now);
  (void)m.take_requests();
  (void)m.take_requests();
  m.on_reply(Protocol::kPcp, {Reply::Kind::kRefused, {}, 0, "not authorized"}, now);
  m.on_reply(Protocol::kNatPmp, mapped(3600, 40000), now);
  (void)m.take_requests();
  m.stop(now);
  auto rs = m.take_requests();
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0].kind, Kind::kDelete);
  EXPECT_EQ(rs[0].protocol, Protocol::kNatPmp);
  EXPECT_EQ(rs[0].current, external(40000));
  EXPECT_FALSE(m.next_deadline());
  m.on_network(home(), now);
  EXPECT_TRUE(m.take_requests().empty()) << "stopped for good";
  // Stopping while asking only cancels.
  PortMapper asking{rng, 51820};
  asking.on_network(home(), now);
  (void)asking.take_requests();
  asking.stop(now);
  rs = asking.take_requests();
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0].kind, Kind::kCancel);
}

}  // namespace
}  // namespace wgp::portmap
