// The scalar parsers under the config keys, at their edges.
#include "config/config_values.h"

#include <gtest/gtest.h>

namespace wgp::config {
namespace {

TEST(ConfigValues, Decimal) {
  EXPECT_EQ(parse_decimal("0", 10), std::optional<uint64_t>(0));
  EXPECT_EQ(parse_decimal("0065535", 65535), std::optional<uint64_t>(65535));
  EXPECT_EQ(parse_decimal("65536", 65535), std::nullopt);
  EXPECT_EQ(parse_decimal("4294967295", UINT32_MAX), std::optional<uint64_t>(UINT32_MAX));
  EXPECT_EQ(parse_decimal("4294967296", UINT32_MAX), std::nullopt);
  EXPECT_EQ(parse_decimal("99999999999999999999999", UINT32_MAX), std::nullopt);  // no overflow
  EXPECT_EQ(parse_decimal("", 10), std::nullopt);
  EXPECT_EQ(parse_decimal("+1", 10), std::nullopt);
  EXPECT_EQ(parse_decimal("1 ", 10), std::nullopt);
  EXPECT_EQ(parse_decimal("0x1", 10), std::nullopt);
}

TEST(ConfigValues, FwMark) {
  EXPECT_EQ(parse_fwmark("off"), std::optional<uint32_t>(0));
  EXPECT_EQ(parse_fwmark("OFF"), std::optional<uint32_t>(0));
  EXPECT_EQ(parse_fwmark("0x0"), std::optional<uint32_t>(0));
  EXPECT_EQ(parse_fwmark("0xabcDEF"), std::optional<uint32_t>(0xabcdef));
  EXPECT_EQ(parse_fwmark("0xffffffff"), std::optional<uint32_t>(0xffffffffu));
  EXPECT_EQ(parse_fwmark("4294967295"), std::optional<uint32_t>(0xffffffffu));
  EXPECT_EQ(parse_fwmark("0x"), std::nullopt);
  EXPECT_EQ(parse_fwmark("0x1ffffffff"), std::nullopt);
  EXPECT_EQ(parse_fwmark("12a"), std::nullopt);
  EXPECT_EQ(parse_fwmark(""), std::nullopt);
}

TEST(ConfigValues, Keepalive) {
  EXPECT_EQ(parse_keepalive("Off"), std::optional<uint16_t>(0));
  EXPECT_EQ(parse_keepalive("65535"), std::optional<uint16_t>(65535));
  EXPECT_EQ(parse_keepalive("65536"), std::nullopt);
  EXPECT_EQ(parse_keepalive(""), std::nullopt);
}

TEST(ConfigValues, Bool) {
  EXPECT_EQ(parse_bool("YES"), std::optional<bool>(true));
  EXPECT_EQ(parse_bool("True"), std::optional<bool>(true));
  EXPECT_EQ(parse_bool("no"), std::optional<bool>(false));
  EXPECT_EQ(parse_bool("FALSE"), std::optional<bool>(false));
  EXPECT_EQ(parse_bool("1"), std::nullopt);
  EXPECT_EQ(parse_bool("y"), std::nullopt);
  EXPECT_EQ(parse_bool(""), std::nullopt);
}

TEST(ConfigValues, SplitList) {
  EXPECT_TRUE(split_list("").empty());
  EXPECT_EQ(split_list("a"), (std::vector<std::string_view>{"a"}));
  EXPECT_EQ(split_list("a,b,c"), (std::vector<std::string_view>{"a", "b", "c"}));
  EXPECT_EQ(split_list("a,,b"), (std::vector<std::string_view>{"a", "", "b"}));
  EXPECT_EQ(split_list("a,"), (std::vector<std::string_view>{"a", ""}));
}

TEST(ConfigValues, HostPort) {
  std::string why;
  auto hp = split_host_port("example.net:51820", why);
  ASSERT_TRUE(hp);
  EXPECT_EQ(hp->host, "example.net");
  EXPECT_EQ(hp->port, 51820);
  hp = split_host_port("[fd00::1]:1", why);
  ASSERT_TRUE(hp);
  EXPECT_EQ(hp->host, "fd00::1");
  EXPECT_EQ(hp->port, 1);
  EXPECT_FALSE(split_host_port("[]:1", why));
  EXPECT_EQ(why, "no host before the port");
  EXPECT_FALSE(split_host_port("a:1x", why));
  EXPECT_EQ(why, "port is not a number 1-65535");
}

TEST(ConfigValues, DnsNames) {
  std::string why;
  size_t wire = 0;
  EXPECT_EQ(normalise_dns_name("Example.NET", why, &wire),
            std::optional<std::string>("example.net."));
  EXPECT_EQ(wire, 13u);  // 7 example 3 net 0
  EXPECT_EQ(normalise_dns_name("example.net.", why), std::optional<std::string>("example.net."));
  EXPECT_EQ(normalise_dns_name("_udp.x-1.example", why),
            std::optional<std::string>("_udp.x-1.example."));
  EXPECT_EQ(normalise_dns_name(std::string(63, 'a'), why),
            std::optional<std::string>(std::string(63, 'a') + "."));
  EXPECT_FALSE(normalise_dns_name(std::string(64, 'a'), why));
  EXPECT_EQ(normalise_dns_name("A.", why), std::optional<std::string>("a."));
  EXPECT_FALSE(normalise_dns_name(".a", why));
  EXPECT_FALSE(normalise_dns_name("a..", why));
  EXPECT_FALSE(normalise_dns_name("a-.b", why));
  EXPECT_FALSE(normalise_dns_name("a b", why));
  EXPECT_FALSE(normalise_dns_name(".", why));
  // 253 characters of text is the most a name can have: 255 in wire form.
  std::string longest = std::string(63, 'a') + "." + std::string(63, 'b') + "." +
                        std::string(63, 'c') + "." + std::string(61, 'd');
  ASSERT_EQ(longest.size(), 253u);
  EXPECT_TRUE(normalise_dns_name(longest, why, &wire));
  EXPECT_EQ(wire, 255u);
  EXPECT_FALSE(normalise_dns_name(longest + "d", why));
}

TEST(ConfigValues, SafeToEcho) {
  EXPECT_TRUE(safe_to_echo("Foo"));
  EXPECT_TRUE(safe_to_echo("-1"));
  EXPECT_TRUE(safe_to_echo("1420b"));
  EXPECT_TRUE(safe_to_echo("99999999999999999999"));  // 20 digits
  EXPECT_FALSE(safe_to_echo("999999999999999999999"));
  EXPECT_FALSE(
      safe_to_echo("ListenPo"
                   "rt"));  // 10: names this long need near_name
  EXPECT_FALSE(safe_to_echo(""));
  EXPECT_FALSE(safe_to_echo("dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo="));
  EXPECT_FALSE(safe_to_echo("dwdtCnMYpX"));  // 10 letters of a key
  EXPECT_FALSE(safe_to_echo("a+b"));
}

TEST(ConfigValues, EditDistance) {
  EXPECT_EQ(edit_distance("", ""), 0u);
  EXPECT_EQ(edit_distance("abc", ""), 3u);
  EXPECT_EQ(edit_distance("Endpoint", "ENDPOINTT"), 1u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("ListenPort", "LsitenPort"), 2u);
  EXPECT_EQ(edit_distance(std::string(33, 'a'), "a"), SIZE_MAX);
}

TEST(ConfigValues, NearName) {
  EXPECT_TRUE(near_name("PersistentKeepalve", "PersistentKeepalive"));
  EXPECT_TRUE(near_name("allowedip", "AllowedIPs"));
  EXPECT_TRUE(near_name("MTUU", "MTU"));
  EXPECT_FALSE(near_name("Foo", "MTU"));
  EXPECT_FALSE(near_name("MXY", "MTU"));             // 2 edits of a 3-letter name is too many
  EXPECT_FALSE(near_name("Endpoint1", "Endpoint"));  // letters only
  EXPECT_FALSE(near_name("dwdtCnMYpX", "Endpoint"));
}

TEST(ConfigValues, CaseInsensitive) {
  EXPECT_TRUE(iequals("PrivateKey", "privatekey"));
  EXPECT_FALSE(iequals("PrivateKey", "PrivateKeys"));
  EXPECT_TRUE(istarts_with("LISTENPORT51820", "ListenPort"));
  EXPECT_FALSE(istarts_with("Listen", "ListenPort"));
}

}  // namespace
}  // namespace wgp::config
