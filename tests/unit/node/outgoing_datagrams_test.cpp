// The node's outgoing batch on a fake socket: which datagrams share a GSO
// slot, what cancel() takes back, that a full batch leaves before the next
// reservation with its seals run first, and that a datagram whose seal
// failed never leaves.
#include "node/outgoing_datagrams.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "support/fake_io.h"
#include "support/sim_network.h"

namespace wgp::testing {
namespace {

const Endpoint kFrom = endpoint("192.0.2.1:51820");
const Endpoint kTo = endpoint("192.0.2.2:51820");
const Endpoint kOther = endpoint("198.51.100.9:4000");

// Fills a reservation with `fill`.
void put(OutgoingDatagrams& out, const Endpoint& to, size_t size, uint8_t fill) {
  MutableByteView d = out.reserve(to, size);
  ASSERT_EQ(d.size(), size);
  std::memset(d.data(), fill, size);
}

struct Fixture {
  FakeNetwork net;
  FakeDatagramPort port{net, kFrom};
  FakeDatagramPort receiver{net, kTo};
  OutgoingDatagrams out{4};
  Fixture() { out.set_port(&port); }
  // Sizes of the datagrams of each slot sent, in order.
  std::vector<std::vector<size_t>> slots() const {
    std::vector<std::vector<size_t>> all;
    for (const SentSlot& s : net.sent) {
      all.emplace_back();
      for (const auto& d : s.datagrams) all.back().push_back(d.size());
    }
    return all;
  }
};

TEST(OutgoingDatagrams, EqualSizesToOneEndpointShareASlotWhenTheSocketSegments) {
  Fixture f;
  put(f.out, kTo, 100, 1);
  put(f.out, kTo, 100, 2);
  put(f.out, kTo, 60, 3);     // a shorter one may end the run
  put(f.out, kTo, 60, 4);     // but nothing may follow it
  put(f.out, kOther, 60, 5);  // another endpoint: another slot
  put(f.out, kOther, 80, 6);  // larger than the run: another slot
  EXPECT_EQ(f.out.slots_used(), 4u);
  f.out.flush();
  EXPECT_EQ(f.slots(), (std::vector<std::vector<size_t>>{{100, 100, 60}, {60}, {60}, {80}}));
  EXPECT_EQ(f.out.slots_used(), 0u);
  EXPECT_EQ(f.port.gso_violations, 0u);
}

TEST(OutgoingDatagrams, WithoutSegmentationEveryDatagramHasItsSlot) {
  Fixture f;
  f.port.disable_offloads();
  for (uint8_t i = 0; i < 3; ++i) put(f.out, kTo, 100, i);
  EXPECT_EQ(f.out.slots_used(), 3u);
  f.out.flush();
  EXPECT_EQ(f.slots(), (std::vector<std::vector<size_t>>{{100}, {100}, {100}}));
  EXPECT_EQ(f.port.gso_violations, 0u);
}

TEST(OutgoingDatagrams, CancelTakesBackTheLastReservationOnly) {
  Fixture f;
  put(f.out, kTo, 100, 1);
  put(f.out, kTo, 100, 2);  // appended
  f.out.cancel();
  f.out.cancel();             // a second cancel has nothing to take back
  put(f.out, kOther, 50, 3);  // a new slot
  f.out.cancel();
  put(f.out, kTo, 100, 4);  // joins the first slot again
  f.out.flush();
  ASSERT_EQ(f.net.sent.size(), 1u);
  ASSERT_EQ(f.net.sent[0].datagrams.size(), 2u);
  EXPECT_EQ(f.net.sent[0].datagrams[0], std::vector<uint8_t>(100, 1));
  EXPECT_EQ(f.net.sent[0].datagrams[1], std::vector<uint8_t>(100, 4));
}

TEST(OutgoingDatagrams, AFullBatchLeavesSealedBeforeTheNextReservation) {
  Fixture f;
  PrivateKey raw{};  // any 32 bytes make a ChaCha20-Poly1305 key
  AeadKey key(raw);
  const std::vector<uint8_t> plaintext(40, 0xAB);
  // Four slots (distinct sizes), each holding plaintext with a queued seal.
  for (size_t i = 0; i < 4; ++i) {
    size_t size = plaintext.size() + 16 + i;
    MutableByteView d = f.out.reserve(kTo, size);
    ASSERT_EQ(d.size(), size);
    std::memcpy(d.data(), plaintext.data(), plaintext.size());
    f.out.seal_jobs().push_back({&key, i, d.first(plaintext.size() + 16), plaintext.size(), d});
  }
  EXPECT_TRUE(f.net.sent.empty());
  // The fifth needs a slot: the four leave first, sealed.
  put(f.out, kOther, 10, 9);
  ASSERT_EQ(f.net.sent.size(), 4u);
  EXPECT_TRUE(f.out.seal_jobs().empty());
  for (size_t i = 0; i < 4; ++i) {
    const std::vector<uint8_t>& sent = f.net.sent[i].datagrams.at(0);
    EXPECT_FALSE(std::equal(plaintext.begin(), plaintext.end(), sent.begin())) << "slot " << i;
    std::vector<uint8_t> opened(plaintext.size());
    EXPECT_TRUE(key.open(i, ByteView(sent).first(plaintext.size() + 16), {}, opened));
    EXPECT_EQ(opened, plaintext);
  }
  EXPECT_EQ(f.out.slots_used(), 1u);
}

TEST(OutgoingDatagrams, ADatagramWhoseSealFailedNeverLeaves) {
  Fixture f;
  PrivateKey raw{};
  AeadKey key(raw);
  size_t unsealed = 0;
  f.out.on_unsealed([&] { ++unsealed; });
  const size_t size = 64;
  for (uint8_t i = 0; i < 3; ++i) {  // one GSO slot of three datagrams
    MutableByteView d = f.out.reserve(kTo, size);
    ASSERT_EQ(d.size(), size);
    std::memset(d.data(), 0x40 + i, size);
    // The middle one is misuse: an output too short for its tag.
    size_t plain = i == 1 ? size - 15 : size - 16;
    f.out.seal_jobs().push_back({&key, i, d, plain, d});
  }
  put(f.out, kOther, 20, 7);  // a slot of its own after it
  f.out.flush();
  EXPECT_EQ(unsealed, 1u);
  EXPECT_EQ(f.slots(), (std::vector<std::vector<size_t>>{{64, 64}, {20}}));
  // The failed one's plaintext (0x41 bytes) is nowhere on the wire.
  const std::vector<uint8_t> run(16, 0x41);
  for (const SentSlot& s : f.net.sent)
    for (const auto& d : s.datagrams)
      EXPECT_EQ(std::search(d.begin(), d.end(), run.begin(), run.end()), d.end())
          << "the plaintext of the failed seal left";
}

TEST(OutgoingDatagrams, AnUnsealedDatagramAloneInItsSlotTakesTheSlotAway) {
  Fixture f;
  PrivateKey raw{};
  AeadKey key(raw);
  put(f.out, kOther, 20, 1);
  MutableByteView d = f.out.reserve(kTo, 64);
  f.out.seal_jobs().push_back({&key, 0, d, 49, d});  // fails
  put(f.out, kOther, 30, 3);
  f.out.flush();
  EXPECT_EQ(f.slots(), (std::vector<std::vector<size_t>>{{20}, {30}}));
}

TEST(OutgoingDatagrams, WithoutASocketNothingIsSentAndAllIsCounted) {
  OutgoingDatagrams out(4);
  put(out, kTo, 10, 1);
  put(out, kOther, 10, 2);
  out.flush();
  EXPECT_EQ(out.send_errors(), 2u);
  EXPECT_EQ(out.slots_used(), 0u);
}

}  // namespace
}  // namespace wgp::testing
