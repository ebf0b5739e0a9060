#include "net/ip.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>
#include <string>

namespace wgp {
namespace {

using namespace std::string_literals;

IpAddress addr(std::string_view text) {
  auto a = IpAddress::parse(text);
  EXPECT_TRUE(a) << text;
  return a.value_or(IpAddress{});
}

TEST(IpAddress, ParsesAndPrintsV4) {
  auto a = IpAddress::parse("10.0.0.1");
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->is_v4());
  EXPECT_EQ(a->size(), 4u);
  EXPECT_EQ(a->bytes[0], 10);
  EXPECT_EQ(a->bytes[3], 1);
  for (size_t i = 4; i < 16; ++i) EXPECT_EQ(a->bytes[i], 0) << i;
  EXPECT_EQ(a->to_string(), "10.0.0.1");
  EXPECT_EQ(a->view().size(), 4u);
  EXPECT_EQ(addr("0.0.0.0").to_string(), "0.0.0.0");
  EXPECT_EQ(addr("255.255.255.255").to_string(), "255.255.255.255");
}

TEST(IpAddress, ParsesAndPrintsV6Canonically) {
  auto a = IpAddress::parse("fd00::1");
  ASSERT_TRUE(a);
  EXPECT_FALSE(a->is_v4());
  EXPECT_EQ(a->size(), 16u);
  EXPECT_EQ(a->bytes[0], 0xfd);
  EXPECT_EQ(a->bytes[15], 1);
  EXPECT_EQ(a->to_string(), "fd00::1");
  // inet_ntop's canonical form: lower case, longest zero run compressed.
  EXPECT_EQ(addr("FD00:0:0:0:0:0:0:1").to_string(), "fd00::1");
  EXPECT_EQ(addr("2001:db8:0:0:1:0:0:1").to_string(), "2001:db8::1:0:0:1");
  EXPECT_EQ(addr("::").to_string(), "::");
  EXPECT_EQ(addr("::1").to_string(), "::1");
  // A mapped address typed as text stays IPv6: only sockets are unmapped.
  auto mapped = addr("::ffff:1.2.3.4");
  EXPECT_FALSE(mapped.is_v4());
  EXPECT_EQ(mapped.to_string(), "::ffff:1.2.3.4");
}

TEST(IpAddress, FactoriesZeroTheUnusedBytes) {
  const uint8_t b16[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  IpAddress a = IpAddress::v4(b16);
  EXPECT_EQ(a, addr("1.2.3.4"));
  EXPECT_EQ(IpAddress::v6(b16).to_string(), "102:304:506:708:90a:b0c:d0e:f10");
}

TEST(IpAddress, RejectsGarbage) {
  for (const char* bad :
       {"",         " ",        "1.2.3",   "1.2.3.4.5", "256.0.0.1",  "1.2.3.4 ",  " 1.2.3.4",
        "01.2.3.4", "1.2.3.-1", "a.b.c.d", "0x1.2.3.4", "1.2.3.4/32", "[fd00::1]", "fd00::1%eth0",
        "fd00:::1", "1::2::3",  "fd00::g", "12345::",   "localhost",  "1.2.3.4:80"}) {
    EXPECT_FALSE(IpAddress::parse(bad)) << bad;
  }
  EXPECT_FALSE(IpAddress::parse("1.2.3.4\0junk"s));  // an embedded NUL must not truncate
  EXPECT_FALSE(IpAddress::parse(std::string(100, '1')));
}

TEST(IpAddress, OrdersV4BeforeV6AndByBytes) {
  EXPECT_LT(addr("10.0.0.1"), addr("10.0.0.2"));
  EXPECT_LT(addr("255.255.255.255"), addr("::"));
  EXPECT_NE(addr("0.0.0.0"), addr("::"));
}

TEST(IpPrefix, ParsesAndMasksHostBits) {
  struct Case {
    const char* in;
    const char* out;
  } cases[] = {
      {"10.0.0.0/24", "10.0.0.0/24"},
      {"10.0.0.77/24", "10.0.0.0/24"},
      {"192.95.5.65/27", "192.95.5.64/27"},
      {"10.1.2.3/0", "0.0.0.0/0"},
      {"10.1.2.3/32", "10.1.2.3/32"},
      {"10.1.2.3", "10.1.2.3/32"},
      {"10.255.255.255/9", "10.128.0.0/9"},
      {"fd00::1/64", "fd00::/64"},
      {"fd00::1", "fd00::1/128"},
      {"::/0", "::/0"},
      {"2404:6800:4004:800:dead:beef:dead:beef/64", "2404:6800:4004:800::/64"},
      {"2607:5300:6d8a:6bf8:dab1:f1df:c05f:1523/83", "2607:5300:6d8a:6bf8:dab1:e000::/83"},
      {"2607:5300:6d8a:6bf8:dab1:f1df:c05f:1523/21", "2607:5000::/21"},
      {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/127",
       "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/127"},
  };
  for (const auto& c : cases) {
    auto p = IpPrefix::parse(c.in);
    ASSERT_TRUE(p) << c.in;
    EXPECT_EQ(p->to_string(), c.out) << c.in;
    // Printing and parsing again is the identity.
    EXPECT_EQ(IpPrefix::parse(p->to_string()), p) << c.in;
  }
}

TEST(IpPrefix, RejectsBadLengthsAndAddresses) {
  for (const char* bad : {"10.0.0.0/33", "fd00::/129", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/+8",
                          "10.0.0.0/8/8", "10.0.0.0/ 8", "10.0.0.0/8 ", "10.0.0/8", "/8", "",
                          "10.0.0.0/1000", "10.0.0.0/x", "fd00::/64%1"}) {
    EXPECT_FALSE(IpPrefix::parse(bad)) << bad;
  }
}

TEST(IpPrefix, Contains) {
  auto p = IpPrefix::parse("192.168.4.0/24").value();
  EXPECT_TRUE(p.contains(addr("192.168.4.0")));
  EXPECT_TRUE(p.contains(addr("192.168.4.255")));
  EXPECT_FALSE(p.contains(addr("192.168.5.0")));
  EXPECT_FALSE(p.contains(addr("::ffff:192.168.4.1")));  // other family
  auto all4 = IpPrefix::parse("0.0.0.0/0").value();
  EXPECT_TRUE(all4.contains(addr("1.2.3.4")));
  EXPECT_FALSE(all4.contains(addr("::1")));
  auto host = IpPrefix::parse("fd00::1").value();
  EXPECT_TRUE(host.contains(addr("fd00::1")));
  EXPECT_FALSE(host.contains(addr("fd00::2")));
  auto odd = IpPrefix::parse("2404:6800::/29").value();
  EXPECT_TRUE(odd.contains(addr("2404:6807:ffff::1")));
  EXPECT_FALSE(odd.contains(addr("2404:6808::")));
}

TEST(InterfaceAddress, KeepsHostBits) {
  auto a = InterfaceAddress::parse("10.0.0.1/24");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->address, addr("10.0.0.1"));
  EXPECT_EQ(a->length, 24);
  EXPECT_EQ(a->to_string(), "10.0.0.1/24");
  EXPECT_EQ(InterfaceAddress::parse("fd00::2")->to_string(), "fd00::2/128");
  EXPECT_EQ(InterfaceAddress::parse("10.0.0.2")->to_string(), "10.0.0.2/32");
  EXPECT_FALSE(InterfaceAddress::parse("10.0.0.1/33"));
  EXPECT_FALSE(InterfaceAddress::parse("10.0.0.1/"));
  EXPECT_FALSE(InterfaceAddress::parse("host/24"));
}

TEST(Endpoint, ParsesAndPrints) {
  auto e = Endpoint::parse("1.2.3.4:51820");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->address, addr("1.2.3.4"));
  EXPECT_EQ(e->port, 51820);
  EXPECT_EQ(e->to_string(), "1.2.3.4:51820");
  auto e6 = Endpoint::parse("[fd00::1]:51820");
  ASSERT_TRUE(e6);
  EXPECT_EQ(e6->address, addr("fd00::1"));
  EXPECT_EQ(e6->port, 51820);
  EXPECT_EQ(e6->to_string(), "[fd00::1]:51820");
  EXPECT_EQ(Endpoint::parse("[FD00:0::1]:1")->to_string(), "[fd00::1]:1");
  EXPECT_EQ(Endpoint::parse("0.0.0.0:0")->port, 0);
  EXPECT_EQ(Endpoint::parse("[::]:65535")->port, 65535);
}

TEST(Endpoint, RejectsGarbage) {
  for (const char* bad : {"",
                          ":",
                          "1.2.3.4",
                          "1.2.3.4:",
                          "1.2.3.4:65536",
                          "1.2.3.4:-1",
                          "1.2.3.4:+1",
                          "1.2.3.4:1x",
                          "1.2.3.4:1 ",
                          "1.2.3.4: 1",
                          "1.2.3.4:123456",
                          "1.2.3.4:99999",
                          "1.2.3.4:80:80",
                          "host.example:51820",
                          "fd00::1:51820",
                          "[fd00::1]",
                          "[fd00::1]:",
                          "[fd00::1]51820",
                          "[fd00::1:51820",
                          "fd00::1]:51820",
                          "[1.2.3.4]:80",
                          "[fd00::1%eth0]:80",
                          "[]:80",
                          "[[fd00::1]]:80",
                          " 1.2.3.4:80",
                          "1.2.3.4 :80"}) {
    EXPECT_FALSE(Endpoint::parse(bad)) << bad;
  }
}

TEST(Endpoint, FromSockaddrV4) {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(51820);
  ASSERT_EQ(inet_pton(AF_INET, "192.0.2.7", &sin.sin_addr), 1);
  Endpoint e = Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&sin));
  EXPECT_EQ(e.to_string(), "192.0.2.7:51820");
}

TEST(Endpoint, FromSockaddrV6) {
  sockaddr_in6 sin6{};
  sin6.sin6_family = AF_INET6;
  sin6.sin6_port = htons(443);
  ASSERT_EQ(inet_pton(AF_INET6, "2001:db8::5", &sin6.sin6_addr), 1);
  Endpoint e = Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&sin6));
  EXPECT_FALSE(e.address.is_v4());
  EXPECT_EQ(e.to_string(), "[2001:db8::5]:443");
}

TEST(Endpoint, FromSockaddrUnmapsV4MappedV6) {
  sockaddr_in6 sin6{};
  sin6.sin6_family = AF_INET6;
  sin6.sin6_port = htons(51820);
  ASSERT_EQ(inet_pton(AF_INET6, "::ffff:198.51.100.9", &sin6.sin6_addr), 1);
  Endpoint e = Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&sin6));
  EXPECT_TRUE(e.address.is_v4());
  EXPECT_EQ(e, Endpoint::parse("198.51.100.9:51820").value());
  // An IPv4-compatible (deprecated ::a.b.c.d) address is not mapped: stays v6.
  ASSERT_EQ(inet_pton(AF_INET6, "::198.51.100.9", &sin6.sin6_addr), 1);
  EXPECT_FALSE(Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&sin6)).address.is_v4());
}

TEST(Endpoint, FromSockaddrOtherFamilyIsEmpty) {
  sockaddr_storage ss{};
  ss.ss_family = AF_UNIX;
  EXPECT_EQ(Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&ss)), Endpoint{});
  EXPECT_EQ(Endpoint::from_sockaddr(nullptr), Endpoint{});
}

TEST(Endpoint, ToSockaddrV4) {
  sockaddr_storage ss;
  std::memset(&ss, 0xaa, sizeof ss);
  socklen_t len = Endpoint::parse("10.9.8.7:1234")->to_sockaddr(ss);
  ASSERT_EQ(len, sizeof(sockaddr_in));
  ASSERT_EQ(ss.ss_family, AF_INET);
  sockaddr_in sin;
  std::memcpy(&sin, &ss, sizeof sin);
  EXPECT_EQ(ntohs(sin.sin_port), 1234);
  char buf[INET_ADDRSTRLEN];
  EXPECT_STREQ(inet_ntop(AF_INET, &sin.sin_addr, buf, sizeof buf), "10.9.8.7");
  for (uint8_t b : sin.sin_zero) EXPECT_EQ(b, 0);
}

TEST(Endpoint, ToSockaddrV6) {
  sockaddr_storage ss;
  std::memset(&ss, 0xaa, sizeof ss);
  socklen_t len = Endpoint::parse("[fd00::9]:51820")->to_sockaddr(ss);
  ASSERT_EQ(len, sizeof(sockaddr_in6));
  ASSERT_EQ(ss.ss_family, AF_INET6);
  sockaddr_in6 sin6;
  std::memcpy(&sin6, &ss, sizeof sin6);
  EXPECT_EQ(ntohs(sin6.sin6_port), 51820);
  EXPECT_EQ(sin6.sin6_flowinfo, 0u);
  EXPECT_EQ(sin6.sin6_scope_id, 0u);
  char buf[INET6_ADDRSTRLEN];
  EXPECT_STREQ(inet_ntop(AF_INET6, &sin6.sin6_addr, buf, sizeof buf), "fd00::9");
}

TEST(Endpoint, SockaddrRoundTrip) {
  for (const char* text :
       {"1.2.3.4:1", "255.255.255.255:65535", "[::1]:0", "[2001:db8::1]:51820"}) {
    Endpoint e = Endpoint::parse(text).value();
    sockaddr_storage ss;
    e.to_sockaddr(ss);
    EXPECT_EQ(Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&ss)), e) << text;
  }
}

TEST(Endpoint, CookieInputIsAddressThenBigEndianPort) {
  std::array<uint8_t, 18> out{};
  size_t n = Endpoint::parse("192.168.1.2:51820")->cookie_input(out);
  ASSERT_EQ(n, 6u);
  EXPECT_EQ(to_hex(ByteView(out.data(), n)), "c0a80102ca6c");
  n = Endpoint::parse("[fd00::1]:1")->cookie_input(out);
  ASSERT_EQ(n, 18u);
  EXPECT_EQ(to_hex(ByteView(out.data(), n)), "fd0000000000000000000000000000010001");
}

}  // namespace
}  // namespace wgp
