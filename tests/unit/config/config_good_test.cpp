// Configs that must parse, and what they must parse to.
#include <gtest/gtest.h>

#include "config/config.h"
#include "config_test_util.h"

namespace wgp {
namespace {

using namespace wgp::testing;

IpPrefix prefix(const char* text) { return *IpPrefix::parse(text); }
InterfaceAddress iface_addr(const char* text) { return *InterfaceAddress::parse(text); }
Endpoint endpoint(const char* text) { return *Endpoint::parse(text); }

// Replaces the placeholders ALICE_PRIVATE, BOB_PUBLIC and PSK with keys.
std::string fill(std::string text) {
  for (auto [name, key] :
       {std::pair{"ALICE_PRIVATE", &kAlicePrivate}, {"BOB_PUBLIC", &kBobPublic}, {"PSK", &kPsk}}) {
    for (size_t at; (at = text.find(name)) != std::string::npos;)
      text.replace(at, std::string_view(name).size(), *key);
  }
  return text;
}

// DESIGN.md §3's example with real keys, peers after [Discovery] as written.
TEST(ConfigGood, DesignExample) {
  std::string text = fill(R"(# DESIGN.md section 3, keys filled in
[Interface]
PrivateKey = ALICE_PRIVATE           # required
ListenPort = 51820                 # default: any free port
Address = 10.0.0.1/24, fd00::1/64  # optional
MTU = 1420                         # default 1420

[Registry]                         # this node publishes its peers' endpoints
Zone = example.net.
Public = no                        # yes: answer DNS-SD on the WireGuard port to any source

[Discovery]                        # this node looks its peers up at a registry
Registry = BOB_PUBLIC
Zone = example.net.
Interval = 10                      # seconds between refreshes (also refreshed on demand)

[Peer]
PublicKey = BOB_PUBLIC
PresharedKey = PSK                 # optional
AllowedIPs = 10.0.0.2/32, fd00::2/128
Endpoint = 203.0.113.1:51820       # optional; names resolved at start
PersistentKeepalive = 5            # optional, seconds
)");
  Config c = parse(text);
  EXPECT_EQ(c.path, "wg0.conf");
  EXPECT_EQ(c.private_key, *secret_key_from_base64(kAlicePrivate));
  EXPECT_EQ(b64(c.public_key), kAlicePublic);
  EXPECT_EQ(c.listen_port, std::optional<uint16_t>(51820));
  ASSERT_EQ(c.addresses.size(), 2u);
  EXPECT_EQ(c.addresses[0], iface_addr("10.0.0.1/24"));
  EXPECT_EQ(c.addresses[1], iface_addr("fd00::1/64"));
  EXPECT_EQ(c.mtu, 1420);
  EXPECT_FALSE(c.fwmark);
  ASSERT_TRUE(c.registry);
  EXPECT_EQ(c.registry->zone, "example.net.");
  EXPECT_FALSE(c.registry->is_public);
  ASSERT_TRUE(c.discovery);
  ASSERT_EQ(c.discovery->registries.size(), 1u);
  EXPECT_EQ(b64(c.discovery->registries[0]), kBobPublic);
  EXPECT_EQ(c.discovery->zone, "example.net.");
  EXPECT_EQ(c.discovery->interval_seconds, 10u);
  ASSERT_EQ(c.peers.size(), 1u);
  const PeerConfig& p = c.peers[0];
  EXPECT_EQ(p.line, 17);
  EXPECT_EQ(b64(p.public_key), kBobPublic);
  ASSERT_TRUE(p.preshared_key);
  EXPECT_EQ(*p.preshared_key, *secret_key_from_base64(kPsk));
  ASSERT_EQ(p.allowed_ips.size(), 2u);
  EXPECT_EQ(p.allowed_ips[0], prefix("10.0.0.2/32"));
  EXPECT_EQ(p.allowed_ips[1], prefix("fd00::2/128"));
  EXPECT_EQ(p.endpoint, endpoint("203.0.113.1:51820"));
  EXPECT_EQ(p.endpoint_text, "203.0.113.1:51820");
  EXPECT_EQ(p.persistent_keepalive, 5);
  EXPECT_TRUE(c.warnings.empty());
}

TEST(ConfigGood, MinimalHasDefaults) {
  Config c = parse("[Interface]\nPrivateKey = " + kAlicePrivate);  // no final newline
  EXPECT_EQ(b64(c.public_key), kAlicePublic);
  EXPECT_FALSE(c.listen_port);
  EXPECT_TRUE(c.addresses.empty());
  EXPECT_EQ(c.mtu, kDefaultMtu);
  EXPECT_FALSE(c.fwmark);
  EXPECT_FALSE(c.registry);
  EXPECT_FALSE(c.discovery);
  EXPECT_TRUE(c.peers.empty());
  EXPECT_TRUE(c.warnings.empty());
}

TEST(ConfigGood, PeerDefaults) {
  Config c = parse(with_interface("[Peer]\nPublicKey = " + kBobPublic + "\n"));
  ASSERT_EQ(c.peers.size(), 1u);
  EXPECT_EQ(c.peers[0].line, 3);
  EXPECT_FALSE(c.peers[0].preshared_key);
  EXPECT_TRUE(c.peers[0].allowed_ips.empty());
  EXPECT_FALSE(c.peers[0].endpoint);
  EXPECT_TRUE(c.peers[0].endpoint_text.empty());
  EXPECT_EQ(c.peers[0].persistent_keepalive, 0);
}

TEST(ConfigGood, Ipv6Endpoint) {
  Config c = parse(
      with_interface("[Peer]\nPublicKey = " + kBobPublic + "\nEndpoint = [2001:db8::7]:51820\n"));
  EXPECT_EQ(c.peers[0].endpoint, endpoint("[2001:db8::7]:51820"));
  EXPECT_FALSE(c.peers[0].endpoint->address.is_v4());
  EXPECT_EQ(c.peers[0].endpoint_text, "[2001:db8::7]:51820");
}

TEST(ConfigGood, NameEndpointGoesThroughResolverAndTakesFirstAnswer) {
  std::vector<std::string> asked;
  Resolver fake = [&](const std::string& host) {
    asked.push_back(host);
    return ResolveResult{{*IpAddress::parse("198.51.100.7"), *IpAddress::parse("2001:db8::1")}, ""};
  };
  Config c = parse(with_interface("[Peer]\nPublicKey = " + kBobPublic +
                                  "\nEndpoint = Registry.Example.NET:4500\n"),
                   fake);
  ASSERT_EQ(asked.size(), 1u);
  EXPECT_EQ(asked[0], "Registry.Example.NET");
  EXPECT_EQ(c.peers[0].endpoint, endpoint("198.51.100.7:4500"));
  EXPECT_EQ(c.peers[0].endpoint_text, "Registry.Example.NET:4500");
}

// wg strips every whitespace character and compares keys and sections
// without regard to case; '#' starts a comment anywhere.
TEST(ConfigGood, CommentsWhitespaceAndCase) {
  // Tabs and CRLF line ends (the \r is whitespace too) in a raw string.
  std::string text = fill(R"(# a comment line

   [ iNtErFaCe ]   # trailing comment
\tprivatekey\t=\tALICE_PRIVATE
LISTEN PORT = 5 18 20
mtu=1280#no space before the comment
   \t  
[pEeR]
publickey = BOB_PUBLIC
allowedips=10.0.0.2/32 , 10.0.0.3/32
   # indented comment
persistentKEEPALIVE = OFF)");
  for (size_t at; (at = text.find("\\t")) != std::string::npos;)
    text.replace(at, 2, "\t");  // "\\t" -> tab
  for (size_t at = 0; (at = text.find('\n', at)) != std::string::npos; at += 2)
    text.insert(at, "\r");
  Config c = parse(text);
  EXPECT_EQ(c.listen_port, std::optional<uint16_t>(51820));
  EXPECT_EQ(c.mtu, 1280);
  ASSERT_EQ(c.peers.size(), 1u);
  EXPECT_EQ(c.peers[0].line, 8);
  EXPECT_EQ(c.peers[0].allowed_ips.size(), 2u);
  EXPECT_EQ(c.peers[0].persistent_keepalive, 0);
}

TEST(ConfigGood, ListsAccumulateOverRepeatedKeys) {
  Config c = parse("[Interface]\nPrivateKey = " + kAlicePrivate +
                   "\nAddress = 10.0.0.1/24\nAddress = fd00::1/64, 10.1.0.1\n"
                   "[Peer]\nPublicKey = " +
                   kBobPublic +
                   "\nAllowedIPs = 10.0.0.2/32\nAllowedIPs = \nAllowedIPs = fd00::2, 0.0.0.0/0\n");
  ASSERT_EQ(c.addresses.size(), 3u);
  EXPECT_EQ(c.addresses[2], iface_addr("10.1.0.1/32"));
  ASSERT_EQ(c.peers[0].allowed_ips.size(), 3u);
  EXPECT_EQ(c.peers[0].allowed_ips[0], prefix("10.0.0.2/32"));
  EXPECT_EQ(c.peers[0].allowed_ips[1], prefix("fd00::2/128"));
  EXPECT_EQ(c.peers[0].allowed_ips[2], prefix("0.0.0.0/0"));
}

TEST(ConfigGood, SeveralPeersInFileOrder) {
  Config c = parse(with_interface("[Peer]\nPublicKey = " + kBobPublic + "\n[Peer]\nPublicKey = " +
                                  kCarolPublic + "\n\n[Peer]\nPublicKey = " + kDavePublic + "\n"));
  ASSERT_EQ(c.peers.size(), 3u);
  EXPECT_EQ(b64(c.peers[0].public_key), kBobPublic);
  EXPECT_EQ(b64(c.peers[1].public_key), kCarolPublic);
  EXPECT_EQ(b64(c.peers[2].public_key), kDavePublic);
  EXPECT_EQ(c.peers[0].line, 3);
  EXPECT_EQ(c.peers[1].line, 5);
  EXPECT_EQ(c.peers[2].line, 8);
}

TEST(ConfigGood, FwMarkForms) {
  EXPECT_EQ(parse(with_interface("FwMark = 1234\n")).fwmark, std::optional<uint32_t>(1234));
  EXPECT_EQ(parse(with_interface("FwMark = 0xca6c\n")).fwmark, std::optional<uint32_t>(51820));
  EXPECT_EQ(parse(with_interface("FwMark = 0xFFFFFFFF\n")).fwmark,
            std::optional<uint32_t>(0xffffffffu));
  EXPECT_EQ(parse(with_interface("fwmark = off\n")).fwmark, std::nullopt);
  EXPECT_EQ(parse(with_interface("FwMark = 0\n")).fwmark, std::nullopt);  // wg: 0 is off
}

TEST(ConfigGood, ListenPortZeroMeansAnyPort) {
  EXPECT_EQ(parse(with_interface("ListenPort = 0\n")).listen_port, std::nullopt);
  EXPECT_EQ(parse(with_interface("ListenPort = 65535\n")).listen_port,
            std::optional<uint16_t>(65535));
}

TEST(ConfigGood, MtuLimits) {
  EXPECT_EQ(parse(with_interface("MTU = 576\nAddress = 10.0.0.1/24\n")).mtu, 576);
  EXPECT_EQ(parse(with_interface("MTU = 1280\nAddress = fd00::1/64\n")).mtu, 1280);
  EXPECT_EQ(parse(with_interface("MTU = 65535\n")).mtu, 65535);
}

TEST(ConfigGood, KeepaliveForms) {
  auto keepalive = [](const std::string& v) {
    return parse(with_interface("[Peer]\nPublicKey = " + kBobPublic +
                                "\nPersistentKeepalive = " + v + "\n"))
        .peers[0]
        .persistent_keepalive;
  };
  EXPECT_EQ(keepalive("off"), 0);
  EXPECT_EQ(keepalive("0"), 0);
  EXPECT_EQ(keepalive("25"), 25);
  EXPECT_EQ(keepalive("65535"), 65535);
}

TEST(ConfigGood, AllZeroPresharedKeyMeansNone) {
  Config c =
      parse(with_interface("[Peer]\nPublicKey = " + kBobPublic +
                           "\nPresharedKey = AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"));
  EXPECT_FALSE(c.peers[0].preshared_key);
}

TEST(ConfigGood, RegistryZoneIsNormalisedAndPublicParsed) {
  for (auto [value, expect] :
       {std::pair{"yes", true}, {"No", false}, {"TRUE", true}, {"false", false}}) {
    Config c = parse(
        with_interface(std::string("[Registry]\nZone = WG.Example.NET\nPublic = ") + value + "\n"));
    EXPECT_EQ(c.registry->zone, "wg.example.net.");
    EXPECT_EQ(c.registry->is_public, expect) << value;
  }
}

// The registry's [Peer] may come after [Discovery]; Interval defaults to 10.
TEST(ConfigGood, DiscoveryRefersForwardToItsPeer) {
  Config c = parse(with_interface("[Discovery]\nRegistry = " + kCarolPublic +
                                  "\nZone = example.net\n[Peer]\nPublicKey = " + kBobPublic +
                                  "\n[Peer]\nPublicKey = " + kCarolPublic + "\n"));
  ASSERT_EQ(c.discovery->registries.size(), 1u);
  EXPECT_EQ(b64(c.discovery->registries[0]), kCarolPublic);
  EXPECT_EQ(c.discovery->zone, "example.net.");
  EXPECT_EQ(c.discovery->interval_seconds, 10u);
  EXPECT_FALSE(c.registry);
}

// Several registries: a comma list, the line repeated, or both, in order.
TEST(ConfigGood, SeveralRegistries) {
  std::string peers = "\n[Peer]\nPublicKey = " + kBobPublic + "\n[Peer]\nPublicKey = " + kCarolPublic +
                      "\n[Peer]\nPublicKey = " + kDavePublic + "\n";
  Config list = parse(with_interface("[Discovery]\nZone = example.net\nRegistry = " + kBobPublic +
                                     ", " + kCarolPublic + "\n" + peers));
  ASSERT_EQ(list.discovery->registries.size(), 2u);
  EXPECT_EQ(b64(list.discovery->registries[0]), kBobPublic);
  EXPECT_EQ(b64(list.discovery->registries[1]), kCarolPublic);
  Config repeated = parse(with_interface("[Discovery]\nZone = example.net\nRegistry = " +
                                         kBobPublic + ",\t" + kCarolPublic + "\nRegistry = " +
                                         kDavePublic + "\n" + peers));
  ASSERT_EQ(repeated.discovery->registries.size(), 3u);
  EXPECT_EQ(b64(repeated.discovery->registries[2]), kDavePublic);
}

TEST(ConfigGood, IntervalAcceptsOneAndLarge) {
  std::string base =
      with_interface("[Peer]\nPublicKey = " + kBobPublic +
                     "\n[Discovery]\nRegistry = " + kBobPublic + "\nZone = a.example\nInterval = ");
  EXPECT_EQ(parse(base + "1\n").discovery->interval_seconds, 1u);
  EXPECT_EQ(parse(base + "4294967295\n").discovery->interval_seconds, 4294967295u);
}

// As wg does: the prefix is used with its host bits cleared, and a warning
// (not printed by the parser) says so.
TEST(ConfigGood, AllowedIpsWithHostBitsWarn) {
  Config c = parse(with_interface("[Peer]\nPublicKey = " + kBobPublic +
                                  "\nAllowedIPs = 10.0.0.1/24, fd00::1/64, 10.0.1.0/24\n"));
  ASSERT_EQ(c.peers[0].allowed_ips.size(), 3u);
  EXPECT_EQ(c.peers[0].allowed_ips[0], prefix("10.0.0.0/24"));
  EXPECT_EQ(c.peers[0].allowed_ips[1], prefix("fd00::/64"));
  ASSERT_EQ(c.warnings.size(), 2u);
  EXPECT_EQ(c.warnings[0],
            "wg0.conf:5: AllowedIPs: 10.0.0.1/24 has host bits set; it means 10.0.0.0/24");
  EXPECT_EQ(c.warnings[1],
            "wg0.conf:5: AllowedIPs: fd00::1/64 has host bits set; it means fd00::/64");
}

TEST(ConfigGood, RegistryAndDiscoveryTogether) {
  Config c =
      parse(with_interface("[Registry]\nZone = home.example.\nPublic = yes\n"
                           "[Discovery]\nRegistry = " +
                           kBobPublic +
                           "\nZone = other.example.\nInterval = 30\n"
                           "[Peer]\nPublicKey = " +
                           kBobPublic + "\n"));
  EXPECT_EQ(c.registry->zone, "home.example.");
  EXPECT_TRUE(c.registry->is_public);
  EXPECT_EQ(c.discovery->zone, "other.example.");
  EXPECT_EQ(c.discovery->interval_seconds, 30u);
}

}  // namespace
}  // namespace wgp
