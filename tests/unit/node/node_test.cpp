// The real Node — event loop, batches, GSO joins, seals on workers, socket
// changes — on in-memory TUN devices and sockets (support/fake_io.h). Each
// node has its own io_context, so a test decides when each one runs and
// thereby what lands in one receive batch.
#include "node/node.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <thread>

#include "crypto/x25519.h"
#include "support/fake_io.h"
#include "support/sim_network.h"

namespace wgp::testing {
namespace {

namespace asio = boost::asio;

struct TestNode {
  TestNode(FakeNetwork& net, const char* address, uint32_t seed, const char* tunnel_ip)
      : addr(endpoint(address)), tunnel(tunnel_ip), rng(seed), key(generate_private_key(rng)) {
    auto t = std::make_unique<FakeTun>("fake" + std::to_string(seed));
    auto u = std::make_unique<FakeDatagramPort>(net, addr);
    tun = t.get();
    port = u.get();
    node = std::make_unique<Node>(
        io, std::move(t), std::move(u), 1420,
        [&net, this](uint16_t p) -> std::unique_ptr<DatagramPort> {
          auto fresh = std::make_unique<FakeDatagramPort>(net, Endpoint{addr.address, p});
          port = fresh.get();
          return fresh;
        });
    node->set_private_key(key);
  }
  PublicKey public_key() const { return derive_public_key(key); }
  void poll() {
    if (io.stopped()) io.restart();
    io.poll();
  }

  Endpoint addr;
  const char* tunnel;
  SeededRandom rng;
  PrivateKey key;
  asio::io_context io;
  FakeTun* tun;
  FakeDatagramPort* port;  // the current one (set_listen_port replaces it)
  std::unique_ptr<Node> node;
};

class NodeTest : public ::testing::Test {
 protected:
  // Peers of each other, with endpoints; started. Workers as given.
  void start(size_t a_workers = 0, size_t b_workers = 0) {
    for (auto [me, other, workers] :
         {std::tuple{&a, &b, a_workers}, std::tuple{&b, &a, b_workers}}) {
      Node& n = *me->node;
      n.add_peer(other->public_key());
      n.add_peer_allowed_ip(other->public_key(),
                            prefix((std::string(other->tunnel) + "/32").c_str()));
      n.set_peer_endpoint(other->public_key(), other->addr);
      n.set_crypto_workers(workers);
      n.start();
    }
  }

  // Runs both loops until `done` holds (bounded in rounds and time).
  bool pump_until(const std::function<bool()>& done) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    for (int round = 0; round < 100000; ++round) {
      a.poll();
      b.poll();
      if (done()) return true;
      if (std::chrono::steady_clock::now() > deadline) break;
    }
    return false;
  }
  void pump(int rounds = 50) {
    for (int i = 0; i < rounds; ++i) {
      a.poll();
      b.poll();
    }
  }
  // A packet from a's tunnel address to b's with a payload that tells it apart.
  static std::vector<uint8_t> a_to_b(size_t payload, uint8_t tag) {
    auto p = ipv4_packet("10.0.0.1", "10.0.0.2", payload);
    for (size_t i = 28; i < p.size(); ++i) p[i] = uint8_t(tag + i);
    return p;
  }
  void establish() {
    a.tun->inject(a_to_b(20, 0));
    ASSERT_TRUE(pump_until([&] { return b.tun->written.size() == 1; }));
    b.tun->written.clear();
    net.sent.clear();
  }
  // Slots a sent that carried transport data.
  std::vector<const SentSlot*> data_slots_from(const TestNode& n) const {
    std::vector<const SentSlot*> out;
    for (const SentSlot& s : net.sent)
      if (s.from.address == n.addr.address && !s.datagrams.empty() && s.datagrams[0].size() > 32 &&
          s.datagrams[0][0] == 4)
        out.push_back(&s);
    return out;
  }

  FakeNetwork net;
  TestNode a{net, "192.0.2.1:51820", 1, "10.0.0.1"};
  TestNode b{net, "192.0.2.2:51820", 2, "10.0.0.2"};
};

TEST_F(NodeTest, PacketsCrossBothWaysThroughTheRealNode) {
  start();
  a.tun->inject(a_to_b(100, 1));
  ASSERT_TRUE(pump_until([&] { return b.tun->written.size() == 1; }));
  EXPECT_EQ(b.tun->written[0], a_to_b(100, 1));
  auto reply = ipv4_packet("10.0.0.2", "10.0.0.1", 50);
  b.tun->inject(reply);
  ASSERT_TRUE(pump_until([&] { return a.tun->written.size() == 1; }));
  EXPECT_EQ(a.tun->written[0], reply);
  EXPECT_EQ(a.node->snapshot().peers.at(0).endpoint, b.addr);
}

TEST_F(NodeTest, EqualSizedPacketsToOnePeerLeaveAsOneSegmentedSlot) {
  start();
  establish();
  for (uint8_t i = 0; i < 10; ++i) a.tun->inject(a_to_b(1000, i));
  ASSERT_TRUE(pump_until([&] { return b.tun->written.size() == 10; }));
  auto slots = data_slots_from(a);
  ASSERT_EQ(slots.size(), 1u);
  EXPECT_EQ(slots[0]->datagrams.size(), 10u);
  for (uint8_t i = 0; i < 10; ++i) EXPECT_EQ(b.tun->written[i], a_to_b(1000, i)) << int(i);
  EXPECT_EQ(a.port->gso_violations, 0u);
}

TEST_F(NodeTest, WithoutUdpOffloadsEveryDatagramHasItsOwnSlot) {
  a.node->disable_udp_offloads();
  start();
  establish();
  for (uint8_t i = 0; i < 10; ++i) a.tun->inject(a_to_b(1000, i));
  ASSERT_TRUE(pump_until([&] { return b.tun->written.size() == 10; }));
  auto slots = data_slots_from(a);
  EXPECT_EQ(slots.size(), 10u);
  for (const SentSlot* s : slots) EXPECT_EQ(s->datagrams.size(), 1u);
  EXPECT_EQ(a.port->gso_violations, 0u);
}

TEST_F(NodeTest, SealsRunOnWorkersBeforeAnythingLeaves) {
  start(2, 2);
  establish();
  const std::vector<uint64_t> seals0 = a.node->crypto_tally()->seals();
  const std::vector<uint64_t> opens0 = b.node->crypto_tally()->opens();
  for (uint8_t i = 0; i < 150; ++i) a.tun->inject(a_to_b(600 + (i % 3) * 200, i));
  ASSERT_TRUE(pump_until([&] { return b.tun->written.size() == 150; }));
  // Where the crypto ran, per thread (0 is the event loop): the 150 seals on
  // a and opens on b, all counted, and the first worker of each took its
  // share (a batch of 64 is cut into two ranges of 32; only batches of 96 or
  // more reach the second worker).
  const std::vector<uint64_t> seals = a.node->crypto_tally()->seals();
  const std::vector<uint64_t> opens = b.node->crypto_tally()->opens();
  ASSERT_EQ(seals.size(), 3u);
  ASSERT_EQ(opens.size(), 3u);
  EXPECT_GT(seals[1] - seals0[1], 0u) << "a's first worker sealed nothing";
  EXPECT_GT(opens[1] - opens0[1], 0u) << "b's first worker opened nothing";
  uint64_t sealed = 0, opened = 0;
  for (size_t t = 0; t < 3; ++t) {
    sealed += seals[t] - seals0[t];
    opened += opens[t] - opens0[t];
  }
  EXPECT_EQ(sealed, 150u);
  EXPECT_EQ(opened, 150u);
  for (uint8_t i = 0; i < 150; ++i)
    ASSERT_EQ(b.tun->written[i], a_to_b(600 + (i % 3) * 200, i)) << "packet " << int(i);
  // No inner packet's bytes appear on the wire.
  for (const SentSlot* s : data_slots_from(a))
    for (const auto& d : s->datagrams) {
      auto inner = a_to_b(600, 0);
      EXPECT_EQ(std::search(d.begin(), d.end(), inner.begin() + 28, inner.begin() + 60), d.end());
    }
  EXPECT_EQ(a.node->crypto_workers(), 2u);
}

TEST_F(NodeTest, UnchangedFwmarkNeedsNoPrivilege) {
  ASSERT_FALSE(a.node->set_fwmark(0x1234));
  a.port->refuse_fwmark(std::errc::operation_not_permitted);  // the privileges are gone
  EXPECT_FALSE(a.node->set_fwmark(0x1234));
  EXPECT_EQ(a.node->set_fwmark(0x42), std::errc::operation_not_permitted);
  EXPECT_EQ(a.port->fwmark(), 0x1234u);
  EXPECT_EQ(a.node->snapshot().fwmark, 0x1234u);
}

// b receives, in one batch, data under the current session with a's rekey
// initiation in the middle; everything arrives in order, and the new
// session carries what follows.
TEST_F(NodeTest, AHandshakeInTheMiddleOfABatchKeepsOrder) {
  start();
  establish();
  for (uint8_t i = 1; i <= 2; ++i) a.tun->inject(a_to_b(200, i));
  for (int i = 0; i < 20; ++i) a.poll();  // a sends; b does not run yet
  // The responder takes at most one initiation per 20 ms from a peer, and
  // the node's clock is the real one.
  std::this_thread::sleep_for(std::chrono::milliseconds(60));
  Peer* b_at_a = a.node->device().find_peer(b.public_key());
  const Keypair* first = b_at_a->keypairs.current();
  b_at_a->keypairs.current()->send_counter = noise::kRekeyAfterMessages + 1;
  b_at_a->last_sent_handshake.reset();
  for (uint8_t i = 3; i <= 4; ++i) a.tun->inject(a_to_b(200, i));
  for (int i = 0; i < 20; ++i) a.poll();  // data 3, the initiation, data 4
  ASSERT_TRUE(pump_until([&] { return b.tun->written.size() == 4; }));
  for (uint8_t i = 1; i <= 4; ++i) EXPECT_EQ(b.tun->written[i - 1], a_to_b(200, i));
  ASSERT_TRUE(pump_until([&] { return b_at_a->keypairs.current() != first; }));
  a.tun->inject(a_to_b(200, 5));
  ASSERT_TRUE(pump_until([&] { return b.tun->written.size() == 5; }));
  EXPECT_EQ(b.tun->written[4], a_to_b(200, 5));
}

TEST_F(NodeTest, ANewListenPortMovesTheTunnelToANewSocket) {
  start();
  establish();
  ASSERT_FALSE(a.node->set_listen_port(51999));
  EXPECT_EQ(a.node->listen_port(), 51999);
  a.tun->inject(a_to_b(100, 7));
  ASSERT_TRUE(pump_until([&] { return b.tun->written.size() == 1; }));
  // b follows a to its new port (roaming) and answers there.
  EXPECT_EQ(b.node->snapshot().peers.at(0).endpoint, (Endpoint{a.addr.address, 51999}));
  b.tun->inject(ipv4_packet("10.0.0.2", "10.0.0.1", 30));
  ASSERT_TRUE(pump_until([&] { return a.tun->written.size() == 1; }));
}

}  // namespace
}  // namespace wgp::testing
