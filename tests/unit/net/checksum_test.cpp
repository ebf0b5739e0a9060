// The Internet checksum against RFC 1071's worked example, known packet
// checksums, and a naive byte-by-byte model on random data of every length
// and alignment, for the scalar and the AVX2 implementation.
#include "net/checksum.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "unit/tun/packet_builder.h"

namespace wgp {
namespace {

TEST(Checksum, Rfc1071Example) {
  // RFC 1071 §3: the words 0001 f203 f4f5 f6f7 sum to 2ddf0, folded ddf2.
  const uint8_t data[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  EXPECT_EQ(checksum_fold(checksum_add(data)), 0xddf2);
  EXPECT_EQ(checksum_finish(checksum_add(data)), 0x220d);
}

TEST(Checksum, KnownIpv4Header) {
  // A classic IPv4 header whose checksum field is b861 (Wikipedia's example).
  auto h = from_hex("450000730000400040110000c0a80001c0a800c7").value();
  EXPECT_EQ(checksum_finish(checksum_add(h)), 0xb861);
  ipv4_set_header_checksum(h);
  EXPECT_EQ(load_be16(&h[10]), 0xb861);
  EXPECT_EQ(checksum_fold(checksum_add(h)), 0xffff);  // a valid header sums to all ones
  EXPECT_TRUE(ipv4_header_checksum_ok(h));
  h[8] ^= 1;  // TTL
  EXPECT_FALSE(ipv4_header_checksum_ok(h));

  // With options (ihl 6): the long way, the same rule.
  auto o = from_hex("460000730000400040110000c0a80001c0a800c794040000").value();
  ipv4_set_header_checksum(o);
  EXPECT_EQ(checksum_fold(checksum_add(o)), 0xffff);
  EXPECT_TRUE(ipv4_header_checksum_ok(o));
  o[21] ^= 4;
  EXPECT_FALSE(ipv4_header_checksum_ok(o));
}

TEST(Checksum, EmptyAndOddTail) {
  EXPECT_EQ(checksum_add({}, 0), 0u);
  EXPECT_EQ(checksum_add({}, 1234), 1234u);
  const uint8_t one[] = {0xab};
  EXPECT_EQ(checksum_fold(checksum_add(one)), 0xab00);  // padded on the right
}

TEST(Checksum, AllOnesDoesNotLoseCarries) {
  std::vector<uint8_t> ff(70000, 0xff);
  EXPECT_EQ(checksum_fold(checksum_add(ff)), 0xffff);
  EXPECT_EQ(checksum_fold(checksum_add(ff, 0xffffffffu)), 0xffff);
  ff.push_back(0x01);  // + 0x0100
  EXPECT_EQ(checksum_fold(checksum_add(ff)), 0x0100);
}

using SumFn = uint32_t (*)(ByteView, uint32_t);

// Every implementation this build has: the one checksum_add picked, and each by name
// (the AVX2 one only on a CPU that has it).
std::vector<std::pair<const char*, SumFn>> implementations() {
  std::vector<std::pair<const char*, SumFn>> fns = {
      {"dispatched", [](ByteView d, uint32_t s) { return checksum_add(d, s); }},
      {"scalar", detail::checksum_add_scalar}};
  if (detail::checksum_has_avx2()) fns.emplace_back("avx2", detail::checksum_add_avx2);
  return fns;
}

TEST(Checksum, MatchesNaiveSumForEveryLengthAndAlignment) {
  std::mt19937 rng(1071);
  std::vector<uint8_t> buf(300 + 32);
  for (auto& b : buf) b = uint8_t(rng());
  for (auto [name, sum] : implementations()) {
    for (size_t len = 0; len <= 300; ++len) {
      for (size_t align = 0; align < 32; ++align) {
        const uint8_t* p = buf.data() + align;
        uint32_t init = (len * 31 + align) % 3 == 0 ? 0 : uint32_t(rng());
        uint16_t want = pkt::naive_fold(uint64_t(pkt::naive_sum(p, len)) + init);
        ASSERT_EQ(checksum_fold(sum(ByteView(p, len), init)), want)
            << name << " len " << len << " align " << align;
      }
    }
  }
}

// Packet-sized and larger inputs, where the vector loop does nearly all the work.
TEST(Checksum, ImplementationsAgreeOnLargeInputs) {
  if (!detail::checksum_has_avx2()) GTEST_SKIP() << "this CPU has no AVX2";
  std::mt19937 rng(8);
  std::vector<uint8_t> buf(70000);
  for (auto& b : buf) b = uint8_t(rng());
  for (int i = 0; i < 300; ++i) {
    size_t len = i < 100 ? 1300 + rng() % 200 : rng() % 65536;
    size_t at = rng() % (buf.size() - len);
    ByteView d(buf.data() + at, len);
    uint16_t want = pkt::naive_fold(pkt::naive_sum(d.data(), len));
    ASSERT_EQ(checksum_fold(detail::checksum_add_avx2(d)), want) << len;
    ASSERT_EQ(checksum_fold(detail::checksum_add_scalar(d)), want) << len;
  }
}

// All ones over several of the AVX2 loop's 1 MiB blocks: no 32-bit lane may overflow.
TEST(Checksum, AllOnesAcrossVectorBlocks) {
  std::vector<uint8_t> ff(3 * 1048576 + 1000, 0xff);
  for (auto [name, sum] : implementations()) {
    EXPECT_EQ(checksum_fold(sum(ff, 0)), 0xffff) << name;
    EXPECT_EQ(checksum_fold(sum(ByteView(ff).first(1048576 + 64), 0)), 0xffff) << name;
  }
  std::vector<uint8_t> zeros(2 * 1048576, 0);
  for (auto [name, sum] : implementations()) EXPECT_EQ(sum(zeros, 0), 0u) << name;
}

TEST(Checksum, PiecesOfEvenLengthChain) {
  std::mt19937 rng(7);
  std::vector<uint8_t> d(1000);
  for (auto& b : d) b = uint8_t(rng());
  uint32_t whole = checksum_add(d);
  for (size_t cut = 0; cut <= d.size(); cut += 2) {
    uint32_t chained = checksum_add(ByteView(d).subspan(cut), checksum_add(ByteView(d).first(cut)));
    ASSERT_EQ(checksum_fold(chained), checksum_fold(whole)) << cut;
  }
}

TEST(Checksum, PseudoHeaderV4AndV6) {
  auto a = IpAddress::parse("192.168.0.1").value(), b = IpAddress::parse("192.168.0.199").value();
  // c0a8 + 0001 + c0a8 + 00c7 + 0011 + 0014
  uint32_t want = 0xc0a8 + 0x0001 + 0xc0a8 + 0x00c7 + 17 + 20;
  EXPECT_EQ(checksum_fold(pseudo_header_sum(a, b, kIpProtoUdp, 20)), checksum_fold(want));
  auto x = IpAddress::parse("fd00::1").value(), y = IpAddress::parse("fd00::2").value();
  // Lengths above 16 bits count both halves (RFC 8200 §8.1: a 32-bit length).
  uint32_t want6 = 0xfd00 + 1 + 0xfd00 + 2 + 6 + 0x0001 + 0x0005;
  EXPECT_EQ(checksum_fold(pseudo_header_sum(x, y, kIpProtoTcp, 0x10005)), checksum_fold(want6));
  EXPECT_EQ(pseudo_header_sum(x, y, 6, 40), pseudo_header_sum(x.view(), y.view(), 6, 40));
}

}  // namespace
}  // namespace wgp
