// Batch crypto: seals the device queues instead of running (so a batch can be
// sealed on several cores) and opens prepared and run outside the device.
// Both must give exactly what the one-at-a-time path gives, and a prepared
// open that is stale or forged must never be trusted.
#include "wg/crypto_jobs.h"

#include <gtest/gtest.h>

#include "noise/wire.h"
#include "support/sim_network.h"
#include "wg/device.h"

namespace wgp::testing {
namespace {

// A pair with a session: a's first packet made the handshake, b got it.
void establish(SimNetwork& net) {
  net.a_sends();
  net.run();
  ASSERT_EQ(net.b.tun.size(), 1u);
  net.history.clear();
  net.b.tun.clear();
}

TEST(CryptoJobs, DeferredSealsGiveTheSameBytesAsSealingAtOnce) {
  // Two identical worlds (seeded randomness, simulated clocks).
  SimNetwork at_once, deferred;
  establish(at_once);
  establish(deferred);

  at_once.a_sends(100);
  at_once.a_sends(1000);
  ASSERT_EQ(at_once.wire.size(), 2u);

  std::vector<SealJob> jobs;
  deferred.a.lend = true;
  deferred.a.device.defer_seals(&jobs);
  deferred.a_sends(100);
  deferred.a_sends(1000);
  deferred.a.device.defer_seals(nullptr);
  ASSERT_EQ(jobs.size(), 2u);
  ASSERT_EQ(deferred.wire.size(), 2u);
  // Until the jobs run, the slot holds the plaintext: nothing may be sent yet.
  EXPECT_NE(deferred.wire[0].bytes, at_once.wire[0].bytes);
  for (SealJob& job : jobs) job.run();
  EXPECT_EQ(deferred.wire[0].bytes, at_once.wire[0].bytes);
  EXPECT_EQ(deferred.wire[1].bytes, at_once.wire[1].bytes);

  deferred.run();
  ASSERT_EQ(deferred.b.tun.size(), 2u);
  EXPECT_EQ(deferred.b.tun[1], ipv4_packet("10.0.0.1", "10.0.0.2", 1000));
  EXPECT_EQ(deferred.a_peer->tx_bytes, at_once.a_peer->tx_bytes);
}

TEST(CryptoJobs, AFailedSealWipesThePlaintextInsteadOfLeavingIt) {
  SimNetwork net;
  establish(net);
  std::vector<SealJob> jobs;
  net.a.lend = true;
  net.a.device.defer_seals(&jobs);
  net.a_sends(100);
  net.a.device.defer_seals(nullptr);
  ASSERT_EQ(jobs.size(), 1u);
  SealJob& job = jobs[0];
  EXPECT_EQ(job.message.size(), net.wire.back().bytes.size());
  EXPECT_EQ(job.message.data(), net.wire.back().bytes.data());
  // The slot holds the plaintext until the seal runs. Make it fail the way
  // misuse would (an output too short for the tag): not one plaintext byte
  // may stay behind.
  const std::vector<uint8_t> packet = ipv4_packet("10.0.0.1", "10.0.0.2", 100);
  ASSERT_TRUE(std::equal(packet.begin(), packet.end(), job.data.begin()));
  job.data = job.data.first(job.plaintext_size + 15);
  job.run();
  EXPECT_FALSE(job.sealed);
  EXPECT_TRUE(std::all_of(job.data.begin(), job.data.end(), [](uint8_t b) { return b == 0; }));
}

TEST(CryptoJobs, LentMemoryWithoutAQueueIsSealedAtOnce) {
  SimNetwork at_once, lent;
  establish(at_once);
  establish(lent);
  at_once.a_sends(300);
  lent.a.lend = true;
  lent.a_sends(300);
  ASSERT_EQ(lent.wire.size(), 1u);
  EXPECT_EQ(lent.wire[0].bytes, at_once.wire[0].bytes);
}

TEST(CryptoJobs, PreparedOpenIsUsedWhenItsKeypairStillHoldsTheIndex) {
  SimNetwork net;
  establish(net);
  net.a_sends(500);
  ASSERT_EQ(net.wire.size(), 1u);
  Datagram d = net.wire.front();
  net.wire.clear();

  std::vector<uint8_t> plain(d.bytes.size());
  OpenJob job;
  ASSERT_TRUE(net.b.device.prepare_open(d.bytes, plain, net.now(), job));
  EXPECT_EQ(job.plaintext.size(), d.bytes.size() - noise::kTransportHeaderSize - 16);
  job.run();
  ASSERT_TRUE(job.authentic);
  EXPECT_FALSE(net.b.device.receive_datagram(d.bytes, d.from, net.now(), &job));
  ASSERT_EQ(net.b.tun.size(), 1u);
  EXPECT_EQ(net.b.tun[0], ipv4_packet("10.0.0.1", "10.0.0.2", 500));
  // The replay window saw it: the same datagram again is refused.
  EXPECT_EQ(net.b.device.receive_datagram(d.bytes, d.from, net.now()), DropReason::kReplayedData);
}

TEST(CryptoJobs, FailedOpenIsDroppedWithoutTouchingTheReplayWindow) {
  SimNetwork net;
  establish(net);
  net.a_sends(200);
  Datagram d = net.wire.front();
  net.wire.clear();
  std::vector<uint8_t> plain(d.bytes.size());
  OpenJob job;
  ASSERT_TRUE(net.b.device.prepare_open(d.bytes, plain, net.now(), job));
  job.run();
  job.authentic = false;  // as if the tag had not verified
  EXPECT_EQ(net.b.device.receive_datagram(d.bytes, d.from, net.now(), &job),
            DropReason::kDecryptFailed);
  EXPECT_TRUE(net.b.tun.empty());
  // Its counter is still free: the genuine datagram is accepted afterwards.
  EXPECT_FALSE(net.b.device.receive_datagram(d.bytes, d.from, net.now()));
  EXPECT_EQ(net.b.tun.size(), 1u);
}

TEST(CryptoJobs, StaleOrMismatchedJobIsIgnoredAndTheDeviceDecryptsItself) {
  SimNetwork net;
  establish(net);
  net.a_sends(64);
  net.a_sends(64);
  Datagram first = net.wire[0], second = net.wire[1];
  net.wire.clear();
  std::vector<uint8_t> plain(first.bytes.size());
  OpenJob job;
  ASSERT_TRUE(net.b.device.prepare_open(first.bytes, plain, net.now(), job));
  job.run();
  // A keypair since replaced (another serial): its "plaintext" is garbage.
  job.keypair_serial += 1;
  std::fill(plain.begin(), plain.end(), 0xee);
  EXPECT_FALSE(net.b.device.receive_datagram(first.bytes, first.from, net.now(), &job));
  ASSERT_EQ(net.b.tun.size(), 1u);
  EXPECT_EQ(net.b.tun[0], ipv4_packet("10.0.0.1", "10.0.0.2", 64));
  // A job made for another datagram (other counter) is not used for this one.
  OpenJob other;
  std::vector<uint8_t> other_plain(first.bytes.size());
  ASSERT_TRUE(net.b.device.prepare_open(first.bytes, other_plain, net.now(), other));
  other.run();
  std::fill(other_plain.begin(), other_plain.end(), 0xee);
  EXPECT_FALSE(net.b.device.receive_datagram(second.bytes, second.from, net.now(), &other));
  ASSERT_EQ(net.b.tun.size(), 2u);
  EXPECT_EQ(net.b.tun[1], ipv4_packet("10.0.0.1", "10.0.0.2", 64));
}

TEST(CryptoJobs, OnlyTransportMessagesWithAKnownKeypairArePrepared) {
  SimNetwork net;
  std::vector<uint8_t> plain(2048);
  OpenJob job;
  net.a_sends();  // an initiation
  ASSERT_EQ(net.wire.size(), 1u);
  EXPECT_FALSE(net.b.device.prepare_open(net.wire.front().bytes, plain, net.now(), job));
  net.run();
  net.a_sends(100);
  std::vector<uint8_t> data = net.wire.back().bytes;
  std::vector<uint8_t> unknown = data;
  unknown[4] ^= 0xff;  // receiver index nobody holds
  EXPECT_FALSE(net.b.device.prepare_open(unknown, plain, net.now(), job));
  EXPECT_FALSE(net.b.device.prepare_open(ByteView(data.data(), 31), plain, net.now(), job));
  EXPECT_FALSE(net.b.device.prepare_open(data, MutableByteView(plain.data(), 10), net.now(), job))
      << "plaintext room too small";
  EXPECT_TRUE(net.b.device.prepare_open(data, plain, net.now(), job));
  // The device itself changed nothing.
  EXPECT_EQ(net.b.device.drops()[size_t(DropReason::kUnknownIndex)], 0u);
}

}  // namespace
}  // namespace wgp::testing
