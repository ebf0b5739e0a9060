// TunCoalescer: round trips through split_tun_frame, every rule that must
// prevent a merge, the caps, arena and frame limits, and a randomized check
// that re-splitting the output gives back exactly the input packets with the
// order inside every TCP flow kept.
#include "tun/tun_coalescer.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <span>

#include "tun/vnet.h"
#include "unit/tun/packet_builder.h"

namespace wgp {
namespace {

using pkt::CollectSink;
using pkt::Spec;
using Packet = std::vector<uint8_t>;

constexpr size_t kArena = 64 * 65546;

// Segments of one flow: `count` packets of `mss` bytes from spec.seq, ids consecutive.
std::vector<Packet> segments(Spec s, size_t count, size_t mss) {
  std::vector<Packet> out;
  for (size_t i = 0; i < count; ++i) {
    s.payload = pkt::pattern(mss, uint8_t(s.seq));
    out.push_back(pkt::build(s));
    s.seq += uint32_t(mss);
    s.id = uint16_t(s.id + 1);
  }
  return out;
}

// Splits every frame back into packets (a lone packet's zero header passes it through).
std::vector<Packet> resplit(std::span<const ByteView> frames) {
  CollectSink sink;
  std::vector<uint8_t> scratch(65536);
  for (ByteView f : frames) {
    Packet copy(f.begin(), f.end());
    EXPECT_EQ(split_tun_frame(copy, scratch, sink), SplitError::kNone);
  }
  return sink.packets;
}

size_t add_all(TunCoalescer& c, const std::vector<Packet>& ps) {
  size_t n = 0;
  for (const auto& p : ps) n += c.add(p);
  return n;
}

VnetHeader header_of(ByteView frame) { return VnetHeader::parse(frame); }
Packet packet_of(ByteView frame) { return Packet(frame.begin() + 10, frame.end()); }

// Split a kernel-shaped super-packet, coalesce the pieces: the original comes
// back, its TCP checksum field holding the folded pseudo-header sum, which is
// exactly what the kernel's TUN read gave us (gso_frame builds it so).
void round_trip(Spec s, uint16_t mss) {
  auto frame = pkt::gso_frame(s, mss);
  Packet original(frame.begin() + 10, frame.end());
  CollectSink sink;
  std::vector<uint8_t> scratch(65536);
  ASSERT_EQ(split_tun_frame(frame, scratch, sink), SplitError::kNone);
  TunCoalescer c(64, kArena);
  ASSERT_EQ(add_all(c, sink.packets), sink.packets.size());
  auto frames = c.frames();
  ASSERT_EQ(frames.size(), 1u);
  size_t ip = pkt::ip_header_len(s), hl = ip + pkt::l4_header_len(s);
  VnetHeader want{
      kVnetFlagNeedsCsum, s.v6 ? kGsoTcpV6 : kGsoTcpV4, uint16_t(hl), mss, uint16_t(ip), 16};
  EXPECT_EQ(header_of(frames[0]), want);
  EXPECT_EQ(packet_of(frames[0]), original);
  EXPECT_EQ(c.packets_coalesced(), sink.packets.size() - 1);
  if (!s.v6) {
    EXPECT_TRUE(pkt::ipv4_header_ok(packet_of(frames[0])));
  }
}

TEST(TunCoalescer, RoundTripIpv4WithTimestamps) {
  Spec s;
  s.options = pkt::timestamps(1, 2);
  s.flags = pkt::kAck | pkt::kPsh;
  s.payload = pkt::pattern(20 * 1448 + 77);
  round_trip(s, 1448);
}

TEST(TunCoalescer, RoundTripIpv6) {
  Spec s;
  s.v6 = true;
  s.payload = pkt::pattern(44 * 1428);
  round_trip(s, 1428);
}

TEST(TunCoalescer, RoundTripIdWrap) {
  Spec s;
  s.id = 0xfffd;
  s.seq = 0xfffff000;
  s.payload = pkt::pattern(10 * 1000);
  round_trip(s, 1000);
}

TEST(TunCoalescer, LonePacketIsWrittenUntouchedWithZeroHeader) {
  Spec s;
  s.payload = pkt::pattern(500);
  Packet p = pkt::build(s);
  TunCoalescer c(4, kArena);
  ASSERT_TRUE(c.add(p));
  auto frames = c.frames();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(header_of(frames[0]), VnetHeader{});
  EXPECT_EQ(packet_of(frames[0]), p);
  EXPECT_EQ(c.packets_coalesced(), 0u);
}

TEST(TunCoalescer, InterleavedFlowsEachCoalesce) {
  std::vector<std::vector<Packet>> flows;
  for (uint16_t f = 0; f < 4; ++f) {
    Spec s;
    s.v6 = f & 1;
    s.sport = uint16_t(40000 + f);
    s.seq = 1000u * f;
    flows.push_back(segments(s, 10, 1200));
  }
  TunCoalescer c(64, kArena);
  std::vector<Packet> in;
  for (size_t i = 0; i < 10; ++i) {
    for (auto& fl : flows) in.push_back(fl[i]);
  }
  ASSERT_EQ(add_all(c, in), in.size());
  auto frames = c.frames();
  ASSERT_EQ(frames.size(), 4u);  // in order of each flow's first packet
  for (size_t f = 0; f < 4; ++f) {
    EXPECT_EQ(header_of(frames[f]).gso_size, 1200);
    std::vector<ByteView> one = {frames[f]};
    EXPECT_EQ(resplit(one), flows[f]);
  }
  EXPECT_EQ(c.packets_coalesced(), 36u);
}

// Each case: three segments of one flow, the middle one altered; `want` is
// how many frames result (3: the odd one joins neither neighbour).
struct Breaker {
  const char* name;
  size_t want;
  void (*alter)(Spec& second);
};

TEST(TunCoalescer, RulesThatPreventMerging) {
  const Breaker cases[] = {
      {"baseline", 1, [](Spec&) {}},
      {"gap in seq", 3, [](Spec& s) { s.seq += 1; }},
      {"retransmission", 3, [](Spec& s) { s.seq -= 1000; }},
      {"other ack", 3, [](Spec& s) { s.ack += 1; }},
      {"other window", 3, [](Spec& s) { s.window += 1; }},
      {"other options", 3, [](Spec& s) { s.options = pkt::timestamps(9, 9); }},
      {"psh in the middle", 2, [](Spec& s) { s.flags |= pkt::kPsh; }},
      {"syn", 3, [](Spec& s) { s.flags |= pkt::kSyn; }},
      {"fin", 3, [](Spec& s) { s.flags |= pkt::kFin; }},
      {"rst", 3, [](Spec& s) { s.flags |= pkt::kRst; }},
      {"urg", 3, [](Spec& s) { s.flags |= pkt::kUrg; }},
      {"ece", 3, [](Spec& s) { s.flags |= pkt::kEce; }},
      {"cwr", 3, [](Spec& s) { s.flags |= pkt::kCwr; }},
      {"no ack", 3, [](Spec& s) { s.flags = 0; }},
      {"other ttl", 3, [](Spec& s) { s.ttl -= 1; }},
      {"other tos", 3, [](Spec& s) { s.tos = 2; }},
      {"df cleared", 3, [](Spec& s) { s.df = false; }},
      {"id jump", 3, [](Spec& s) { s.id += 5; }},
      {"same id", 3, [](Spec& s) { s.id -= 1; }},
      {"ipv4 options", 3,
       [](Spec& s) {
         s.ipv4_options = {1, 1, 1, 0};
       }},
      {"bigger payload", 3, [](Spec& s) { s.payload.push_back(1); }},
  };
  for (const Breaker& b : cases) {
    SCOPED_TRACE(b.name);
    Spec s;
    s.options = pkt::timestamps(1, 2);
    auto ps = segments(s, 3, 1000);
    Spec second = s;
    second.seq += 1000;
    second.id += 1;
    second.payload = pkt::pattern(1000, uint8_t(second.seq));
    b.alter(second);
    ps[1] = pkt::build(second);
    TunCoalescer c(64, kArena);
    ASSERT_EQ(add_all(c, ps), 3u);
    auto frames = c.frames();
    EXPECT_EQ(frames.size(), b.want);
    EXPECT_EQ(resplit(frames), ps);  // nothing lost, nothing reordered
  }
}

TEST(TunCoalescer, PshFirstStaysAloneAndIpv4OptionsNeverMerge) {
  Spec s;
  auto ps = segments(s, 3, 1000);
  Spec first = s;
  first.flags |= pkt::kPsh;
  first.payload = pkt::pattern(1000, uint8_t(first.seq));
  ps[0] = pkt::build(first);
  TunCoalescer c(64, kArena);
  ASSERT_EQ(add_all(c, ps), 3u);
  auto frames = c.frames();
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(header_of(frames[0]), VnetHeader{});
  EXPECT_EQ(header_of(frames[1]).gso_type, kGsoTcpV4);
  EXPECT_EQ(resplit(frames), ps);

  s.ipv4_options = {0x94, 0x04, 0, 0};  // router alert
  auto opt = segments(s, 3, 1000);
  c.clear();
  ASSERT_EQ(add_all(c, opt), 3u);
  EXPECT_EQ(c.frames().size(), 3u);
}

TEST(TunCoalescer, ShortSegmentEndsTheFrame) {
  Spec s;
  auto ps = segments(s, 2, 1000);
  s.seq += 2000;
  s.id += 2;
  auto tail = segments(s, 2, 400);  // 400 after 1000: merged, then ends the frame
  ps.insert(ps.end(), tail.begin(), tail.end());
  TunCoalescer c(64, kArena);
  ASSERT_EQ(add_all(c, ps), 4u);
  auto frames = c.frames();
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(header_of(frames[0]).gso_size, 1000);
  EXPECT_EQ(frames[0].size(), 10 + 40 + 2400u);
  EXPECT_EQ(header_of(frames[1]), VnetHeader{});
  EXPECT_EQ(resplit(frames), ps);
}

TEST(TunCoalescer, ZeroPayloadAndBadChecksumAreNotMerged) {
  Spec s;
  auto ps = segments(s, 3, 1000);
  Spec ack = s;
  ack.seq += 1000;
  Packet pure_ack = pkt::build(ack);
  TunCoalescer c(64, kArena);
  ASSERT_TRUE(c.add(ps[0]));
  ASSERT_TRUE(c.add(pure_ack));  // closes the flow's frame: ps[1] may not pass it
  ASSERT_TRUE(c.add(ps[1]));
  EXPECT_EQ(c.frames().size(), 3u);

  c.clear();
  Packet bad = ps[1];
  bad.back() ^= 0x55;
  ASSERT_EQ(add_all(c, {ps[0], bad, ps[2]}), 3u);
  auto frames = c.frames();
  ASSERT_EQ(frames.size(), 3u);  // a corrupt segment must reach the kernel unchanged, to be dropped
  EXPECT_EQ(packet_of(frames[1]), bad);
}

TEST(TunCoalescer, OtherProtocolsPassAndTcpFragmentsCloseTheirHostPair) {
  Spec s;
  auto ps = segments(s, 3, 1000);
  Spec u;
  u.udp = true;
  u.payload = pkt::pattern(300);
  Packet udp = pkt::build(u);
  TunCoalescer c(64, kArena);
  ASSERT_EQ(add_all(c, {ps[0], udp, ps[1], ps[2]}), 4u);
  auto frames = c.frames();
  ASSERT_EQ(frames.size(), 2u);  // UDP between the segments does not stop the merge
  EXPECT_EQ(packet_of(frames[1]), udp);

  c.clear();
  Packet frag = ps[1];
  frag[6] |= 0x20;  // MF: part of some TCP segment between the same hosts
  ASSERT_EQ(add_all(c, {ps[0], frag, ps[1], ps[2]}), 4u);
  frames = c.frames();
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(packet_of(frames[1]), frag);
}

TEST(TunCoalescer, SegmentCapIs64) {
  Spec s;
  auto ps = segments(s, 70, 100);
  TunCoalescer c(64, kArena);
  ASSERT_EQ(add_all(c, ps), 70u);
  auto frames = c.frames();
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].size(), 10 + 40 + 64 * 100u);
  EXPECT_EQ(frames[1].size(), 10 + 40 + 6 * 100u);
  EXPECT_EQ(resplit(frames), ps);
}

TEST(TunCoalescer, IpLengthCapsAFrame) {
  Spec s;
  s.v6 = true;
  auto ps = segments(s, 60, 1400);
  TunCoalescer c(64, kArena);
  ASSERT_EQ(add_all(c, ps), 60u);
  auto frames = c.frames();
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].size(), 10 + 60 + 46 * 1400u);  // 47 would exceed 65535
  EXPECT_LE(frames[0].size() - 10, 65535u);
  EXPECT_EQ(resplit(frames), ps);
}

TEST(TunCoalescer, FullArenaAndFrameLimitAskForAFlush) {
  Spec s;
  s.sport = 1;
  Packet a = pkt::build(s);
  TunCoalescer tiny(2, 65545);
  std::vector<uint8_t> biggest(65535, 0);
  biggest[0] = 0x45;
  EXPECT_TRUE(tiny.add(biggest));  // an empty coalescer always takes a 64 KiB packet
  EXPECT_FALSE(tiny.add(a));       // no room left
  EXPECT_EQ(tiny.frame_count(), 1u);
  tiny.clear();
  std::vector<uint8_t> too_big(65536, 0);
  EXPECT_FALSE(tiny.add(too_big));  // can never fit: the caller drops it

  TunCoalescer two(2, kArena);
  Spec u;
  u.udp = true;
  Packet udp = pkt::build(u);
  EXPECT_TRUE(two.add(udp));
  EXPECT_TRUE(two.add(udp));
  EXPECT_FALSE(two.add(udp));
  EXPECT_EQ(two.frames().size(), 2u);
  two.clear();
  EXPECT_TRUE(two.add(udp));

  TunCoalescer none(0, kArena);
  EXPECT_FALSE(none.add(udp));
}

// Open frames reserve room to grow; when the arena runs short the newest one
// gives its reservation back instead of refusing the packet.
TEST(TunCoalescer, ReservationIsReturnedWhenTheArenaRunsShort) {
  TunCoalescer c(64, 2 * 65546);
  std::vector<Packet> all;
  for (uint16_t f = 0; f < 5; ++f) {
    Spec s;
    s.sport = uint16_t(100 + f);
    auto ps = segments(s, 2, 1000);
    all.insert(all.end(), ps.begin(), ps.end());
  }
  size_t added = 0;
  for (const auto& p : all) {
    if (!c.add(p)) break;
    ++added;
  }
  EXPECT_EQ(added, all.size());
  auto frames = c.frames();
  EXPECT_GE(frames.size(), 5u);
  std::vector<Packet> want(all.begin(), all.begin() + long(added));
  auto got = resplit(frames);
  std::sort(got.begin(), got.end());
  std::sort(want.begin(), want.end());
  EXPECT_EQ(got, want);
}

TEST(TunCoalescer, AddAfterFramesKeepsGrowing) {
  Spec s;
  auto ps = segments(s, 4, 1000);
  TunCoalescer c(64, kArena);
  ASSERT_EQ(add_all(c, {ps[0], ps[1]}), 2u);
  ASSERT_EQ(c.frames().size(), 1u);
  ASSERT_EQ(add_all(c, {ps[2], ps[3]}), 2u);
  auto frames = c.frames();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(resplit(frames), ps);
}

// Random traffic over a few flows with seq jumps, flag noise, odd sizes, a
// few corrupted checksums and non-TCP packets: splitting the output again must
// return every input packet byte for byte, each flow in its input order. With
// coalesce_udp some flows are UDP ones (odd sizes, id gaps and corruption too).
// With kTrust nothing is corrupted: a corrupted segment would merge and come
// back with a recomputed checksum (TrustedChecksumsMergeAsKernelGroDoes).
// With `borrowed`, every other packet is added with add_borrowed (`in` keeps
// them in place until the frames are split again).
void random_traffic(bool coalesce_udp, uint32_t seed,
                    TunCoalescer::L4Checksums l4 = TunCoalescer::L4Checksums::kVerify,
                    bool borrowed = false) {
  const bool corrupt = l4 == TunCoalescer::L4Checksums::kVerify;
  std::mt19937 rng(seed);
  for (int round = 0; round < 300; ++round) {
    std::vector<Spec> flows(1 + rng() % 5);
    for (size_t f = 0; f < flows.size(); ++f) {
      flows[f].udp = coalesce_udp && rng() % 2 == 0;
      flows[f].v6 = rng() & 1;
      flows[f].sport = uint16_t(1000 + f);
      flows[f].seq = rng();
      flows[f].id = uint16_t(rng());
      if (rng() & 1) flows[f].options = pkt::timestamps(rng(), rng());
    }
    std::vector<Packet> in;
    for (int i = 0; i < 150; ++i) {
      Spec& s = flows[rng() % flows.size()];
      size_t len = (rng() % 4 == 0) ? rng() % 1400 : 1000;
      s.payload = pkt::pattern(len, uint8_t(rng()));
      s.flags = (rng() % 10 == 0) ? uint8_t(rng()) : (rng() % 8 == 0 ? 0x18 : 0x10);
      if (rng() % 20 == 0) s.seq += rng() % 3000;
      if (s.udp && rng() % 25 == 0) s.id = uint16_t(s.id + 2);
      if (rng() % 30 == 0) s.ack += 1;
      Packet p = pkt::build(s);
      if (rng() % 25 == 0 && corrupt) p.back() ^= 1;
      if (rng() % 15 == 0) {
        Spec u = s;
        u.udp = !s.udp;
        p = pkt::build(u);
      }
      in.push_back(p);
      s.seq += uint32_t(len);
      s.id = uint16_t(s.id + 1);
    }
    TunCoalescer c(32, 16 * 65546, coalesce_udp, l4);
    std::vector<Packet> out;
    for (size_t i = 0; i < in.size(); ++i) {
      auto add = [&] { return borrowed && i % 2 ? c.add_borrowed(in[i]) : c.add(in[i]); };
      if (!add()) {
        auto more = resplit(c.frames());
        out.insert(out.end(), more.begin(), more.end());
        c.clear();
        ASSERT_TRUE(add());
      }
    }
    auto more = resplit(c.frames());
    out.insert(out.end(), more.begin(), more.end());
    // Per flow (protocol + ports): the same packets in the same order.
    auto by_flow = [](const std::vector<Packet>& ps) {
      std::map<std::vector<uint8_t>, std::vector<Packet>> m;
      for (const auto& p : ps) {
        size_t ip = (p[0] >> 4) == 6 ? 40 : 20;
        std::vector<uint8_t> key = {p[0], (p[0] >> 4) == 6 ? p[6] : p[9], p[ip], p[ip + 1]};
        m[key].push_back(p);
      }
      return m;
    };
    ASSERT_EQ(out.size(), in.size());
    ASSERT_EQ(by_flow(out), by_flow(in)) << "round " << round;
    if (::testing::Test::HasFatalFailure()) return;
  }
}

TEST(TunCoalescer, RandomTrafficRoundTripsExactly) { random_traffic(false, 99); }
TEST(TunCoalescer, RandomTcpAndUdpTrafficRoundTripsExactly) { random_traffic(true, 7); }
TEST(TunCoalescer, RandomTrafficRoundTripsExactlyTrustingChecksums) {
  random_traffic(true, 11, TunCoalescer::L4Checksums::kTrust);
}
TEST(TunCoalescer, RandomTrafficRoundTripsExactlyBorrowedAndCopied) {
  random_traffic(true, 13, TunCoalescer::L4Checksums::kTrust, true);
  random_traffic(false, 17, TunCoalescer::L4Checksums::kVerify, true);
}

// add_borrowed: a frame is its head (vnet header and the first packet's
// headers, in the coalescer) and then the payloads where the caller keeps
// them: nothing of a payload is copied, and the pieces make up exactly the
// frame that frames() gives. A copied packet between borrowed ones gets a
// piece of its own in the arena.
TEST(TunCoalescer, BorrowedPayloadsArePointedAtNotCopied) {
  Spec s;
  s.options = pkt::timestamps(5, 6);
  auto ps = segments(s, 5, 1368);
  TunCoalescer c(64, kArena, false, TunCoalescer::L4Checksums::kTrust);
  ASSERT_TRUE(c.add_borrowed(ps[0]));
  ASSERT_TRUE(c.add_borrowed(ps[1]));
  ASSERT_TRUE(c.add(ps[2]));
  ASSERT_TRUE(c.add(ps[3]));  // right after ps[2]'s copy: the same piece grows
  ASSERT_TRUE(c.add_borrowed(ps[4]));
  auto lists = c.pieces();
  ASSERT_EQ(lists.size(), 1u);
  auto pieces = lists[0];
  const size_t hl = 20 + 32;
  ASSERT_EQ(pieces.size(), 5u);
  EXPECT_EQ(pieces[0].size(), 10 + hl);
  for (size_t i : {0, 1}) {
    EXPECT_EQ(pieces[1 + i].data(), ps[i].data() + hl) << "payload " << i << " was copied";
    EXPECT_EQ(pieces[1 + i].size(), 1368u);
  }
  EXPECT_EQ(pieces[3].size(), 2 * 1368u);
  EXPECT_EQ(pieces[4].data(), ps[4].data() + hl);
  Packet joined;
  for (ByteView p : pieces) joined.insert(joined.end(), p.begin(), p.end());
  auto frames = c.frames();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(joined, Packet(frames[0].begin(), frames[0].end()));
  EXPECT_EQ(resplit(frames), ps);

  // A lone borrowed packet that cannot grow: a zero vnet header, then the
  // packet itself, untouched.
  c.clear();
  Spec u;
  u.payload = pkt::pattern(300);
  u.flags = pkt::kAck | pkt::kPsh;
  Packet lone = pkt::build(u);
  ASSERT_TRUE(c.add_borrowed(lone));
  lists = c.pieces();
  ASSERT_EQ(lists.size(), 1u);
  ASSERT_EQ(lists[0].size(), 2u);
  EXPECT_EQ(lists[0][0].size(), 10u);
  EXPECT_EQ(lists[0][1].data(), lone.data());
  EXPECT_EQ(lists[0][1].size(), lone.size());
}

// kTrust (what TunIo uses for authenticated packets): a segment whose TCP or
// UDP checksum is wrong merges like any other, as kernel WireGuard's GRO
// merges what Poly1305 authenticated without checking it. The frame goes out
// CHECKSUM_PARTIAL, so a re-split (the kernel forwarding it) gives every
// segment a correct checksum over the bytes received. The IPv4 header
// checksum is still checked, as inet_gro_receive checks it.
TEST(TunCoalescer, TrustedChecksumsMergeAsKernelGroDoes) {
  for (bool udp : {false, true}) {
    Spec s;
    s.udp = udp;
    auto ps = segments(s, 3, 1000);
    Packet bad = ps[1];
    bad.back() ^= 0x55;
    TunCoalescer trusting(64, kArena, udp, TunCoalescer::L4Checksums::kTrust);
    ASSERT_EQ(add_all(trusting, {ps[0], bad, ps[2]}), 3u);
    auto frames = trusting.frames();
    ASSERT_EQ(frames.size(), 1u) << "udp " << udp;
    EXPECT_EQ(trusting.packets_coalesced(), 2u);
    auto out = resplit(frames);
    ASSERT_EQ(out.size(), 3u);
    EXPECT_EQ(out[0], ps[0]);
    EXPECT_EQ(out[2], ps[2]);
    EXPECT_TRUE(pkt::l4_checksum_ok(out[1]));
    size_t csum_at = 20 + (udp ? 6 : 16);
    Packet without_checksum = out[1];
    without_checksum[csum_at] = bad[csum_at];
    without_checksum[csum_at + 1] = bad[csum_at + 1];
    EXPECT_EQ(without_checksum, bad);  // the same bytes, the checksum recomputed

    TunCoalescer verifying(64, kArena, udp);  // kVerify: the corrupt one stands alone
    ASSERT_EQ(add_all(verifying, {ps[0], bad, ps[2]}), 3u);
    EXPECT_EQ(verifying.frames().size(), 3u);

    Packet bad_ip = ps[1];
    bad_ip[10] ^= 1;
    trusting.clear();
    ASSERT_EQ(add_all(trusting, {ps[0], bad_ip, ps[2]}), 3u);
    frames = trusting.frames();
    ASSERT_EQ(frames.size(), 3u);
    EXPECT_EQ(packet_of(frames[1]), bad_ip);
  }
}

// Mangled packets (truncated, bytes flipped in the headers): no crash or
// overrun (ASan build), and every merged frame splits into packets with
// valid checksums.
TEST(TunCoalescer, MangledPacketsNeverMisbehave) {
  std::mt19937 rng(5);
  TunCoalescer c(16, 8 * 65546);
  Spec s;
  s.options = pkt::timestamps(3, 4);
  for (int iter = 0; iter < 3000; ++iter) {
    s.v6 = (iter / 100) & 1;
    s.payload = pkt::pattern(rng() % 3 == 0 ? rng() % 1500 : 1000, uint8_t(iter));
    Packet p = pkt::build(s);
    s.seq += uint32_t(s.payload.size());
    s.id = uint16_t(s.id + 1);
    if (rng() % 2) {
      int flips = 1 + int(rng() % 3);
      for (int i = 0; i < flips; ++i) p[rng() % std::min<size_t>(p.size(), 80)] ^= uint8_t(rng());
    }
    if (rng() % 4 == 0) p.resize(rng() % (p.size() + 1));
    if (!c.add(p)) {
      c.clear();
      ASSERT_TRUE(c.add(p));
    }
    if (rng() % 40 == 0) {
      for (ByteView f : c.frames()) {
        ASSERT_GT(f.size(), kVnetHeaderSize);
        if (header_of(f).gso_type == kGsoNone) continue;
        for (const Packet& seg : resplit(std::vector<ByteView>{f})) {
          ASSERT_TRUE(pkt::l4_checksum_ok(seg));
        }
      }
      c.clear();
    }
  }
}

// --- UDP (coalesce_udp: a device that took USO) ---

// `count` datagrams of `size` payload bytes of one flow, ids consecutive.
std::vector<Packet> datagrams(Spec s, size_t count, size_t size) {
  s.udp = true;
  std::vector<Packet> out;
  for (size_t i = 0; i < count; ++i) {
    s.payload = pkt::pattern(size, uint8_t(i));
    out.push_back(pkt::build(s));
    s.id = uint16_t(s.id + 1);
  }
  return out;
}

// A kernel-shaped USO frame, split and coalesced again: the original comes
// back whole. Its UDP length covers the whole super-packet and its checksum
// field holds the folded pseudo-header sum over that length (what gso_frame
// builds, like udp_gro_complete), with a GSO_UDP_L4 header whose gso_size
// excludes the 8-byte UDP header.
void udp_round_trip(Spec s, uint16_t gso_size) {
  s.udp = true;
  auto frame = pkt::gso_frame(s, gso_size);
  Packet original(frame.begin() + 10, frame.end());
  CollectSink sink;
  std::vector<uint8_t> scratch(65536);
  ASSERT_EQ(split_tun_frame(frame, scratch, sink), SplitError::kNone);
  ASSERT_GT(sink.packets.size(), 1u);
  TunCoalescer c(64, kArena, /*coalesce_udp=*/true);
  ASSERT_EQ(add_all(c, sink.packets), sink.packets.size());
  auto frames = c.frames();
  ASSERT_EQ(frames.size(), 1u);
  size_t ip = pkt::ip_header_len(s);
  VnetHeader want{kVnetFlagNeedsCsum, kGsoUdpL4, uint16_t(ip + 8), gso_size, uint16_t(ip), 6};
  EXPECT_EQ(header_of(frames[0]), want);
  Packet got = packet_of(frames[0]);
  EXPECT_EQ(got, original);
  EXPECT_EQ(load_be16(&got[ip + 4]), got.size() - ip);
  EXPECT_EQ(c.packets_coalesced(), sink.packets.size() - 1);
  if (!s.v6) {
    EXPECT_TRUE(pkt::ipv4_header_ok(got));
  }
}

TEST(TunCoalescer, UdpRoundTripIpv4WithShortLast) {
  Spec s;
  s.payload = pkt::pattern(10 * 1200 + 345);
  udp_round_trip(s, 1200);
}

TEST(TunCoalescer, UdpRoundTripIpv6Exact) {
  Spec s;
  s.v6 = true;
  s.ttl = 17;
  s.payload = pkt::pattern(20 * 1000);
  udp_round_trip(s, 1000);
}

TEST(TunCoalescer, UdpRoundTripIdWrapAndFullSegmentCap) {
  Spec s;
  s.id = 0xffe0;
  s.payload = pkt::pattern(64 * 900);
  udp_round_trip(s, 900);
}

TEST(TunCoalescer, UdpIsNotMergedWithoutUso) {
  auto ps = datagrams(Spec{}, 10, 1000);
  TunCoalescer c(64, kArena);  // coalesce_udp defaults to false
  ASSERT_EQ(add_all(c, ps), ps.size());
  auto frames = c.frames();
  ASSERT_EQ(frames.size(), ps.size());
  for (size_t i = 0; i < ps.size(); ++i) {
    EXPECT_EQ(header_of(frames[i]), VnetHeader{});
    EXPECT_EQ(packet_of(frames[i]), ps[i]);
  }
  EXPECT_EQ(c.packets_coalesced(), 0u);
}

TEST(TunCoalescer, UdpLoneDatagramIsWrittenUntouched) {
  auto ps = datagrams(Spec{}, 1, 1000);
  TunCoalescer c(4, kArena, true);
  ASSERT_TRUE(c.add(ps[0]));
  auto frames = c.frames();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(header_of(frames[0]), VnetHeader{});
  EXPECT_EQ(packet_of(frames[0]), ps[0]);
}

// Three datagrams of one flow, the middle one altered; `want` frames result.
struct UdpBreaker {
  const char* name;
  size_t want;
  void (*alter)(Spec& second);
  void (*mangle)(Packet& second);
};

// Three datagrams of one flow with the middle one altered and/or mangled:
// the frames must number `want`, and re-split give back exactly the three.
void check_udp_breakers(bool v6, std::span<const UdpBreaker> cases) {
  for (const UdpBreaker& b : cases) {
    SCOPED_TRACE(b.name);
    Spec s;
    s.v6 = v6;
    s.udp = true;
    auto ps = datagrams(s, 3, 1000);
    Spec second = s;
    second.id += 1;
    second.payload = pkt::pattern(1000, 1);
    b.alter(second);
    ps[1] = pkt::build(second);
    b.mangle(ps[1]);
    TunCoalescer c(64, kArena, true);
    ASSERT_EQ(add_all(c, ps), 3u);
    auto frames = c.frames();
    EXPECT_EQ(frames.size(), b.want);
    EXPECT_EQ(resplit(frames), ps);  // nothing lost, nothing reordered
  }
}

TEST(TunCoalescer, UdpRulesThatPreventMerging) {
  auto none = [](Spec&) {};
  auto keep = [](Packet&) {};
  const UdpBreaker cases[] = {
      {"baseline", 1, none, keep},
      // The short one ends the frame: the third starts another.
      {"shorter in the middle", 2, [](Spec& s) { s.payload.pop_back(); }, keep},
      // Refused, so it starts a frame of gso_size 1001 that the third joins as its short end.
      {"bigger in the middle", 2, [](Spec& s) { s.payload.push_back(1); }, keep},
      {"id jump", 3, [](Spec& s) { s.id += 5; }, keep},
      {"same id", 3, [](Spec& s) { s.id -= 1; }, keep},
      {"other ttl", 3, [](Spec& s) { s.ttl -= 1; }, keep},
      {"other tos", 3, [](Spec& s) { s.tos = 4; }, keep},
      {"df cleared", 3, [](Spec& s) { s.df = false; }, keep},
      {"ipv4 options", 3,
       [](Spec& s) {
         s.ipv4_options = {1, 1, 1, 0};
       },
       keep},
      {"checksum 0 (none)", 3, none,
       [](Packet& p) {
         p[26] = 0;
         p[27] = 0;
       }},
      {"bad checksum", 3, none, [](Packet& p) { p.back() ^= 0x40; }},
      {"bad ip header checksum", 3, none, [](Packet& p) { p[10] ^= 1; }},
      {"udp length short of the packet", 3, none, [](Packet& p) { store_be16(&p[24], 1000); }},
  };
  check_udp_breakers(false, cases);
}

TEST(TunCoalescer, UdpIpv6RulesThatPreventMerging) {
  const UdpBreaker cases[] = {
      {"baseline", 1, [](Spec&) {}, [](Packet&) {}},
      {"other hop limit", 3, [](Spec& s) { s.ttl += 1; }, [](Packet&) {}},
      {"other traffic class", 3, [](Spec& s) { s.tos = 0x20; }, [](Packet&) {}},
      {"other flow label", 3, [](Spec&) {}, [](Packet& p) { p[3] ^= 1; }},
      {"checksum 0 (invalid)", 3, [](Spec&) {},
       [](Packet& p) {
         p[46] = 0;
         p[47] = 0;
       }},
  };
  check_udp_breakers(true, cases);
}

TEST(TunCoalescer, UdpOtherPortsOrAddressesAreOtherFlows) {
  Spec a;
  Spec b = a;
  b.sport += 1;
  Spec d = a;
  d.dport += 1;
  Spec e = a;
  e.dst_last = 9;
  std::vector<std::vector<Packet>> flows = {datagrams(a, 5, 800), datagrams(b, 5, 800),
                                            datagrams(d, 5, 800), datagrams(e, 5, 800)};
  std::vector<Packet> in;
  for (size_t i = 0; i < 5; ++i)
    for (auto& f : flows) in.push_back(f[i]);
  TunCoalescer c(64, kArena, true);
  ASSERT_EQ(add_all(c, in), in.size());
  auto frames = c.frames();
  ASSERT_EQ(frames.size(), 4u);
  for (size_t f = 0; f < 4; ++f) {
    EXPECT_EQ(header_of(frames[f]).gso_type, kGsoUdpL4);
    EXPECT_EQ(resplit(std::vector<ByteView>{frames[f]}), flows[f]);
  }
  EXPECT_EQ(c.packets_coalesced(), 16u);
}

TEST(TunCoalescer, UdpAndTcpOnTheSamePortsInterleaved) {
  Spec t;
  t.options = pkt::timestamps(1, 2);
  auto tcp = segments(t, 8, 1000);
  Spec u;
  u.id = 0x4000;  // its own id sequence
  auto udp = datagrams(u, 8, 1000);
  std::vector<Packet> in;
  for (size_t i = 0; i < 8; ++i) {
    in.push_back(tcp[i]);
    in.push_back(udp[i]);
  }
  TunCoalescer c(64, kArena, true);
  ASSERT_EQ(add_all(c, in), in.size());
  auto frames = c.frames();
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(header_of(frames[0]).gso_type, kGsoTcpV4);
  EXPECT_EQ(header_of(frames[1]).gso_type, kGsoUdpL4);
  EXPECT_EQ(resplit(std::vector<ByteView>{frames[0]}), tcp);
  EXPECT_EQ(resplit(std::vector<ByteView>{frames[1]}), udp);
  EXPECT_EQ(c.packets_coalesced(), 14u);
}

// The 64-segment cap (100-byte datagrams), then the 65535-byte IP length cap
// (1400-byte datagrams: 28 + 46 * 1400 = 64428; a 47th would make 65828).
TEST(TunCoalescer, UdpSegmentAndIpLengthCapsEndAFrame) {
  struct Cap {
    size_t count, size, first_segments;
  };
  for (Cap cap : {Cap{70, 100, 64}, Cap{60, 1400, 46}}) {
    SCOPED_TRACE(cap.size);
    auto ps = datagrams(Spec{}, cap.count, cap.size);
    TunCoalescer c(64, kArena, true);
    ASSERT_EQ(add_all(c, ps), ps.size());
    auto frames = c.frames();
    ASSERT_EQ(frames.size(), 2u);
    Packet first = packet_of(frames[0]);
    EXPECT_EQ(first.size(), 28u + cap.first_segments * cap.size);
    EXPECT_EQ(load_be16(&first[2]), first.size());
    EXPECT_EQ(load_be16(&first[24]), first.size() - 20);
    EXPECT_EQ(header_of(frames[1]).gso_size, cap.size);
    EXPECT_EQ(resplit(frames), ps);
  }
}

TEST(TunCoalescer, UdpIpv4FragmentClosesItsHostPair) {
  auto ps = datagrams(Spec{}, 4, 1000);
  Spec f;
  f.udp = true;
  f.payload = pkt::pattern(1000);
  Packet frag = pkt::build(f);
  frag[6] |= 0x20;  // MF: the first fragment of a bigger datagram
  std::vector<Packet> in = {ps[0], ps[1], frag, ps[2], ps[3]};
  TunCoalescer c(64, kArena, true);
  ASSERT_EQ(add_all(c, in), in.size());
  auto frames = c.frames();
  ASSERT_EQ(frames.size(), 3u);  // [0,1], the fragment, [2,3]
  EXPECT_EQ(resplit(frames), in);
}

}  // namespace
}  // namespace wgp
