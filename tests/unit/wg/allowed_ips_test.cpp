// The allowed-IPs trie against the kernel selftest (src/selftest/allowedips.c),
// wireguard-go's device/allowedips_test.go, and a deliberately naive model: a
// list of prefixes scanned linearly, driven by thousands of random operations.
#include "wg/allowed_ips.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace wgp {
namespace {

struct FakePeer {
  int id = 0;
};

using Table = AllowedIps<FakePeer>;

IpAddress ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  const uint8_t bytes[4] = {a, b, c, d};
  return IpAddress::v4(bytes);
}

// Four 32-bit words, most significant first, as the kernel's ip6() helper.
IpAddress ip6(uint32_t a, uint32_t b, uint32_t c, uint32_t d) {
  uint8_t bytes[16];
  const uint32_t words[4] = {a, b, c, d};
  for (int i = 0; i < 4; ++i) store_be32(bytes + 4 * i, words[i]);
  return IpAddress::v6(bytes);
}

IpPrefix prefix(const IpAddress& a, uint8_t length) { return IpPrefix{a, length}; }

IpPrefix parse(const char* text) {
  auto p = IpPrefix::parse(text);
  EXPECT_TRUE(p) << text;
  return p.value_or(IpPrefix{});
}

// ---------------------------------------------------------------------------
// Kernel selftest, static part. Peers a..h as in allowedips.c; each lookup is
// numbered as the kernel numbers its test() calls.

class KernelSelftest : public ::testing::Test {
 protected:
  FakePeer a{1}, b{2}, c{3}, d{4}, e{5}, f{6}, g{7}, h{8};
  Table t;

  void insert4(FakePeer* p, uint8_t i0, uint8_t i1, uint8_t i2, uint8_t i3, uint8_t cidr) {
    ASSERT_TRUE(t.insert(prefix(ip4(i0, i1, i2, i3), cidr), p));
  }
  void insert6(FakePeer* p, uint32_t w0, uint32_t w1, uint32_t w2, uint32_t w3, uint8_t cidr) {
    ASSERT_TRUE(t.insert(prefix(ip6(w0, w1, w2, w3), cidr), p));
  }

  void build() {
    insert4(&a, 192, 168, 4, 0, 24);
    insert4(&b, 192, 168, 4, 4, 32);
    insert4(&c, 192, 168, 0, 0, 16);
    insert4(&d, 192, 95, 5, 64, 27);
    insert4(&c, 192, 95, 5, 65, 27);  // replaces previous entry; host bits masked
    insert6(&d, 0x26075300, 0x60006b00, 0, 0xc05f0543, 128);
    insert6(&c, 0x26075300, 0x60006b00, 0, 0, 64);
    insert4(&e, 0, 0, 0, 0, 0);
    insert6(&e, 0, 0, 0, 0, 0);
    insert6(&f, 0, 0, 0, 0, 0);  // replaces previous entry
    insert6(&g, 0x24046800, 0, 0, 0, 32);
    insert6(&h, 0x24046800, 0x40040800, 0xdeadbeef, 0xdeadbeef, 64);  // host bits masked
    insert6(&a, 0x24046800, 0x40040800, 0xdeadbeef, 0xdeadbeef, 128);
    insert6(&c, 0x24446800, 0x40e40800, 0xdeaebeef, 0xdefbeef, 128);
    insert6(&b, 0x24446800, 0xf0e40800, 0xeeaebeef, 0, 98);
    insert4(&g, 64, 15, 112, 0, 20);
    insert4(&h, 64, 15, 123, 211, 25);  // host bits masked
    insert4(&a, 10, 0, 0, 0, 25);
    insert4(&b, 10, 0, 0, 128, 25);
    insert4(&a, 10, 1, 0, 0, 30);
    insert4(&b, 10, 1, 0, 4, 30);
    insert4(&c, 10, 1, 0, 8, 29);
    insert4(&d, 10, 1, 0, 16, 29);
  }
};

TEST_F(KernelSelftest, StaticLookups) {
  build();
  struct Case {
    int number;
    FakePeer* expected;
    IpAddress address;
  } cases[] = {
      {1, &a, ip4(192, 168, 4, 20)},
      {2, &a, ip4(192, 168, 4, 0)},
      {3, &b, ip4(192, 168, 4, 4)},
      {4, &c, ip4(192, 168, 200, 182)},
      {5, &c, ip4(192, 95, 5, 68)},
      {6, &e, ip4(192, 95, 5, 96)},
      {7, &d, ip6(0x26075300, 0x60006b00, 0, 0xc05f0543)},
      {8, &c, ip6(0x26075300, 0x60006b00, 0, 0xc02e01ee)},
      {9, &f, ip6(0x26075300, 0x60006b01, 0, 0)},
      {10, &g, ip6(0x24046800, 0x40040806, 0, 0x1006)},
      {11, &g, ip6(0x24046800, 0x40040806, 0x1234, 0x5678)},
      {12, &f, ip6(0x240467ff, 0x40040806, 0x1234, 0x5678)},
      {13, &f, ip6(0x24046801, 0x40040806, 0x1234, 0x5678)},
      {14, &h, ip6(0x24046800, 0x40040800, 0x1234, 0x5678)},
      {15, &h, ip6(0x24046800, 0x40040800, 0, 0)},
      {16, &h, ip6(0x24046800, 0x40040800, 0x10101010, 0x10101010)},
      {17, &a, ip6(0x24046800, 0x40040800, 0xdeadbeef, 0xdeadbeef)},
      {18, &g, ip4(64, 15, 116, 26)},
      {19, &g, ip4(64, 15, 127, 3)},
      {20, &g, ip4(64, 15, 123, 1)},
      {21, &h, ip4(64, 15, 123, 128)},
      {22, &h, ip4(64, 15, 123, 129)},
      {23, &a, ip4(10, 0, 0, 52)},
      {24, &b, ip4(10, 0, 0, 220)},
      {25, &a, ip4(10, 1, 0, 2)},
      {26, &b, ip4(10, 1, 0, 6)},
      {27, &c, ip4(10, 1, 0, 10)},
      {28, &d, ip4(10, 1, 0, 20)},
  };
  for (const Case& k : cases) {
    EXPECT_EQ(t.lookup(k.address), k.expected)
        << "allowedips self-test " << k.number << " " << k.address.to_string();
    // The raw-bytes overload (the data path's) agrees.
    EXPECT_EQ(t.lookup(k.address.view()), k.expected) << k.number;
  }
  // 23 prefix insertions, of which two (v4 192.95.5.64/27, v6 ::/0) replaced.
  EXPECT_EQ(t.size(), 21u);
}

TEST_F(KernelSelftest, RemoveByPeerLeavesNothingOfIt) {
  build();
  insert4(&a, 1, 0, 0, 0, 32);
  insert4(&a, 64, 0, 0, 0, 32);
  insert4(&a, 128, 0, 0, 0, 32);
  insert4(&a, 192, 0, 0, 0, 32);
  insert4(&a, 255, 0, 0, 0, 32);
  // wg-go checks these before removing.
  for (uint8_t first : {1, 64, 128, 192, 255}) EXPECT_EQ(t.lookup(ip4(first, 0, 0, 0)), &a);
  EXPECT_EQ(t.remove_peer(&a), 9u);  // 4 from build() + these 5
  int number = 29;
  for (uint8_t first : {1, 64, 128, 192, 255}) {
    EXPECT_NE(t.lookup(ip4(first, 0, 0, 0)), &a) << "allowedips self-test " << number++;
  }
  EXPECT_TRUE(t.prefixes_of(&a).empty());
  // What a owned now falls through to the next longest prefix.
  EXPECT_EQ(t.lookup(ip4(192, 168, 4, 20)), &c);
  EXPECT_EQ(t.lookup(ip4(10, 1, 0, 2)), &e);
  EXPECT_EQ(t.lookup(ip6(0x24046800, 0x40040800, 0xdeadbeef, 0xdeadbeef)), &h);
}

// wg-go TestTrieIPv4's tail: removing every peer empties the trie completely
// (no branch points left behind), and removing twice is harmless.
TEST_F(KernelSelftest, RemovingEveryPeerEmptiesTheTrie) {
  build();
  for (FakePeer* p : {&a, &a, &b, &c, &d, &e, &f, &g, &h}) t.remove_peer(p);
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(t.node_count(), 0u);
  EXPECT_EQ(t.lookup(ip4(10, 1, 0, 2)), nullptr);
  EXPECT_EQ(t.lookup(ip6(0, 0, 0, 1)), nullptr);
}

TEST_F(KernelSelftest, RemoveByPeerWithNestedPrefixes) {
  insert4(&a, 192, 168, 0, 0, 16);
  insert4(&a, 192, 168, 0, 0, 24);
  t.remove_peer(&a);
  EXPECT_NE(t.lookup(ip4(192, 168, 0, 1)), &a) << "allowedips self-test 34";
  EXPECT_EQ(t.node_count(), 0u);
}

// The kernel inserts 128 host routes that each differ from all-ones in one bit,
// a worst case for branch depth; freeing them must not trip over depth 128.
TEST_F(KernelSelftest, DeepV6Chain) {
  for (int i = 0; i < 128; ++i) {
    uint8_t bytes[16];
    std::memset(bytes, 0xff, 16);
    bytes[i / 8] &= uint8_t(~(0x80 >> (i % 8)));
    ASSERT_TRUE(t.insert(prefix(IpAddress::v6(bytes), 128), &a));
  }
  EXPECT_EQ(t.size(), 128u);
  EXPECT_LE(t.node_count(), 2u * 128 - 1);
  for (int i = 0; i < 128; ++i) {
    uint8_t bytes[16];
    std::memset(bytes, 0xff, 16);
    bytes[i / 8] &= uint8_t(~(0x80 >> (i % 8)));
    EXPECT_EQ(t.lookup(ByteView(bytes, 16)), &a) << i;
    bytes[15] ^= 1;  // differs in the last bit too: two bits off, no route
    if (i != 127) {
      EXPECT_EQ(t.lookup(ByteView(bytes, 16)), nullptr) << i;
    }
  }
  uint8_t ones[16];
  std::memset(ones, 0xff, 16);
  EXPECT_EQ(t.lookup(ByteView(ones, 16)), nullptr);
  t.clear();
  EXPECT_EQ(t.node_count(), 0u);
  EXPECT_EQ(t.size(), 0u);
}

// The kernel's per-peer listing: five prefixes, host bits masked, both families.
TEST_F(KernelSelftest, PrefixesOfPeer) {
  insert4(&a, 192, 95, 5, 93, 27);
  insert6(&a, 0x26075300, 0x60006b00, 0, 0xc05f0543, 128);
  insert4(&a, 10, 1, 0, 20, 29);
  insert6(&a, 0x26075300, 0x6d8a6bf8, 0xdab1f1df, 0xc05f1523, 83);
  insert6(&a, 0x26075300, 0x6d8a6bf8, 0xdab1f1df, 0xc05f1523, 21);
  const std::vector<IpPrefix> expected = {
      prefix(ip4(192, 95, 5, 64), 27),      prefix(ip6(0x26075300, 0x60006b00, 0, 0xc05f0543), 128),
      prefix(ip4(10, 1, 0, 16), 29),        prefix(ip6(0x26075300, 0x6d8a6bf8, 0xdab1e000, 0), 83),
      prefix(ip6(0x26075000, 0, 0, 0), 21),
  };
  EXPECT_EQ(t.prefixes_of(&a), expected);  // insertion order
  EXPECT_TRUE(t.prefixes_of(&b).empty());
}

// wg-go TestTrieIPv6 inserts into an empty table (no IPv4 entries at all).
TEST(AllowedIpsWgGo, V6Only) {
  FakePeer a{1}, b{2}, c{3}, d{4}, e{5}, f{6}, g{7}, h{8};
  Table t;
  t.insert(prefix(ip6(0x26075300, 0x60006b00, 0, 0xc05f0543), 128), &d);
  t.insert(prefix(ip6(0x26075300, 0x60006b00, 0, 0), 64), &c);
  t.insert(prefix(ip6(0, 0, 0, 0), 0), &e);
  t.insert(prefix(ip6(0, 0, 0, 0), 0), &f);
  t.insert(prefix(ip6(0x24046800, 0, 0, 0), 32), &g);
  t.insert(prefix(ip6(0x24046800, 0x40040800, 0xdeadbeef, 0xdeadbeef), 64), &h);
  t.insert(prefix(ip6(0x24046800, 0x40040800, 0xdeadbeef, 0xdeadbeef), 128), &a);
  t.insert(prefix(ip6(0x24446800, 0x40e40800, 0xdeaebeef, 0xdefbeef), 128), &c);
  t.insert(prefix(ip6(0x24446800, 0xf0e40800, 0xeeaebeef, 0), 98), &b);
  EXPECT_EQ(t.lookup(ip6(0x26075300, 0x60006b00, 0, 0xc05f0543)), &d);
  EXPECT_EQ(t.lookup(ip6(0x26075300, 0x60006b00, 0, 0xc02e01ee)), &c);
  EXPECT_EQ(t.lookup(ip6(0x26075300, 0x60006b01, 0, 0)), &f);
  EXPECT_EQ(t.lookup(ip6(0x24046800, 0x40040806, 0, 0x1006)), &g);
  EXPECT_EQ(t.lookup(ip6(0x24046800, 0x40040806, 0x1234, 0x5678)), &g);
  EXPECT_EQ(t.lookup(ip6(0x240467ff, 0x40040806, 0x1234, 0x5678)), &f);
  EXPECT_EQ(t.lookup(ip6(0x24046801, 0x40040806, 0x1234, 0x5678)), &f);
  EXPECT_EQ(t.lookup(ip6(0x24046800, 0x40040800, 0x1234, 0x5678)), &h);
  EXPECT_EQ(t.lookup(ip6(0x24046800, 0x40040800, 0, 0)), &h);
  EXPECT_EQ(t.lookup(ip6(0x24046800, 0x40040800, 0x10101010, 0x10101010)), &h);
  EXPECT_EQ(t.lookup(ip6(0x24046800, 0x40040800, 0xdeadbeef, 0xdeadbeef)), &a);
  // No IPv4 route exists: ::/0 does not cover IPv4.
  EXPECT_EQ(t.lookup(ip4(1, 2, 3, 4)), nullptr);
}

// ---------------------------------------------------------------------------
// The rest of the API.

TEST(AllowedIps, InsertMovesPrefixBetweenPeers) {
  FakePeer a{1}, b{2};
  Table t;
  ASSERT_TRUE(t.insert(parse("10.0.0.0/24"), &a));
  ASSERT_TRUE(t.insert(parse("10.0.1.0/24"), &a));
  ASSERT_TRUE(t.insert(parse("10.0.0.0/24"), &b));
  EXPECT_EQ(t.lookup(ip4(10, 0, 0, 9)), &b);
  EXPECT_EQ(t.prefixes_of(&a), std::vector<IpPrefix>{parse("10.0.1.0/24")});
  EXPECT_EQ(t.prefixes_of(&b), std::vector<IpPrefix>{parse("10.0.0.0/24")});
  EXPECT_EQ(t.size(), 2u);
  // Same prefix, same peer: nothing changes, order kept.
  ASSERT_TRUE(t.insert(parse("10.0.2.0/24"), &b));
  ASSERT_TRUE(t.insert(parse("10.0.0.0/24"), &b));
  EXPECT_EQ(t.prefixes_of(&b), (std::vector<IpPrefix>{parse("10.0.0.0/24"), parse("10.0.2.0/24")}));
  // Moved back: it goes to the end of a's list.
  ASSERT_TRUE(t.insert(parse("10.0.2.77/24"), &a));
  EXPECT_EQ(t.prefixes_of(&a), (std::vector<IpPrefix>{parse("10.0.1.0/24"), parse("10.0.2.0/24")}));
  EXPECT_EQ(t.size(), 3u);
}

TEST(AllowedIps, RemoveOnlyIfOwned) {
  FakePeer a{1}, b{2};
  Table t;
  t.insert(parse("10.0.0.0/8"), &a);
  t.insert(parse("10.1.0.0/16"), &b);
  t.insert(parse("fd00::/64"), &b);
  EXPECT_FALSE(t.remove(parse("10.1.0.0/16"), &a));  // b owns it
  EXPECT_FALSE(t.remove(parse("10.2.0.0/16"), &a));  // not present
  EXPECT_FALSE(t.remove(parse("10.0.0.0/9"), &a));   // not present, inside a's /8
  EXPECT_FALSE(t.remove(parse("10.0.0.0/8"), nullptr));
  EXPECT_EQ(t.lookup(ip4(10, 1, 2, 3)), &b);
  EXPECT_TRUE(t.remove(parse("10.1.0.0/16"), &b));
  EXPECT_FALSE(t.remove(parse("10.1.0.0/16"), &b));  // already gone
  EXPECT_EQ(t.lookup(ip4(10, 1, 2, 3)), &a);
  // Host bits in the argument are masked as on insert.
  EXPECT_TRUE(t.remove(IpPrefix{ip6(0xfd000000, 0, 0, 1), 64}, &b));
  EXPECT_EQ(t.lookup(ip6(0xfd000000, 0, 0, 1)), nullptr);
  EXPECT_TRUE(t.prefixes_of(&b).empty());
  EXPECT_EQ(t.size(), 1u);
  EXPECT_EQ(t.node_count(), 1u);
}

TEST(AllowedIps, RemovingABranchingPrefixKeepsItsChildren) {
  FakePeer a{1}, b{2}, c{3};
  Table t;
  t.insert(parse("10.0.0.0/8"), &a);
  t.insert(parse("10.0.0.0/16"), &b);
  t.insert(parse("10.128.0.0/16"), &c);
  ASSERT_TRUE(t.remove(parse("10.0.0.0/8"), &a));
  EXPECT_EQ(t.lookup(ip4(10, 0, 1, 1)), &b);
  EXPECT_EQ(t.lookup(ip4(10, 128, 1, 1)), &c);
  EXPECT_EQ(t.lookup(ip4(10, 1, 1, 1)), nullptr);
  EXPECT_EQ(t.size(), 2u);
  EXPECT_EQ(t.node_count(), 3u);  // the /8 stays as a branch point
  ASSERT_TRUE(t.remove(parse("10.0.0.0/16"), &b));
  EXPECT_EQ(t.node_count(), 1u);  // and goes once it no longer branches
  EXPECT_EQ(t.lookup(ip4(10, 128, 1, 1)), &c);
}

TEST(AllowedIps, FamiliesAreSeparate) {
  FakePeer v4{4}, v6{6};
  Table t;
  t.insert(parse("0.0.0.0/0"), &v4);
  t.insert(parse("::/0"), &v6);
  EXPECT_EQ(t.lookup(ip4(0, 0, 0, 0)), &v4);
  EXPECT_EQ(t.lookup(ip6(0, 0, 0, 0)), &v6);
  EXPECT_EQ(t.lookup(*IpAddress::parse("::ffff:1.2.3.4")), &v6);
  t.remove_peer(&v4);
  EXPECT_EQ(t.lookup(ip4(1, 2, 3, 4)), nullptr);
  EXPECT_EQ(t.lookup(ip6(1, 2, 3, 4)), &v6);
}

TEST(AllowedIps, RejectsBadInput) {
  FakePeer a{1};
  Table t;
  EXPECT_FALSE(t.insert(parse("10.0.0.0/8"), nullptr));
  EXPECT_FALSE(t.insert(IpPrefix{ip4(10, 0, 0, 0), 33}, &a));
  EXPECT_FALSE(t.insert(IpPrefix{ip6(0, 0, 0, 0), 129}, &a));
  EXPECT_FALSE(t.remove(IpPrefix{ip4(10, 0, 0, 0), 33}, &a));
  EXPECT_EQ(t.size(), 0u);
  t.insert(parse("0.0.0.0/0"), &a);
  const uint8_t five[5] = {10, 0, 0, 1, 0};
  EXPECT_EQ(t.lookup(ByteView(five, 5)), nullptr);
  EXPECT_EQ(t.lookup(ByteView(five, 3)), nullptr);
  EXPECT_EQ(t.lookup(ByteView()), nullptr);
  EXPECT_EQ(t.lookup(ByteView(five, 4)), &a);
  EXPECT_EQ(t.remove_peer(nullptr), 0u);
}

TEST(AllowedIps, ClearAndMove) {
  FakePeer a{1};
  Table t;
  t.insert(parse("10.0.0.0/8"), &a);
  t.insert(parse("fd00::/8"), &a);
  Table moved = std::move(t);
  EXPECT_EQ(moved.size(), 2u);
  EXPECT_EQ(moved.lookup(ip4(10, 9, 9, 9)), &a);
  EXPECT_EQ(t.size(), 0u);  // NOLINT(bugprone-use-after-move): moved-from is empty
  EXPECT_EQ(t.lookup(ip4(10, 9, 9, 9)), nullptr);
  moved.clear();
  EXPECT_EQ(moved.size(), 0u);
  EXPECT_EQ(moved.node_count(), 0u);
  EXPECT_EQ(moved.lookup(ip4(10, 9, 9, 9)), nullptr);
  EXPECT_TRUE(moved.prefixes_of(&a).empty());
  // Usable again after clear.
  moved.insert(parse("10.0.0.1"), &a);
  EXPECT_EQ(moved.lookup(ip4(10, 0, 0, 1)), &a);
}

// The deployment shape: 10,000 peers with one /32 each, plus a few wider
// prefixes owned by a gateway peer.
TEST(AllowedIps, TenThousandPeers) {
  constexpr int kPeers = 10000;
  std::vector<FakePeer> peers(kPeers);
  FakePeer gateway{-1};
  Table t;
  auto host = [](int i) { return ip4(10, uint8_t(i >> 16), uint8_t(i >> 8), uint8_t(i)); };
  for (int i = 0; i < kPeers; ++i) {
    peers[i].id = i;
    ASSERT_TRUE(t.insert(prefix(host(i * 7 + 1), 32), &peers[i]));
  }
  for (const char* p : {"0.0.0.0/0", "10.0.0.0/8", "192.168.0.0/16", "::/0", "fd00::/8"}) {
    ASSERT_TRUE(t.insert(parse(p), &gateway));
  }
  EXPECT_EQ(t.size(), size_t(kPeers) + 5);
  EXPECT_LE(t.node_count(), 2 * t.size());
  for (int i = 0; i < kPeers; ++i) {
    ASSERT_EQ(t.lookup(host(i * 7 + 1)), &peers[i]) << i;
    ASSERT_EQ(t.lookup(host(i * 7 + 2)), &gateway) << i;  // between hosts: the /8
  }
  EXPECT_EQ(t.lookup(ip4(11, 0, 0, 1)), &gateway);
  // Remove every other peer: their addresses fall back to the gateway's /8.
  for (int i = 0; i < kPeers; i += 2) ASSERT_EQ(t.remove_peer(&peers[i]), 1u);
  for (int i = 0; i < kPeers; ++i) {
    ASSERT_EQ(t.lookup(host(i * 7 + 1)), i % 2 ? &peers[i] : &gateway) << i;
  }
  for (int i = 1; i < kPeers; i += 2) t.remove_peer(&peers[i]);
  t.remove_peer(&gateway);
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(t.node_count(), 0u);
}

// ---------------------------------------------------------------------------
// Randomized comparison with a naive model.

// The obviously correct version: a list in insertion order, scanned linearly.
class NaiveTable {
 public:
  void insert(IpPrefix p, FakePeer* peer) {
    p = mask(p);
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (it->prefix == p) {
        if (it->peer == peer) return;
        entries_.erase(it);
        break;
      }
    }
    const Bits mask = p.length == 0 ? 0 : ~Bits(0) << (128 - p.length);
    entries_.push_back({p, peer, to_bits(p.address), mask});
  }
  bool remove(IpPrefix p, const FakePeer* peer) {
    p = mask(p);
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (it->prefix == p && it->peer == peer) {
        entries_.erase(it);
        return true;
      }
    }
    return false;
  }
  size_t remove_peer(const FakePeer* peer) {
    return std::erase_if(entries_, [&](const Entry& e) { return e.peer == peer; });
  }
  FakePeer* lookup(const IpAddress& a) const {
    FakePeer* best = nullptr;
    int best_length = -1;
    const Bits bits = to_bits(a);
    for (const Entry& e : entries_) {
      if (e.prefix.length > best_length && e.prefix.address.family == a.family &&
          (bits & e.mask) == e.bits) {
        best = e.peer;
        best_length = e.prefix.length;
      }
    }
    return best;
  }
  std::vector<IpPrefix> prefixes_of(const FakePeer* peer) const {
    std::vector<IpPrefix> out;
    for (const Entry& e : entries_) {
      if (e.peer == peer) out.push_back(e.prefix);
    }
    return out;
  }
  size_t size() const { return entries_.size(); }
  const IpPrefix& at(size_t i) const { return entries_[i].prefix; }
  FakePeer* owner(size_t i) const { return entries_[i].peer; }

 private:
  // The address as one 128-bit number, IPv4 left-aligned; a match is a masked compare.
  using Bits = unsigned __int128;
  static Bits to_bits(const IpAddress& a) {
    Bits b = 0;
    for (size_t i = 0; i < 16; ++i) b = b << 8 | a.bytes[i];
    return b;
  }
  struct Entry {
    IpPrefix prefix;
    FakePeer* peer;
    Bits bits;
    Bits mask;
  };
  static IpPrefix mask(IpPrefix p) { return *IpPrefix::parse(p.to_string()); }
  std::vector<Entry> entries_;
};

// Addresses cluster around a few bases so that prefixes nest and collide.
class RandomDriver {
 public:
  RandomDriver(bool v6, uint32_t seed) : v6_(v6), rng_(seed) {
    for (auto& base : bases_) {
      for (auto& byte : base) byte = uint8_t(rng_());
    }
  }

  IpAddress address() {
    std::array<uint8_t, 16> bytes{};
    const size_t n = v6_ ? 16 : 4;
    if (pick(10) == 0) {
      for (size_t i = 0; i < n; ++i) bytes[i] = uint8_t(rng_());  // anywhere
    } else {
      bytes = bases_[pick(bases_.size())];
      // Keep a random number of leading bits, randomize the rest.
      const size_t keep = pick(n * 8 + 1);
      for (size_t bit = keep; bit < n * 8; ++bit) {
        if (rng_() & 1) bytes[bit / 8] ^= uint8_t(0x80 >> (bit % 8));
      }
    }
    return v6_ ? IpAddress::v6(bytes.data()) : IpAddress::v4(bytes.data());
  }

  IpPrefix prefix() {
    const size_t width = v6_ ? 128 : 32;
    // Favour host routes and short prefixes, as configs do, but cover all lengths.
    size_t length = pick(4) == 0 ? width : pick(width + 1);
    return IpPrefix{address(), uint8_t(length)};
  }

  size_t pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }

 private:
  bool v6_;
  std::mt19937 rng_;
  std::array<std::array<uint8_t, 16>, 6> bases_{};
};

void compare_random(bool v6, uint32_t seed) {
  constexpr int kPeers = 40;
  constexpr int kOperations = 6000;
  constexpr int kLookupsPerOperation = 4;
  std::vector<FakePeer> peers(kPeers);
  for (int i = 0; i < kPeers; ++i) peers[i].id = i;
  Table t;
  NaiveTable model;
  RandomDriver r(v6, seed);
  size_t removed_true = 0;
  for (int op = 0; op < kOperations; ++op) {
    FakePeer* peer = &peers[r.pick(kPeers)];
    const size_t kind = r.pick(100);
    if (kind < 65) {
      const IpPrefix p = r.prefix();
      ASSERT_TRUE(t.insert(p, peer));
      model.insert(p, peer);
    } else if (kind < 90 && model.size() > 0) {
      // Remove an existing prefix, half the time naming the wrong peer.
      const size_t i = r.pick(model.size());
      IpPrefix p = model.at(i);
      FakePeer* who = r.pick(2) ? model.owner(i) : peer;
      const bool expected = model.remove(p, who);
      ASSERT_EQ(t.remove(p, who), expected) << "op " << op << " " << p.to_string();
      removed_true += expected;
    } else if (kind < 95) {
      const IpPrefix p = r.prefix();  // most likely absent
      ASSERT_EQ(t.remove(p, peer), model.remove(p, peer)) << "op " << op;
    } else if (kind < 97) {
      ASSERT_EQ(t.remove_peer(peer), model.remove_peer(peer)) << "op " << op;
    } else {
      ASSERT_EQ(t.prefixes_of(peer), model.prefixes_of(peer)) << "op " << op;
    }
    ASSERT_EQ(t.size(), model.size()) << "op " << op;
    ASSERT_LE(t.node_count(), 2 * t.size()) << "op " << op;
    for (int q = 0; q < kLookupsPerOperation; ++q) {
      const IpAddress a = r.address();
      ASSERT_EQ(t.lookup(a), model.lookup(a)) << "op " << op << " lookup " << a.to_string();
    }
  }
  EXPECT_GT(removed_true, 100u);  // the removals were exercised, not just misses
  EXPECT_GT(t.size(), 100u);
  for (auto& p : peers) ASSERT_EQ(t.prefixes_of(&p), model.prefixes_of(&p)) << p.id;
  // Kernel style: remove peers one by one, checking lookups after each.
  for (auto& p : peers) {
    ASSERT_EQ(t.remove_peer(&p), model.remove_peer(&p));
    for (int q = 0; q < 200; ++q) {
      const IpAddress a = r.address();
      ASSERT_EQ(t.lookup(a), model.lookup(a)) << "after removing peer " << p.id;
    }
  }
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(t.node_count(), 0u);
}

TEST(AllowedIpsRandom, V4AgainstNaiveModel) {
  for (uint32_t seed : {1u, 2u, 3u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    compare_random(false, seed);
  }
}

TEST(AllowedIpsRandom, V6AgainstNaiveModel) {
  for (uint32_t seed : {11u, 12u, 13u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    compare_random(true, seed);
  }
}

// Both families in one table, interleaved: a v4 operation must never disturb v6.
TEST(AllowedIpsRandom, MixedFamilies) {
  FakePeer peers[8];
  Table t;
  NaiveTable model;
  RandomDriver r4(false, 21), r6(true, 22);
  for (int op = 0; op < 3000; ++op) {
    RandomDriver& r = op % 2 ? r6 : r4;
    FakePeer* peer = &peers[r.pick(8)];
    if (r.pick(5) == 0) {
      ASSERT_EQ(t.remove_peer(peer), model.remove_peer(peer));
    } else {
      const IpPrefix p = r.prefix();
      t.insert(p, peer);
      model.insert(p, peer);
    }
    const IpAddress a = (op % 3 ? r4 : r6).address();
    ASSERT_EQ(t.lookup(a), model.lookup(a)) << "op " << op << " " << a.to_string();
  }
  for (auto& p : peers) EXPECT_EQ(t.prefixes_of(&p), model.prefixes_of(&p));
}

}  // namespace
}  // namespace wgp
