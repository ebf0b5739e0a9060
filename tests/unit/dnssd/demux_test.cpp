// The WireGuard/DNS demultiplexer's edge cases (DESIGN.md §4, STYLE.md 13).
#include "dnssd/demux.h"

#include <gtest/gtest.h>

#include <vector>

namespace wgp::dnssd {
namespace {

// `size` bytes starting with `head`, the rest a fixed filler.
std::vector<uint8_t> datagram(std::vector<uint8_t> head, size_t size, uint8_t fill = 0x5a) {
  head.resize(size, fill);
  return head;
}

DatagramKind kind(const std::vector<uint8_t>& d) { return classify_datagram(d); }

TEST(Demux, HandshakeMessagesNeedTheirExactLength) {
  EXPECT_EQ(kind(datagram({1, 0, 0, 0}, 148)), DatagramKind::kWireGuard);
  EXPECT_EQ(kind(datagram({2, 0, 0, 0}, 92)), DatagramKind::kWireGuard);
  EXPECT_EQ(kind(datagram({3, 0, 0, 0}, 64)), DatagramKind::kWireGuard);
  // One byte off either way: a DNS header (ID 0x0100, QUERY, no flags) instead.
  EXPECT_EQ(kind(datagram({1, 0, 0, 0}, 147)), DatagramKind::kDns);
  EXPECT_EQ(kind(datagram({1, 0, 0, 0}, 149)), DatagramKind::kDns);
  EXPECT_EQ(kind(datagram({2, 0, 0, 0}, 91)), DatagramKind::kDns);
  EXPECT_EQ(kind(datagram({2, 0, 0, 0}, 93)), DatagramKind::kDns);
  EXPECT_EQ(kind(datagram({3, 0, 0, 0}, 63)), DatagramKind::kDns);
  EXPECT_EQ(kind(datagram({3, 0, 0, 0}, 65)), DatagramKind::kDns);
  // A type-1 length with another type's header is not a handshake either.
  EXPECT_EQ(kind(datagram({2, 0, 0, 0}, 148)), DatagramKind::kDns);
}

TEST(Demux, TransportDataFrom32BytesAnyLength) {
  EXPECT_EQ(kind(datagram({4, 0, 0, 0}, 31)), DatagramKind::kDns);
  EXPECT_EQ(kind(datagram({4, 0, 0, 0}, 32)), DatagramKind::kWireGuard);  // keepalive
  EXPECT_EQ(kind(datagram({4, 0, 0, 0}, 48)), DatagramKind::kWireGuard);
  // 1420-byte inner packet at MTU 1420: not padded to a multiple of 16.
  EXPECT_EQ(kind(datagram({4, 0, 0, 0}, 1452)), DatagramKind::kWireGuard);
  EXPECT_EQ(kind(datagram({4, 0, 0, 0}, 33)), DatagramKind::kWireGuard);
  EXPECT_EQ(kind(datagram({4, 0, 0, 0}, 65507)), DatagramKind::kWireGuard);
}

TEST(Demux, ReservedBytesMustBeZero) {
  for (int i = 1; i <= 3; ++i) {
    auto d = datagram({1, 0, 0, 0}, 148);
    d[i] = 1;
    EXPECT_NE(kind(d), DatagramKind::kWireGuard) << "byte " << i;
    auto t = datagram({4, 0, 0, 0}, 64);
    t[i] = 0x80;
    EXPECT_NE(kind(t), DatagramKind::kWireGuard) << "byte " << i;
  }
  // 01 01 00 00: ID 0x0101, a plain query header.
  EXPECT_EQ(kind(datagram({1, 1, 0, 0}, 148)), DatagramKind::kDns);
}

TEST(Demux, OtherTypesAreNotWireGuard) {
  EXPECT_EQ(kind(datagram({0, 0, 0, 0}, 148)), DatagramKind::kDns);
  EXPECT_EQ(kind(datagram({5, 0, 0, 0}, 64)), DatagramKind::kDns);
  EXPECT_EQ(kind(datagram({0xff, 0, 0, 0}, 32)), DatagramKind::kDns);
}

TEST(Demux, ShortAndEmpty) {
  EXPECT_EQ(kind({}), DatagramKind::kUnknown);
  EXPECT_EQ(kind({4}), DatagramKind::kUnknown);
  EXPECT_EQ(kind({4, 0, 0, 0}), DatagramKind::kUnknown);
  EXPECT_EQ(kind(datagram({0x12, 0x34, 0x01, 0x00}, 11)), DatagramKind::kUnknown);
  EXPECT_EQ(kind(datagram({0x12, 0x34, 0x01, 0x00}, 12)), DatagramKind::kDns);
}

TEST(Demux, DnsHeaderPlausibility) {
  // A dig query: ID, RD + AD set (0x01 0x20).
  EXPECT_EQ(kind(datagram({0xab, 0xcd, 0x01, 0x20, 0, 1, 0, 0, 0, 0, 0, 1}, 40)),
            DatagramKind::kDns);
  // A response (QR) still is DNS: the discovery client receives those.
  EXPECT_EQ(kind(datagram({0xab, 0xcd, 0x84, 0x00}, 60)), DatagramKind::kDns);
  // NOTIFY (opcode 4) and UPDATE (5): DNS.
  EXPECT_EQ(kind(datagram({0xab, 0xcd, 4 << 3, 0}, 30)), DatagramKind::kDns);
  EXPECT_EQ(kind(datagram({0xab, 0xcd, 5 << 3, 0}, 30)), DatagramKind::kDns);
  // Opcode 3 and 7..15 are unassigned; the Z bit must be clear.
  EXPECT_EQ(kind(datagram({0xab, 0xcd, 3 << 3, 0}, 30)), DatagramKind::kUnknown);
  EXPECT_EQ(kind(datagram({0xab, 0xcd, 7 << 3, 0}, 30)), DatagramKind::kUnknown);
  EXPECT_EQ(kind(datagram({0xab, 0xcd, 15 << 3, 0}, 30)), DatagramKind::kUnknown);
  EXPECT_EQ(kind(datagram({0xab, 0xcd, 0x01, 0x40}, 30)), DatagramKind::kUnknown);
}

TEST(Demux, DnsLookingLikeTransportIsWireGuard) {
  // ID 0x0400 with every flag clear: the header reads as a transport
  // message; the node falls back to DNS when the device drops it.
  auto d = datagram({4, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0}, 45, 0);
  EXPECT_EQ(kind(d), DatagramKind::kWireGuard);
  EXPECT_TRUE(plausible_dns_header(d));
  // The same header in a 29-byte query (too short for transport) is DNS.
  EXPECT_EQ(kind(datagram({4, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0}, 29, 0)), DatagramKind::kDns);
}

}  // namespace
}  // namespace wgp::dnssd
