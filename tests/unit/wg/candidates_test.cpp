// Candidates a peer registers are addresses it merely claims (issue 17 item
// 5, Device::try_candidates): nothing goes to loopback, multicast, broadcast,
// unspecified or our own addresses; a direct candidate gets one initiation, a
// probe, per discovery round whatever the answers say (the handshake's
// retries go to the endpoint and relays only); and an answer that comes while
// our initiation is in flight gets that initiation, not a new handshake.
#include <gtest/gtest.h>

#include <map>

#include "support/sim_network.h"

namespace wgp::testing {
namespace {

using namespace std::chrono_literals;

// A peer of a's that is reached nowhere (its key is nobody's): what a does
// when discovery hands it candidates for it.
struct Lonely {
  explicit Lonely(SimNetwork& n) : net(n) {
    SeededRandom rng(99);
    peer = net.a.device.add_peer(derive_public_key(generate_private_key(rng)));
    net.a.device.allowed_ips().insert(prefix("10.0.0.9/32"), peer);
  }
  Device::CandidateOutcome offer(std::vector<const char*> addresses) {
    std::vector<Device::CandidateAddress> list;
    for (const char* a : addresses) list.push_back({endpoint(a), std::nullopt});
    return net.a.device.try_candidates(*peer, list, net.now());
  }
  // Datagrams a sent to `to` (since the start of the test).
  size_t sent_to(const char* to) const {
    size_t n = 0;
    for (const Datagram& d : net.history) n += d.from == net.a.addr && d.to == endpoint(to);
    for (const Datagram& d : net.wire) n += d.from == net.a.addr && d.to == endpoint(to);
    return n;
  }
  SimNetwork& net;
  Peer* peer;
};

TEST(Candidates, NothingGoesWhereNoPeerCanBeOrToOurselves) {
  SimNetwork net;
  net.a.device.set_own_addresses({net.a.addr.address, *IpAddress::parse("10.1.0.2")});
  Lonely l(net);
  const std::vector<const char*> never = {
      "127.0.0.1:7777",
      "127.9.9.9:7777",
      "224.0.0.251:7777",
      "255.255.255.255:7777",
      "0.0.0.0:7777",
      "0.1.2.3:7777",
      "[::1]:7777",
      "[::]:7777",
      "[ff02::1]:7777",
      "[fe80::1]:7777",
      "[::ffff:127.0.0.1]:7777",
      "192.0.2.1:7777",  // a's own address (another port: still ours)
      "10.1.0.2:7777"};
  std::vector<const char*> all = never;
  all.push_back("203.0.113.5:7777");
  EXPECT_EQ(l.offer(all), Device::CandidateOutcome::kTried);
  for (const char* a : never) EXPECT_EQ(l.sent_to(a), 0u) << a;
  EXPECT_EQ(l.sent_to("203.0.113.5:7777"), 1u);
  ASSERT_EQ(l.peer->offered.size(), 1u);  // status shows what is tried, nothing else
}

TEST(Candidates, RetriesGoToTheEndpointAndRelaysNotToDirectCandidates) {
  SimNetwork net;
  Lonely l(net);
  ASSERT_EQ(l.offer({"203.0.113.5:7777"}), Device::CandidateOutcome::kTried);
  // Nobody answers: the handshake is retried every 5 s for 90 s.
  net.advance(60s);
  EXPECT_EQ(l.sent_to("203.0.113.5:7777"), 1u) << "a direct candidate got retries";
  // A relay (a peer of ours that forwards) carries them.
  Device::CandidateAddress relay{endpoint("198.51.100.1:51820"), net.b.public_key()};
  ASSERT_EQ(net.a.device.try_candidates(*l.peer, std::span(&relay, 1), net.now()),
            Device::CandidateOutcome::kTried);
  net.advance(20s);
  EXPECT_GE(l.sent_to("198.51.100.1:51820"), 4u);
  EXPECT_EQ(l.sent_to("203.0.113.5:7777"), 1u);
}

TEST(Candidates, AnAddressGetsOneProbePerRoundWhateverTheAnswers) {
  SimNetwork net;
  Lonely l(net);
  // An answer every 100 ms for 20 s, each naming twelve of 40 addresses in
  // turn (more than a peer keeps): no address gets two probes within 5 s.
  std::vector<std::string> pool;
  for (int i = 0; i < 40; ++i) pool.push_back("203.0.113." + std::to_string(10 + i) + ":7777");
  std::map<std::string, std::vector<Instant>> probes;
  for (int round = 0; round < 200; ++round) {
    std::vector<const char*> answer;
    for (int k = 0; k < 12; ++k) answer.push_back(pool[(round * 7 + k) % pool.size()].c_str());
    size_t before = net.wire.size();
    (void)l.offer(answer);
    for (size_t i = before; i < net.wire.size(); ++i)
      probes[net.wire[i].to.to_string()].push_back(net.now().mono);
    net.wire.clear();
    net.advance(100ms);
  }
  for (const auto& [to, times] : probes)
    for (size_t i = 1; i < times.size(); ++i)
      EXPECT_GE(times[i] - times[i - 1], 5s) << to << " probed twice within 5 s";
}

TEST(Candidates, AnAnswerDuringAHandshakeSendsTheInitiationInFlight) {
  SimNetwork net;
  Lonely l(net);
  // A packet for the peer starts a handshake (to nowhere yet: no endpoint).
  net.a.device.send_to_peer(*l.peer, ipv4_packet("10.0.0.1", "10.0.0.9"), net.now());
  ASSERT_EQ(l.peer->handshake.state, noise::HandshakeState::kInitiationCreated);
  const uint32_t index = l.peer->handshake.local_index;
  net.advance(10ms);
  // Discovery's answer arrives: the same initiation goes there, the
  // handshake is not restarted.
  EXPECT_EQ(l.offer({"203.0.113.5:7777"}), Device::CandidateOutcome::kTried);
  ASSERT_EQ(net.wire.size(), 1u);
  EXPECT_EQ(load_le32(&net.wire.back().bytes[noise::kInitiationSenderOffset]), index);
  EXPECT_EQ(l.peer->handshake.local_index, index);
  // A second answer with another address, still within REKEY_TIMEOUT: the same.
  EXPECT_EQ(l.offer({"203.0.113.6:7777"}), Device::CandidateOutcome::kTried);
  EXPECT_EQ(load_le32(&net.wire.back().bytes[noise::kInitiationSenderOffset]), index);
  EXPECT_EQ(l.peer->handshake.local_index, index);
}

}  // namespace
}  // namespace wgp::testing
