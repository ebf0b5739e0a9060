#include "dnssd/inner_udp.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

namespace wgp::dnssd {
namespace {

// Captured from the kernel: `dig @10.9.0.254 a.example. A +noedns` and the same
// to fd09::fe, read from a TUN device in a network namespace. Checksums are
// the kernel's. The DNS payload is 27 bytes: an odd length.
constexpr const char* kKernelV4 =
    "450000377faf00004011e5f60a0900010a0900fe"
    "d119003500232a93"
    "9097012000010000000000000161076578616d706c650000010001";
constexpr const char* kKernelV6 =
    "600477a800231140fd090000000000000000000000000001fd0900000000000000000000000000fe"
    "c96700350023b5fb"
    "26df012000010000000000000161076578616d706c650000010001";
// The same with an EDNS OPT (+edns=0 +nocookie): 38 bytes of payload.
constexpr const char* kKernelV4Edns =
    "450000426fe400004011f5b60a0900010a0900fe"
    "bc820035002e7291"
    "5820012000010000000000010161076578616d706c65000001000100002904d0000000000000";

std::vector<uint8_t> hex(std::string_view text) {
  auto bytes = from_hex(text);
  EXPECT_TRUE(bytes) << text;
  return bytes.value_or(std::vector<uint8_t>{});
}

IpAddress addr(std::string_view text) {
  auto a = IpAddress::parse(text);
  EXPECT_TRUE(a) << text;
  return a.value_or(IpAddress{});
}

// An independent RFC 1071 checksum for the tests: byte by byte, 64-bit
// accumulator, folded once at the end.
uint16_t reference_checksum(const std::vector<uint8_t>& data) {
  uint64_t sum = 0;
  for (size_t i = 0; i < data.size(); ++i) sum += (i % 2 == 0) ? uint64_t(data[i]) << 8 : data[i];
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  return uint16_t(~sum);
}

// Rewrites the IPv4 header checksum of `packet` after a test edited the header.
void fix_v4_header_checksum(std::vector<uint8_t>& packet) {
  const size_t ihl = std::min(size_t(packet[0] & 0x0f) * 4, packet.size());
  packet[10] = packet[11] = 0;
  store_be16(&packet[10], reference_checksum({packet.begin(), packet.begin() + ihl}));
}

// Rewrites the UDP checksum of an IPv4 packet (no options) after a test edit.
void fix_v4_udp_checksum(std::vector<uint8_t>& packet) {
  const size_t udp_length = load_be16(&packet[24]);
  std::vector<uint8_t> pseudo(packet.begin() + 12, packet.begin() + 20);
  pseudo.insert(pseudo.end(), {0, kIpProtocolUdp, uint8_t(udp_length >> 8), uint8_t(udp_length)});
  packet[26] = packet[27] = 0;
  pseudo.insert(pseudo.end(), packet.begin() + 20, packet.begin() + 20 + udp_length);
  store_be16(&packet[26], reference_checksum(pseudo));
}

std::vector<uint8_t> build(const IpAddress& src, uint16_t sport, const IpAddress& dst,
                           uint16_t dport, const std::vector<uint8_t>& payload) {
  std::vector<uint8_t> out(udp_packet_size(src.family, payload.size()));
  size_t n = build_udp_packet(src, sport, dst, dport, payload, out);
  EXPECT_EQ(n, out.size());
  out.resize(n);
  return out;
}

TEST(InnerUdp, ReferenceChecksumAgreesWithTheKernel) {
  auto packet = hex(kKernelV4);
  const uint16_t kernel = load_be16(&packet[10]);
  fix_v4_header_checksum(packet);
  EXPECT_EQ(load_be16(&packet[10]), kernel);
  EXPECT_EQ(kernel, 0xe5f6);
  fix_v4_udp_checksum(packet);
  EXPECT_EQ(load_be16(&packet[26]), 0x2a93);
}

TEST(InnerUdp, ParsesKernelDigQueryV4) {
  auto packet = hex(kKernelV4);
  auto udp = parse_udp_packet(packet);
  ASSERT_TRUE(udp);
  EXPECT_EQ(udp->source, addr("10.9.0.1"));
  EXPECT_EQ(udp->destination, addr("10.9.0.254"));
  EXPECT_EQ(udp->source_port, 0xd119);
  EXPECT_EQ(udp->destination_port, 53);
  EXPECT_EQ(udp->payload.size(), 27u);
  EXPECT_EQ(to_hex(udp->payload), "9097012000010000000000000161076578616d706c650000010001");
  EXPECT_EQ(udp->payload.data(), packet.data() + 28);  // a view, not a copy
}

TEST(InnerUdp, ParsesKernelDigQueryV6) {
  auto packet = hex(kKernelV6);
  auto udp = parse_udp_packet(packet);
  ASSERT_TRUE(udp);
  EXPECT_EQ(udp->source, addr("fd09::1"));
  EXPECT_EQ(udp->destination, addr("fd09::fe"));
  EXPECT_EQ(udp->source_port, 0xc967);
  EXPECT_EQ(udp->destination_port, 53);
  EXPECT_EQ(to_hex(udp->payload), "26df012000010000000000000161076578616d706c650000010001");
}

TEST(InnerUdp, ParsesKernelDigQueryWithEdns) {
  auto packet = hex(kKernelV4Edns);
  auto udp = parse_udp_packet(packet);
  ASSERT_TRUE(udp);
  EXPECT_EQ(udp->payload.size(), 38u);
  EXPECT_EQ(udp->source_port, 0xbc82);
}

// Rebuilding the kernel's packets from their fields gives the kernel's UDP
// bytes exactly (checksum included) and its IP header apart from the fields
// the kernel chose freely (IPv4 identification, IPv6 flow label).
// The data path's cheap test: where a packet goes, from fixed offsets only.
TEST(InnerUdp, PeekFindsTheDestinationOfUdpOnly) {
  for (auto [text, address] : {std::pair{kKernelV4, "10.9.0.254"}, std::pair{kKernelV6, "fd09::fe"}}) {
    auto packet = hex(text);
    auto to = peek_udp_destination(packet);
    ASSERT_TRUE(to);
    EXPECT_EQ(to->address, addr(address));
    EXPECT_EQ(to->port, 53);
    // Cut short before the UDP ports: nothing (never a read past the end).
    size_t header = packet[0] >> 4 == 4 ? 20 : 40;
    EXPECT_FALSE(peek_udp_destination(ByteView(packet).first(header + 3)));
    EXPECT_TRUE(peek_udp_destination(ByteView(packet).first(header + 8)));
    // Another protocol: nothing.
    auto tcp = packet;
    tcp[packet[0] >> 4 == 4 ? 9 : 6] = 6;
    EXPECT_FALSE(peek_udp_destination(tcp));
  }
  // IPv4 options move the UDP header: IHL is honoured.
  auto v4 = hex(kKernelV4);
  std::vector<uint8_t> with_options(v4.begin(), v4.begin() + 20);
  with_options[0] = 0x46;  // IHL 6
  with_options.insert(with_options.end(), {1, 1, 1, 0});  // NOP NOP NOP EOL
  with_options.insert(with_options.end(), v4.begin() + 20, v4.end());
  auto to = peek_udp_destination(with_options);
  ASSERT_TRUE(to);
  EXPECT_EQ(to->port, 53);
  EXPECT_FALSE(peek_udp_destination(std::vector<uint8_t>{0x44, 0, 0, 0}));  // IHL 4
  EXPECT_FALSE(peek_udp_destination({}));
}

TEST(InnerUdp, BuildReproducesKernelPackets) {
  for (const char* text : {kKernelV4, kKernelV4Edns}) {
    auto kernel = hex(text);
    auto udp = parse_udp_packet(kernel);
    ASSERT_TRUE(udp);
    auto ours = build(udp->source, udp->source_port, udp->destination, udp->destination_port,
                      {udp->payload.begin(), udp->payload.end()});
    ASSERT_EQ(ours.size(), kernel.size());
    EXPECT_EQ(to_hex(ByteView(ours).subspan(20)), to_hex(ByteView(kernel).subspan(20)));
    // Take the kernel's identification; then the whole header must match.
    ours[4] = kernel[4];
    ours[5] = kernel[5];
    fix_v4_header_checksum(ours);
    EXPECT_EQ(to_hex(ours), to_hex(kernel));
  }
  auto kernel = hex(kKernelV6);
  auto udp = parse_udp_packet(kernel);
  ASSERT_TRUE(udp);
  auto ours = build(udp->source, udp->source_port, udp->destination, udp->destination_port,
                    {udp->payload.begin(), udp->payload.end()});
  ASSERT_EQ(ours.size(), kernel.size());
  EXPECT_EQ(to_hex(ByteView(ours).subspan(4)), to_hex(ByteView(kernel).subspan(4)));
  EXPECT_EQ(to_hex(ByteView(ours).first(4)), "60000000");  // no flow label
}

TEST(InnerUdp, BuiltHeaderFields) {
  auto v4 = build(addr("10.0.0.254"), 53, addr("10.0.0.2"), 51820, {1, 2, 3});
  EXPECT_EQ(v4[0], 0x45);
  EXPECT_EQ(load_be16(&v4[2]), 31);
  EXPECT_EQ(load_be16(&v4[6]), 0) << "DF clear, not a fragment";
  EXPECT_EQ(v4[8], 64);
  EXPECT_EQ(v4[9], 17);
  std::vector<uint8_t> header(v4.begin(), v4.begin() + 20);
  EXPECT_EQ(reference_checksum(header), 0) << "a header carrying its checksum sums to zero";
  auto v6 = build(addr("fd00::fe"), 53, addr("fd00::2"), 51820, {1, 2, 3});
  EXPECT_EQ(v6[0], 0x60);
  EXPECT_EQ(load_be16(&v6[4]), 11);
  EXPECT_EQ(v6[6], 17);
  EXPECT_EQ(v6[7], 64);
}

TEST(InnerUdp, RoundTripsEveryPayloadLength) {
  std::mt19937 rng(7);
  const std::pair<const char*, const char*> pairs[] = {{"10.0.0.254", "10.0.0.2"},
                                                       {"fd00::fe", "fd00::2"},
                                                       {"255.255.255.255", "0.0.0.0"},
                                                       {"ffff::ffff", "::"}};
  for (auto [s, d] : pairs) {
    for (size_t length = 0; length < 300; ++length) {
      std::vector<uint8_t> payload(length);
      for (auto& b : payload) b = uint8_t(rng());
      auto packet = build(addr(s), 5353, addr(d), 53, payload);
      auto udp = parse_udp_packet(packet);
      ASSERT_TRUE(udp) << s << " " << length;
      EXPECT_EQ(udp->source, addr(s));
      EXPECT_EQ(udp->destination, addr(d));
      EXPECT_EQ(udp->source_port, 5353);
      EXPECT_EQ(udp->destination_port, 53);
      EXPECT_EQ(to_hex(udp->payload), to_hex(payload));
    }
  }
}

// When the sum comes out as zero the checksum goes on the wire as 0xffff
// (RFC 768): a 0 would mean "none" over IPv4 and be invalid over IPv6.
TEST(InnerUdp, ZeroChecksumIsSentAsAllOnes) {
  for (const char* s : {"10.0.0.1", "fd00::1"}) {
    const IpAddress src = addr(s), dst = addr(s);
    const size_t udp_at = src.is_v4() ? 20 : 40;
    auto probe = build(src, 1000, dst, 53, {0, 0});
    // With payload word w the complemented sum drops by w; choose w to make it 0.
    const uint16_t c = load_be16(&probe[udp_at + 6]);
    auto packet = build(src, 1000, dst, 53, {uint8_t(c >> 8), uint8_t(c)});
    EXPECT_EQ(load_be16(&packet[udp_at + 6]), 0xffff) << s;
    EXPECT_TRUE(parse_udp_packet(packet)) << s;
  }
}

TEST(InnerUdp, MissingChecksumAllowedOnlyOverV4) {
  auto v4 = build(addr("10.0.0.1"), 1, addr("10.0.0.2"), 53, {9, 8, 7});
  v4[26] = v4[27] = 0;
  EXPECT_TRUE(parse_udp_packet(v4));
  auto v6 = build(addr("fd00::1"), 1, addr("fd00::2"), 53, {9, 8, 7});
  v6[46] = v6[47] = 0;
  EXPECT_FALSE(parse_udp_packet(v6));
}

TEST(InnerUdp, AnyFlippedBitIsCaught) {
  // Every single-bit change to the addresses, UDP header or payload breaks a
  // checksum (or the length checks) — except changes to fields no checksum
  // covers: the IPv4 identification/TTL are covered by the header checksum,
  // but the IPv6 traffic class, flow label and hop limit are covered by none.
  for (const std::string& text : {std::string(kKernelV4), std::string(kKernelV6)}) {
    const auto original = hex(text);
    const bool v4 = (original[0] >> 4) == 4;
    for (size_t i = 0; i < original.size(); ++i) {
      if (!v4 && (i < 4 || i == 7)) continue;
      for (int bit = 0; bit < 8; ++bit) {
        auto packet = original;
        packet[i] ^= uint8_t(1 << bit);
        EXPECT_FALSE(parse_udp_packet(packet))
            << (v4 ? "v4" : "v6") << " byte " << i << " bit " << bit;
      }
    }
  }
}

TEST(InnerUdp, TruncatedPacketsAreRefused) {
  for (const char* text : {kKernelV4, kKernelV6, kKernelV4Edns}) {
    const auto packet = hex(text);
    for (size_t n = 0; n < packet.size(); ++n) {
      EXPECT_FALSE(parse_udp_packet(ByteView(packet).first(n))) << text << " cut to " << n;
    }
  }
}

TEST(InnerUdp, BytesAfterTheIpLengthAreIgnored) {
  for (const char* text : {kKernelV4, kKernelV6}) {
    auto packet = hex(text);
    packet.resize(packet.size() + 13, 0xaa);  // e.g. WireGuard's padding
    auto udp = parse_udp_packet(packet);
    ASSERT_TRUE(udp) << text;
    EXPECT_EQ(udp->payload.size(), 27u);
  }
}

TEST(InnerUdp, UdpLengthShorterThanIpPayloadCutsThePayload) {
  auto packet = build(addr("10.0.0.1"), 1, addr("10.0.0.2"), 53, {1, 2, 3, 4, 5, 6});
  store_be16(&packet[24], 8 + 4);
  fix_v4_udp_checksum(packet);
  auto udp = parse_udp_packet(packet);
  ASSERT_TRUE(udp);
  EXPECT_EQ(to_hex(udp->payload), "01020304");
}

TEST(InnerUdp, BadUdpLengthsAreRefused) {
  for (uint16_t length : {0, 7, 15}) {  // payload is 6: UDP length 14
    auto packet = build(addr("10.0.0.1"), 1, addr("10.0.0.2"), 53, {1, 2, 3, 4, 5, 6});
    store_be16(&packet[24], length);
    packet[26] = packet[27] = 0;  // no checksum: the length alone must decide
    EXPECT_FALSE(parse_udp_packet(packet)) << length;
  }
}

TEST(InnerUdp, FragmentsAreRefusedButDfIsFine) {
  const auto original = build(addr("10.0.0.1"), 1, addr("10.0.0.2"), 53, {1, 2, 3});
  for (uint16_t flags : {0x2000, 0x0001, 0x1fff, 0x2001, 0x4000, 0x6000}) {
    auto packet = original;
    store_be16(&packet[6], flags);
    fix_v4_header_checksum(packet);
    EXPECT_EQ(parse_udp_packet(packet).has_value(), flags == 0x4000) << std::hex << flags;
  }
}

TEST(InnerUdp, Ipv4OptionsAreSkipped) {
  auto packet = build(addr("10.0.0.1"), 4242, addr("10.0.0.2"), 53, {1, 2, 3});
  packet.insert(packet.begin() + 20, {1, 1, 1, 0});  // NOP NOP NOP EOL
  packet[0] = 0x46;
  store_be16(&packet[2], uint16_t(packet.size()));
  fix_v4_header_checksum(packet);
  auto udp = parse_udp_packet(packet);
  ASSERT_TRUE(udp);
  EXPECT_EQ(udp->source_port, 4242);
  EXPECT_EQ(to_hex(udp->payload), "010203");
}

TEST(InnerUdp, OtherProtocolsAndHeadersAreRefused) {
  auto v4 = build(addr("10.0.0.1"), 1, addr("10.0.0.2"), 53, {1, 2, 3});
  auto tcp = v4;
  tcp[9] = 6;
  fix_v4_header_checksum(tcp);
  EXPECT_FALSE(parse_udp_packet(tcp));
  for (uint8_t ihl : {0, 4, 15}) {
    auto bad = v4;
    bad[0] = uint8_t(0x40 | ihl);
    fix_v4_header_checksum(bad);
    EXPECT_FALSE(parse_udp_packet(bad)) << int(ihl);
  }
  auto v6 = build(addr("fd00::1"), 1, addr("fd00::2"), 53, {1, 2, 3});
  for (uint8_t next :
       {0, 43, 44, 60, 6, 58}) {  // hop-by-hop, routing, fragment, dest opts, TCP, ICMPv6
    auto bad = v6;
    bad[6] = next;
    EXPECT_FALSE(parse_udp_packet(bad)) << int(next);
  }
  for (uint8_t version : {0x00, 0x50, 0x70, 0xf0}) {
    auto bad = v4;
    bad[0] = uint8_t(version | 5);
    EXPECT_FALSE(parse_udp_packet(bad)) << int(version);
  }
  EXPECT_FALSE(parse_udp_packet({}));
}

TEST(InnerUdp, BuildRefusesWhatItCannotWrite) {
  std::vector<uint8_t> payload(10);
  std::vector<uint8_t> out(100);
  EXPECT_EQ(build_udp_packet(addr("10.0.0.1"), 1, addr("fd00::1"), 2, payload, out), 0u);
  EXPECT_EQ(build_udp_packet(addr("fd00::1"), 1, addr("10.0.0.1"), 2, payload, out), 0u);
  EXPECT_EQ(build_udp_packet(addr("10.0.0.1"), 1, addr("10.0.0.2"), 2, payload,
                             MutableByteView(out).first(37)),
            0u);
  EXPECT_EQ(build_udp_packet(addr("10.0.0.1"), 1, addr("10.0.0.2"), 2, payload,
                             MutableByteView(out).first(38)),
            38u);
  EXPECT_EQ(build_udp_packet(addr("fd00::1"), 1, addr("fd00::2"), 2, payload,
                             MutableByteView(out).first(57)),
            0u);
  // 16-bit length fields: IPv4 counts the header, IPv6 does not.
  std::vector<uint8_t> big(0x10000);
  std::vector<uint8_t> huge(0x10000 + 40);
  EXPECT_EQ(build_udp_packet(addr("10.0.0.1"), 1, addr("10.0.0.2"), 2,
                             ByteView(big).first(0xffff - 28 + 1), huge),
            0u);
  EXPECT_EQ(build_udp_packet(addr("10.0.0.1"), 1, addr("10.0.0.2"), 2,
                             ByteView(big).first(0xffff - 28), huge),
            0xffffu);
  EXPECT_EQ(build_udp_packet(addr("fd00::1"), 1, addr("fd00::2"), 2,
                             ByteView(big).first(0xffff - 8), huge),
            0xffffu + 40);
  EXPECT_EQ(build_udp_packet(addr("fd00::1"), 1, addr("fd00::2"), 2,
                             ByteView(big).first(0xffff - 7), huge),
            0u);
}

TEST(InnerUdp, RandomMutationsNeverCrash) {
  std::mt19937 rng(1234);
  const std::vector<uint8_t> seeds[] = {hex(kKernelV4), hex(kKernelV6), hex(kKernelV4Edns)};
  size_t accepted = 0;
  for (int i = 0; i < 10000; ++i) {
    auto packet = seeds[i % 3];
    const int edits = 1 + int(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      switch (rng() % 3) {
        case 0:
          packet[rng() % packet.size()] = uint8_t(rng());
          break;
        case 1:
          packet.resize(rng() % (packet.size() + 1));
          break;
        default:
          packet.insert(packet.begin() + long(rng() % (packet.size() + 1)), uint8_t(rng()));
      }
      if (packet.empty()) packet.push_back(0x45);
    }
    // A copy of exactly the mutated size, so a sanitizer sees any overread.
    std::vector<uint8_t> exact(packet);
    auto udp = parse_udp_packet(exact);
    if (udp) {
      ++accepted;
      EXPECT_GE(udp->payload.data(), exact.data());
      EXPECT_LE(udp->payload.data() + udp->payload.size(), exact.data() + exact.size());
    }
  }
  // Some mutations leave a valid packet (e.g. appended padding or edits to
  // unchecked fields), but the checksums reject nearly all.
  EXPECT_LT(accepted, 2500u);
}

}  // namespace
}  // namespace wgp::dnssd
