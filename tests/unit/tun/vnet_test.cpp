// split_tun_frame against kernel-shaped TSO/USO frames built here, every
// output field and checksum checked independently (packet_builder.h's naive
// sums); every error; and a mutation loop that must never crash or hand out
// a packet with a bad checksum.
#include "tun/vnet.h"

#include <gtest/gtest.h>
// The uapi header names a field `class`, which C++ reserves.
#define class class_
#include <linux/virtio_net.h>
#undef class

#include <cstddef>
#include <random>

#include "unit/tun/packet_builder.h"

namespace wgp {
namespace {

using pkt::CollectSink;
using pkt::Spec;

static_assert(sizeof(virtio_net_hdr) == kVnetHeaderSize);
static_assert(kGsoTcpV4 == VIRTIO_NET_HDR_GSO_TCPV4 && kGsoTcpV6 == VIRTIO_NET_HDR_GSO_TCPV6);
static_assert(kGsoUdp == VIRTIO_NET_HDR_GSO_UDP && kGsoEcn == VIRTIO_NET_HDR_GSO_ECN);
static_assert(kVnetFlagNeedsCsum == VIRTIO_NET_HDR_F_NEEDS_CSUM);
static_assert(kVnetFlagDataValid == VIRTIO_NET_HDR_F_DATA_VALID);

SplitError split(std::vector<uint8_t>& frame, CollectSink& sink) {
  std::vector<uint8_t> scratch(65536);
  return split_tun_frame(frame, scratch, sink);
}

TEST(Vnet, HeaderLayoutIsTheKernelStruct) {
  virtio_net_hdr k{};
  k.flags = 1;
  k.gso_type = 4;
  k.hdr_len = 0x1234;
  k.gso_size = 1448;
  k.csum_start = 40;
  k.csum_offset = 16;
  ByteView raw(reinterpret_cast<const uint8_t*>(&k), sizeof k);
  VnetHeader h = VnetHeader::parse(raw);
  EXPECT_EQ(h.flags, 1);
  EXPECT_EQ(h.gso_type, 4);
  EXPECT_EQ(h.hdr_len, 0x1234);
  EXPECT_EQ(h.gso_size, 1448);
  EXPECT_EQ(h.csum_start, 40);
  EXPECT_EQ(h.csum_offset, 16);
  std::vector<uint8_t> out(10, 0xee);
  h.write(out);
  EXPECT_EQ(0, std::memcmp(out.data(), &k, 10));
}

// Checks one split TCP segment field by field against the super-packet spec.
void expect_tcp_segment(const std::vector<uint8_t>& seg, const Spec& s, size_t index, size_t count,
                        uint16_t mss) {
  SCOPED_TRACE("segment " + std::to_string(index));
  size_t ip = pkt::ip_header_len(s), hl = ip + pkt::l4_header_len(s);
  size_t begin = index * mss;
  size_t len = std::min<size_t>(mss, s.payload.size() - begin);
  ASSERT_EQ(seg.size(), hl + len);
  if (s.v6) {
    EXPECT_EQ(load_be16(&seg[4]), hl + len - 40);
  } else {
    EXPECT_EQ(load_be16(&seg[2]), hl + len);
    EXPECT_EQ(load_be16(&seg[4]), uint16_t(s.id + index));
    EXPECT_TRUE(pkt::ipv4_header_ok(seg));
  }
  EXPECT_EQ(pkt::be32(&seg[ip + 4]), s.seq + uint32_t(begin));
  EXPECT_EQ(pkt::be32(&seg[ip + 8]), s.ack);
  uint8_t want = s.flags;
  if (index + 1 < count) want &= ~(pkt::kFin | pkt::kPsh);
  if (index > 0) want &= ~pkt::kCwr;
  EXPECT_EQ(seg[ip + 13], want);
  EXPECT_EQ(load_be16(&seg[ip + 14]), s.window);
  EXPECT_TRUE(std::equal(s.options.begin(), s.options.end(), &seg[ip + 20]));
  EXPECT_TRUE(std::equal(seg.begin() + hl, seg.end(), s.payload.begin() + begin));
  EXPECT_TRUE(pkt::l4_checksum_ok(seg));
}

void check_tso(const Spec& s, uint16_t mss, size_t want_count) {
  auto frame = pkt::gso_frame(s, mss);
  CollectSink sink;
  ASSERT_EQ(split(frame, sink), SplitError::kNone);
  ASSERT_EQ(sink.packets.size(), want_count);
  for (size_t i = 0; i < want_count; ++i)
    expect_tcp_segment(sink.packets[i], s, i, want_count, mss);
}

TEST(Vnet, SplitsTso4WithTimestampsShortLastSegment) {
  Spec s;
  s.options = pkt::timestamps(111, 222);
  s.payload = pkt::pattern(3 * 1448 + 500);
  s.flags = pkt::kAck | pkt::kPsh | pkt::kFin;
  check_tso(s, 1448, 4);
}

TEST(Vnet, SplitsTso6ExactMultiple) {
  Spec s;
  s.v6 = true;
  s.payload = pkt::pattern(5 * 1428, 3);
  s.flags = pkt::kAck | pkt::kPsh;
  check_tso(s, 1428, 5);
}

TEST(Vnet, SplitsTso6WithTimestamps) {
  Spec s;
  s.v6 = true;
  s.options = pkt::timestamps(5, 6);
  s.payload = pkt::pattern(64000, 9);
  check_tso(s, 1400, 46);
}

TEST(Vnet, CwrOnlyOnFirstSegmentWithEcnGso) {
  Spec s;
  s.flags = pkt::kAck | pkt::kCwr | pkt::kPsh;
  s.payload = pkt::pattern(3000);
  auto frame = pkt::gso_frame(s, 1000, kGsoTcpV4 | kGsoEcn);
  CollectSink sink;
  ASSERT_EQ(split(frame, sink), SplitError::kNone);
  ASSERT_EQ(sink.packets.size(), 3u);
  for (size_t i = 0; i < 3; ++i) expect_tcp_segment(sink.packets[i], s, i, 3, 1000);
}

TEST(Vnet, Ipv4IdAndSequenceWrap) {
  Spec s;
  s.id = 0xfffe;
  s.seq = 0xffffffff - 1500;
  s.payload = pkt::pattern(4 * 1000);
  check_tso(s, 1000, 4);  // ids fffe ffff 0000 0001, seq wraps in segment 2
}

TEST(Vnet, PayloadWithinOneSegmentIsCompletedOnly) {
  Spec s;
  s.options = pkt::timestamps(1, 2);
  s.flags = pkt::kAck | pkt::kPsh;
  s.payload = pkt::pattern(700);
  auto whole = pkt::build(s);
  auto frame = pkt::gso_frame(s, 1448);
  CollectSink sink;
  ASSERT_EQ(split(frame, sink), SplitError::kNone);
  ASSERT_EQ(sink.packets.size(), 1u);
  EXPECT_EQ(sink.packets[0], whole);  // the same bytes a plain write would have carried
}

TEST(Vnet, GsoWithoutPayloadGivesTheHeaderOnlyPacket) {
  Spec s;
  s.flags = pkt::kAck | pkt::kFin;
  auto frame = pkt::gso_frame(s, 1448);
  CollectSink sink;
  ASSERT_EQ(split(frame, sink), SplitError::kNone);
  ASSERT_EQ(sink.packets.size(), 1u);
  EXPECT_EQ(sink.packets[0], pkt::build(s));
}

TEST(Vnet, PlainPacketPassesUntouched) {
  Spec s;
  s.payload = pkt::pattern(100);
  auto p = pkt::build(s);
  p[p.size() - 1] ^= 1;  // even a bad checksum: not ours to judge without NEEDS_CSUM
  std::vector<uint8_t> frame(10, 0);
  frame.insert(frame.end(), p.begin(), p.end());
  CollectSink sink;
  ASSERT_EQ(split(frame, sink), SplitError::kNone);
  ASSERT_EQ(sink.packets.size(), 1u);
  EXPECT_EQ(sink.packets[0], p);
}

// NEEDS_CSUM without GSO: the frame carries the pseudo-header sum in the field.
void check_completion(Spec s) {
  auto want = pkt::build(s);
  auto frame = pkt::gso_frame(s, 1000);
  frame[1] = kGsoNone;
  CollectSink sink;
  ASSERT_EQ(split(frame, sink), SplitError::kNone);
  ASSERT_EQ(sink.packets.size(), 1u);
  EXPECT_EQ(sink.packets[0], want);
  EXPECT_TRUE(pkt::l4_checksum_ok(sink.packets[0]));
}

TEST(Vnet, CompletesPartialChecksums) {
  for (bool v6 : {false, true}) {
    for (bool udp : {false, true}) {
      for (size_t n : {0, 1, 2, 3, 1001, 1400}) {
        SCOPED_TRACE(std::to_string(v6) + std::to_string(udp) + " " + std::to_string(n));
        Spec s;
        s.v6 = v6;
        s.udp = udp;
        s.payload = pkt::pattern(n, uint8_t(n));
        check_completion(s);
      }
    }
  }
}

// A UDP payload whose checksum computes to 0 must be sent as 0xFFFF (RFC 768).
TEST(Vnet, UdpZeroChecksumBecomesAllOnes) {
  for (bool v6 : {false, true}) {
    Spec s;
    s.v6 = v6;
    s.udp = true;
    s.payload = pkt::pattern(64);
    s.payload[62] = s.payload[63] = 0;
    auto p = pkt::build(s);
    size_t ip = pkt::ip_header_len(s);
    p[ip + 6] = p[ip + 7] = 0;
    uint16_t x =
        pkt::naive_fold(pkt::naive_sum(&p[ip], p.size() - ip, pkt::naive_pseudo(p, ip, 17)));
    store_be16(&s.payload[62], uint16_t(0xffff - x));  // now the sum folds to ffff: checksum 0
    auto frame = pkt::gso_frame(s, 1000);
    frame[1] = kGsoNone;
    CollectSink sink;
    ASSERT_EQ(split(frame, sink), SplitError::kNone);
    ASSERT_EQ(sink.packets.size(), 1u);
    EXPECT_EQ(load_be16(&sink.packets[0][ip + 6]), 0xffff);
    EXPECT_TRUE(pkt::l4_checksum_ok(sink.packets[0]));
  }
}

TEST(Vnet, SplitsUso) {
  for (bool v6 : {false, true}) {
    SCOPED_TRACE(v6);
    Spec s;
    s.v6 = v6;
    s.udp = true;
    s.id = 0xffff;
    s.payload = pkt::pattern(3 * 1200 + 1, 5);
    auto frame = pkt::gso_frame(s, 1200);
    CollectSink sink;
    ASSERT_EQ(split(frame, sink), SplitError::kNone);
    ASSERT_EQ(sink.packets.size(), 4u);
    size_t ip = pkt::ip_header_len(s);
    for (size_t i = 0; i < 4; ++i) {
      const auto& seg = sink.packets[i];
      size_t len = i < 3 ? 1200 : 1;
      ASSERT_EQ(seg.size(), ip + 8 + len);
      EXPECT_EQ(load_be16(&seg[ip + 4]), 8 + len);
      if (v6) {
        EXPECT_EQ(load_be16(&seg[4]), 8 + len);
      } else {
        EXPECT_EQ(load_be16(&seg[2]), seg.size());
        EXPECT_EQ(load_be16(&seg[4]), uint16_t(0xffff + i));
        EXPECT_TRUE(pkt::ipv4_header_ok(seg));
      }
      EXPECT_TRUE(pkt::l4_checksum_ok(seg));
      EXPECT_NE(load_be16(&seg[ip + 6]), 0);
      EXPECT_TRUE(std::equal(seg.begin() + ip + 8, seg.end(), s.payload.begin() + i * 1200));
    }
  }
}

// IPv6 with a hop-by-hop header: csum_start past it, the upper-layer length in the pseudo-header.
TEST(Vnet, SplitsTso6BehindHopByHop) {
  Spec s;
  s.v6 = true;
  s.payload = pkt::pattern(2500);
  auto plain = pkt::build(s);
  std::vector<uint8_t> p(plain.begin(), plain.begin() + 40);
  std::vector<uint8_t> hbh = {6, 0, 1, 4, 0, 0, 0, 0};  // next TCP, PadN
  p[6] = 0;
  p.insert(p.end(), hbh.begin(), hbh.end());
  p.insert(p.end(), plain.begin() + 40, plain.end());
  store_be16(&p[4], uint16_t(p.size() - 40));
  VnetHeader h{kVnetFlagNeedsCsum, kGsoTcpV6, 0, 1000, 48, 16};
  std::vector<uint8_t> frame(10);
  h.write(frame);
  frame.insert(frame.end(), p.begin(), p.end());
  CollectSink sink;
  ASSERT_EQ(split(frame, sink), SplitError::kNone);
  ASSERT_EQ(sink.packets.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    auto& seg = sink.packets[i];
    EXPECT_EQ(load_be16(&seg[4]), seg.size() - 40);
    EXPECT_EQ(pkt::be32(&seg[48 + 4]), s.seq + 1000 * i);
    uint32_t ph = pkt::naive_sum(&seg[8], 32) + 6 + uint32_t(seg.size() - 48);
    EXPECT_EQ(pkt::naive_fold(pkt::naive_sum(&seg[48], seg.size() - 48, ph)), 0xffff);
  }
}

struct BadCase {
  const char* name;
  SplitError want;
  void (*mutate)(std::vector<uint8_t>& frame);  // applied to an IPv4 TSO frame
};

TEST(Vnet, RejectsInconsistentFrames) {
  const BadCase cases[] = {
      {"empty", SplitError::kTooShort, [](auto& f) { f.resize(0); }},
      {"header only", SplitError::kTooShort, [](auto& f) { f.resize(10); }},
      {"ufo", SplitError::kUnsupportedGso, [](auto& f) { f[1] = kGsoUdp; }},
      {"unknown gso", SplitError::kUnsupportedGso, [](auto& f) { f[1] = 2; }},
      {"gso 6", SplitError::kUnsupportedGso, [](auto& f) { f[1] = 6; }},
      {"ecn alone", SplitError::kUnsupportedGso, [](auto& f) { f[1] = kGsoEcn; }},
      {"ecn uso", SplitError::kUnsupportedGso, [](auto& f) { f[1] = kGsoUdpL4 | kGsoEcn; }},
      {"gso size 0", SplitError::kBadHeader, [](auto& f) { f[4] = f[5] = 0; }},
      {"tcpv6 on ipv4", SplitError::kBadHeader, [](auto& f) { f[1] = kGsoTcpV6; }},
      {"uso on tcp", SplitError::kBadHeader, [](auto& f) { f[1] = kGsoUdpL4; }},
      {"ip version 5", SplitError::kBadHeader, [](auto& f) { f[10] = 0x55; }},
      {"ihl 4", SplitError::kBadHeader, [](auto& f) { f[10] = 0x44; }},
      {"ihl past end", SplitError::kTooShort, [](auto& f) { f[10] = 0x4f, f.resize(10 + 40); }},
      {"protocol udp", SplitError::kBadHeader, [](auto& f) { f[10 + 9] = 17; }},
      {"more fragments", SplitError::kBadHeader, [](auto& f) { f[10 + 6] |= 0x20; }},
      {"fragment offset", SplitError::kBadHeader, [](auto& f) { f[10 + 7] = 1; }},
      {"csum_start early", SplitError::kBadChecksumOffsets, [](auto& f) { f[6] = 16, f[7] = 0; }},
      {"csum_start late", SplitError::kBadChecksumOffsets, [](auto& f) { f[6] = 24, f[7] = 0; }},
      {"csum_offset udp", SplitError::kBadChecksumOffsets, [](auto& f) { f[8] = 6, f[9] = 0; }},
      {"tcp doff 4", SplitError::kBadHeader, [](auto& f) { f[10 + 20 + 12] = 0x40; }},
      {"tcp header cut", SplitError::kTooShort, [](auto& f) { f.resize(10 + 20 + 19); }},
      {"tcp options cut", SplitError::kTooShort,
       [](auto& f) { f[10 + 32] = 0xf0, f.resize(10 + 60); }},
      {"csum field out", SplitError::kBadChecksumOffsets,
       [](auto& f) { f[1] = 0, store_be16(&f[8], 0), f[8] = 0xff, f[9] = 0xff; }},
      {"csum field odd", SplitError::kBadChecksumOffsets, [](auto& f) { f[1] = 0, f[8] = 15; }},
      {"csum field at end", SplitError::kBadChecksumOffsets,
       [](auto& f) {
         f[1] = 0, f[6] = 0, f[7] = 0, store_be16(&f[8], 0), f[8] = uint8_t(f.size() - 11);
       }},
  };
  Spec s;
  s.payload = pkt::pattern(3000);
  for (const BadCase& c : cases) {
    SCOPED_TRACE(c.name);
    auto frame = pkt::gso_frame(s, 1000);
    c.mutate(frame);
    CollectSink sink;
    EXPECT_EQ(split(frame, sink), c.want);
    EXPECT_TRUE(sink.packets.empty());
  }
}

TEST(Vnet, RejectsIpv6RoutingAndFragmentHeaders) {
  for (uint8_t next : {43, 44}) {
    Spec s;
    s.v6 = true;
    s.payload = pkt::pattern(3000);
    auto frame = pkt::gso_frame(s, 1000);
    frame[10 + 6] = next;
    CollectSink sink;
    EXPECT_EQ(split(frame, sink), SplitError::kBadHeader);
    EXPECT_TRUE(sink.packets.empty());
  }
}

TEST(Vnet, RejectsScratchSmallerThanHeaders) {
  Spec s;
  s.payload = pkt::pattern(3000);
  auto frame = pkt::gso_frame(s, 1000);
  std::vector<uint8_t> scratch(39);
  CollectSink sink;
  EXPECT_EQ(split_tun_frame(frame, scratch, sink), SplitError::kTooShort);
  EXPECT_TRUE(sink.packets.empty());
}

// Random and mutated frames: no crash, no out-of-bounds access (run under
// ASan), and every packet of a successful GSO split carries valid checksums.
TEST(Vnet, MutationLoopNeverMisbehaves) {
  std::mt19937 rng(4242);
  size_t ok = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    Spec s;
    s.v6 = rng() & 1;
    s.udp = (rng() & 3) == 0;
    if (!s.udp && (rng() & 1)) s.options = pkt::timestamps(rng(), rng());
    s.payload = pkt::pattern(rng() % 5000, uint8_t(iter));
    s.flags = uint8_t(rng());
    uint16_t mss = uint16_t(1 + rng() % 1500);
    auto frame = pkt::gso_frame(s, mss);
    int mutations = int(rng() % 4);
    for (int m = 0; m < mutations; ++m) {
      switch (rng() % 4) {
        case 0:
          frame[rng() % std::min<size_t>(frame.size(), 80)] = uint8_t(rng());
          break;
        case 1:
          frame[rng() % 10] = uint8_t(rng());
          break;
        case 2:
          frame.resize(rng() % (frame.size() + 1));
          break;
        default:
          frame[rng() % frame.size()] ^= uint8_t(1 << (rng() % 8));
          break;
      }
      if (frame.empty()) break;
    }
    std::vector<uint8_t> exact(frame);  // exact size so ASan sees any overrun
    std::vector<uint8_t> scratch(rng() % 8 == 0 ? rng() % 100 : 65536);
    CollectSink sink;
    SplitError e = split_tun_frame(exact, scratch, sink);
    if (e != SplitError::kNone) {
      ASSERT_TRUE(sink.packets.empty());
      continue;
    }
    ++ok;
    ASSERT_FALSE(sink.packets.empty());
    if (frame[1] != kGsoNone) {
      for (const auto& p : sink.packets) {
        ASSERT_TRUE(pkt::l4_checksum_ok(p) || (p[0] >> 4 == 6 && p[6] != 6 && p[6] != 17));
        if (p[0] >> 4 == 4) {
          ASSERT_TRUE(pkt::ipv4_header_ok(p));
        }
      }
    }
  }
  EXPECT_GT(ok, 5000u);  // the loop exercises the success paths too
}

}  // namespace
}  // namespace wgp
