// One test per mistake: the exact one-line message, FILE:LINE: KEY: problem.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/config.h"
#include "config/config_values.h"
#include "config_test_util.h"

namespace wgp {
namespace {

using namespace wgp::testing;
using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string peer(const std::string& pub, const std::string& rest = "") {
  return "[Peer]\nPublicKey = " + pub + "\n" + rest;
}

// --- structure -------------------------------------------------------------

TEST(ConfigErrors, EmptyFile) {
  EXPECT_EQ(error_of(""), "wg0.conf: no [Interface] section; the file must begin with one");
  EXPECT_EQ(error_of("# only a comment\n\n"),
            "wg0.conf: no [Interface] section; the file must begin with one");
}

TEST(ConfigErrors, KeyBeforeAnySection) {
  EXPECT_EQ(error_of("# header\nPrivateKey = " + kAlicePrivate + "\n[Interface]\n"),
            "wg0.conf:2: PrivateKey: outside any section; the file must begin with [Interface]");
}

TEST(ConfigErrors, PeerBeforeInterface) {
  EXPECT_EQ(error_of(peer(kBobPublic) + "[Interface]\nPrivateKey = " + kAlicePrivate + "\n"),
            "wg0.conf:1: [Peer]: [Interface] must come first in the file");
}

TEST(ConfigErrors, InterfaceTwice) {
  EXPECT_EQ(error_of(with_interface("\n[interface]\n")),
            "wg0.conf:4: [Interface]: appears twice (first on line 1)");
}

TEST(ConfigErrors, UnknownSection) {
  EXPECT_EQ(error_of(with_interface("[Peers]\n")),
            "wg0.conf:3: [Peers]: unknown section; did you mean [Peer]?");
  EXPECT_EQ(error_of(with_interface("[Server]\n")),
            "wg0.conf:3: [Server]: unknown section; expected [Interface], [Peer], [Registry] or "
            "[Discovery]");
  // Long and unlike any section: not repeated (it could be key material).
  EXPECT_EQ(error_of(with_interface("[" + kBobPrivate + "]\n")),
            "wg0.conf:3: unknown section; expected [Interface], [Peer], [Registry] or "
            "[Discovery]");
}

TEST(ConfigErrors, BadSectionHeader) {
  EXPECT_EQ(error_of(with_interface("[Peer\n")),
            "wg0.conf:3: a section header is [NAME] with nothing after the ']'");
  EXPECT_EQ(error_of(with_interface("[Peer]x\n")),
            "wg0.conf:3: a section header is [NAME] with nothing after the ']'");
}

TEST(ConfigErrors, UnknownKey) {
  EXPECT_EQ(error_of(with_interface("Foo = 1\n")), "wg0.conf:3: Foo: unknown key in [Interface]");
  EXPECT_EQ(error_of(with_interface(peer(kBobPublic, "Endpointt = 1.2.3.4:5\n"))),
            "wg0.conf:5: Endpointt: unknown key in [Peer]; did you mean Endpoint?");
  EXPECT_EQ(error_of(with_interface("persistentkeepalve = 5\n")),
            "wg0.conf:3: persistentkeepalve: unknown key in [Interface]; did you mean "
            "PersistentKeepalive?");
  EXPECT_EQ(error_of(with_interface("PostUpp = x\n")),
            "wg0.conf:3: PostUpp: unknown key in [Interface]; did you mean PostUp?");
  // A plain word is shown; only what may be key material is hidden.
  EXPECT_EQ(error_of(with_interface("SomethingElse = x\n")),
            "wg0.conf:3: SomethingElse: unknown key in [Interface]");
  EXPECT_EQ(error_of(with_interface("Upstream = 192.0.2.1\n")),
            "wg0.conf:3: Upstream: unknown key in [Interface]");
  EXPECT_EQ(error_of(with_interface("PERSISTENT_THING = 1\n")),
            "wg0.conf:3: PERSISTENT_THING: unknown key in [Interface]");
  EXPECT_EQ(error_of(with_interface("yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk = x\n")),
            "wg0.conf:3: unknown key in [Interface] (name not shown: it may be key material)");
  EXPECT_EQ(error_of(with_interface("qWeRtYuIoPaSdFgH = x\n")),
            "wg0.conf:3: unknown key in [Interface] (name not shown: it may be key material)");
}

// No piece of a real key of the test set passes for a name.
TEST(ConfigErrors, NoPieceOfAKeyLooksLikeAName) {
  for (const std::string& key : {kBobPrivate, kBobPublic}) {
    for (size_t len = 9; len <= 32; ++len)
      for (size_t at = 0; at + len <= 43; ++at)
        EXPECT_FALSE(config::looks_like_a_name(std::string_view(key).substr(at, len)))
            << key.substr(at, len);
  }
}

TEST(ConfigErrors, KeyInWrongSection) {
  EXPECT_EQ(error_of(with_interface("PublicKey = " + kBobPublic + "\n")),
            "wg0.conf:3: PublicKey: belongs in [Peer], not in [Interface]");
  EXPECT_EQ(error_of(with_interface(peer(kBobPublic, "listenport = 1\n"))),
            "wg0.conf:5: ListenPort: belongs in [Interface], not in [Peer]");
  EXPECT_EQ(error_of(with_interface("[Registry]\nInterval = 5\n")),
            "wg0.conf:4: Interval: belongs in [Discovery], not in [Registry]");
}

TEST(ConfigErrors, LineWithoutEquals) {
  EXPECT_EQ(error_of(with_interface("ListenPort 51820\n")),
            "wg0.conf:3: ListenPort: no '=' after the key (expected ListenPort = VALUE)");
  EXPECT_EQ(error_of(with_interface("address\n")),
            "wg0.conf:3: Address: no '=' after the key (expected Address = VALUE)");
  EXPECT_EQ(error_of(with_interface("Foo\n")),
            "wg0.conf:3: Foo: no '=' on this line (expected KEY = VALUE)");
  // A key written with ':' instead of '=': only the key's name is repeated.
  EXPECT_EQ(error_of(with_interface("PrivateKey: " + kBobPrivate.substr(0, 43) + "\n")),
            "wg0.conf:3: PrivateKey: no '=' after the key (expected PrivateKey = VALUE)");
}

TEST(ConfigErrors, EqualsWithoutKey) {
  EXPECT_EQ(error_of(with_interface("= 5\n")), "wg0.conf:3: '=' with no key before it");
}

// wg-quick keys that wgpunch leaves to the administrator.
TEST(ConfigErrors, WgQuickKeysAreRefusedByName) {
  for (const char* key : {"DNS", "Table", "PreUp", "PostUp", "PreDown", "PostDown", "SaveConfig"}) {
    std::string msg = error_of(with_interface(std::string(key) + " = x\n"));
    EXPECT_THAT(msg, StartsWith("wg0.conf:3: " + std::string(key) +
                                ": wg-quick key that wgpunch does not support; remove it and "));
    EXPECT_THAT(msg, HasSubstr("WG_QUICK_USERSPACE_IMPLEMENTATION=wgpunch"));
  }
  EXPECT_EQ(error_of(with_interface("dns = 1.1.1.1\n")),
            "wg0.conf:3: DNS: wg-quick key that wgpunch does not support; remove it and set the "
            "resolver yourself (resolvconf, systemd-resolved) (or let wg-quick do it: "
            "WG_QUICK_USERSPACE_IMPLEMENTATION=wgpunch wg-quick up IFACE)");
}

TEST(ConfigErrors, DuplicateSingleValuedKey) {
  EXPECT_EQ(error_of(with_interface("ListenPort = 1\nlistenport = 2\n")),
            "wg0.conf:4: ListenPort: given twice in this section (first on line 3)");
  EXPECT_EQ(error_of(with_interface("PrivateKey = " + kBobPrivate + "\n")),
            "wg0.conf:3: PrivateKey: given twice in this section (first on line 2)");
  EXPECT_EQ(error_of(with_interface(peer(kBobPublic,
                                         "Endpoint = 1.2.3.4:5\nEndpoint = "
                                         "1.2.3.4:6\n"))),
            "wg0.conf:6: Endpoint: given twice in this section (first on line 5)");
  EXPECT_EQ(error_of(with_interface("[Registry]\nZone = a.example\nZone = b.example\n")),
            "wg0.conf:5: Zone: given twice in this section (first on line 4)");
}

// --- [Interface] -------------------------------------------------------------

TEST(ConfigErrors, MissingPrivateKey) {
  EXPECT_EQ(error_of("\n[Interface]\nListenPort = 1\n"),
            "wg0.conf:2: PrivateKey: missing: [Interface] needs one ('wgpunch genkey')");
}

TEST(ConfigErrors, BadPrivateKeyIsNeverEchoed) {
  const std::string bad[] = {
      kAlicePrivate.substr(0, 43),                     // 43 characters
      kAlicePrivate + "A",                             // 45
      "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LC*=",  // bad character
      "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCp=",  // non-zero trailing bits
      "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCoA",  // no padding
      "Zq9",                                           // short and echo-safe
  };
  for (const std::string& key : bad) {
    std::string msg = error_of("[Interface]\nPrivateKey = " + key + "\n");
    EXPECT_EQ(msg,
              "wg0.conf:2: PrivateKey: not a valid key: expected 44 characters of base64 (as "
              "'wgpunch genkey' prints)");
    EXPECT_EQ(msg.find(key), std::string::npos);
  }
}

TEST(ConfigErrors, AllZeroPrivateKey) {
  EXPECT_EQ(error_of("[Interface]\nPrivateKey = AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"),
            "wg0.conf:2: PrivateKey: all zero, which wg reads as no key; use 'wgpunch genkey'");
}

// A private key pasted on a line of its own ends in '=' and so reads as a
// key with an empty value: the message must not repeat it.
TEST(ConfigErrors, PastedKeyLineIsNotEchoed) {
  std::string msg = error_of(with_interface(kBobPrivate + "\n"));
  EXPECT_EQ(msg, "wg0.conf:3: unknown key in [Interface] (name not shown: it may be key material)");
  EXPECT_EQ(msg.find(kBobPrivate.substr(0, 8)), std::string::npos);
  msg = error_of(with_interface(kBobPrivate.substr(0, 43) + "\n"));
  EXPECT_EQ(msg, "wg0.conf:3: line is neither [Section] nor KEY = VALUE (text not shown)");
}

TEST(ConfigErrors, ListenPortOutOfRange) {
  EXPECT_EQ(error_of(with_interface("ListenPort = 65536\n")),
            "wg0.conf:3: ListenPort: '65536' is not a port number 0-65535");
  EXPECT_EQ(error_of(with_interface("ListenPort = -1\n")),
            "wg0.conf:3: ListenPort: '-1' is not a port number 0-65535");
  EXPECT_EQ(error_of(with_interface("ListenPort = http\n")),
            "wg0.conf:3: ListenPort: 'http' is not a port number 0-65535");
  EXPECT_EQ(error_of(with_interface("ListenPort =\n")),
            "wg0.conf:3: ListenPort: the value is not a port number 0-65535");
}

TEST(ConfigErrors, MtuOutOfRange) {
  EXPECT_EQ(error_of(with_interface("MTU = 575\n")),
            "wg0.conf:3: MTU: 575 is below 576, the datagram size every IPv4 host must accept "
            "(RFC 791)");
  EXPECT_EQ(error_of(with_interface("MTU = 65536\n")),
            "wg0.conf:3: MTU: '65536' is not a number 576-65535");
  EXPECT_EQ(error_of(with_interface("MTU = 1420b\n")),
            "wg0.conf:3: MTU: '1420b' is not a number 576-65535");
}

// Address comes after MTU: the check waits for the whole file.
TEST(ConfigErrors, MtuTooSmallForIpv6Address) {
  EXPECT_EQ(error_of(with_interface("MTU = 1279\nAddress = 10.0.0.1/24\nAddress = fd00::1/64\n")),
            "wg0.conf:3: MTU: 1279 is below 1280, the least IPv6 needs (RFC 8200), and Address "
            "has the IPv6 address fd00::1/64");
}

TEST(ConfigErrors, BadFwMark) {
  for (const char* v : {"0x", "0X10", "4294967296", "0x100000000", "-1", "on", "0xg"}) {
    EXPECT_THAT(error_of(with_interface(std::string("FwMark = ") + v + "\n")),
                HasSubstr("wg0.conf:3: FwMark: "))
        << v;
  }
  EXPECT_EQ(error_of(with_interface("FwMark = 4294967296\n")),
            "wg0.conf:3: FwMark: '4294967296' is neither off nor a number 0-0xffffffff");
}

TEST(ConfigErrors, BadAddress) {
  EXPECT_EQ(error_of(with_interface("Address = 10.0.0.300/24\n")),
            "wg0.conf:3: Address: entry '10.0.0.300/24' is not ADDRESS or ADDRESS/LENGTH");
  EXPECT_EQ(error_of(with_interface("Address = 10.0.0.1/33\n")),
            "wg0.conf:3: Address: entry '10.0.0.1/33' is not ADDRESS or ADDRESS/LENGTH");
  EXPECT_EQ(error_of(with_interface("Address = 10.0.0.1/24,,10.0.0.2/24\n")),
            "wg0.conf:3: Address: empty entry in the comma-separated list");
  EXPECT_EQ(error_of(with_interface("Address = host.example\n")),
            "wg0.conf:3: Address: an entry is not ADDRESS or ADDRESS/LENGTH");
}

// --- [Peer] ----------------------------------------------------------------

TEST(ConfigErrors, PeerWithoutPublicKey) {
  EXPECT_EQ(error_of(with_interface(peer(kBobPublic) + "\n[Peer]\nAllowedIPs = 10.0.0.3/32\n")),
            "wg0.conf:6: PublicKey: missing: every [Peer] needs one");
}

TEST(ConfigErrors, BadPublicKeyIsNeverEchoed) {
  std::string bad = kBobPublic.substr(1);
  std::string msg = error_of(with_interface(peer(bad)));
  EXPECT_EQ(msg,
            "wg0.conf:4: PublicKey: not a valid key: expected 44 characters of base64 (as "
            "'wgpunch genkey' prints)");
  EXPECT_EQ(msg.find(bad), std::string::npos);
}

TEST(ConfigErrors, BadPresharedKeyIsNeverEchoed) {
  std::string bad = kPsk.substr(0, 40) + "!!!=";
  std::string msg = error_of(with_interface(peer(kBobPublic, "PresharedKey = " + bad + "\n")));
  EXPECT_EQ(msg,
            "wg0.conf:5: PresharedKey: not a valid key: expected 44 characters of base64 (as "
            "'wgpunch genkey' prints) ('wgpunch genpsk')");
  EXPECT_EQ(msg.find(kPsk.substr(0, 10)), std::string::npos);
}

TEST(ConfigErrors, DuplicatePeerKey) {
  EXPECT_EQ(error_of(with_interface(peer(kBobPublic) + peer(kCarolPublic) + peer(kBobPublic))),
            "wg0.conf:8: PublicKey: same key as the [Peer] whose PublicKey is on line 4");
}

TEST(ConfigErrors, PeerIsOurselves) {
  EXPECT_EQ(error_of(with_interface(peer(kBobPublic) + peer(kAlicePublic))),
            "wg0.conf:6: PublicKey: this is the interface's own public key, not a peer's");
}

TEST(ConfigErrors, LowOrderPublicKey) {
  // u = 1 is a point of small order: X25519 with it is all zero.
  EXPECT_EQ(error_of(with_interface(peer("AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="))),
            "wg0.conf:4: PublicKey: not a usable key (a low-order point); no handshake can "
            "succeed");
}

TEST(ConfigErrors, BadAllowedIps) {
  EXPECT_EQ(error_of(with_interface(peer(kBobPublic, "AllowedIPs = 10.0.0.0/33\n"))),
            "wg0.conf:5: AllowedIPs: entry '10.0.0.0/33' is not ADDRESS or ADDRESS/LENGTH");
  EXPECT_EQ(error_of(with_interface(peer(kBobPublic, "AllowedIPs = fd00::/129\n"))),
            "wg0.conf:5: AllowedIPs: entry 'fd00::/129' is not ADDRESS or ADDRESS/LENGTH");
  EXPECT_EQ(error_of(with_interface(peer(kBobPublic, "AllowedIPs = 10.0.0.1,\n"))),
            "wg0.conf:5: AllowedIPs: empty entry in the comma-separated list");
  // A key pasted into the list is not repeated.
  std::string msg =
      error_of(with_interface(peer(kBobPublic, "AllowedIPs = " + kCarolPublic + "\n")));
  EXPECT_EQ(msg, "wg0.conf:5: AllowedIPs: an entry is not ADDRESS or ADDRESS/LENGTH");
}

TEST(ConfigErrors, BadKeepalive) {
  EXPECT_EQ(error_of(with_interface(peer(kBobPublic, "PersistentKeepalive = 65536\n"))),
            "wg0.conf:5: PersistentKeepalive: '65536' is neither off nor a number 0-65535");
  EXPECT_EQ(error_of(with_interface(peer(kBobPublic, "PersistentKeepalive = on\n"))),
            "wg0.conf:5: PersistentKeepalive: 'on' is neither off nor a number 0-65535");
}

TEST(ConfigErrors, EndpointSyntax) {
  auto endpoint_error = [](const std::string& v) {
    return error_of(with_interface(peer(kBobPublic, "Endpoint = " + v + "\n")));
  };
  EXPECT_EQ(endpoint_error("203.0.113.1"),
            "wg0.conf:5: Endpoint: no ':PORT' (write HOST:PORT or [IPv6]:PORT)");
  EXPECT_EQ(endpoint_error("203.0.113.1:0"), "wg0.conf:5: Endpoint: port is not a number 1-65535");
  EXPECT_EQ(endpoint_error("203.0.113.1:65536"),
            "wg0.conf:5: Endpoint: port is not a number 1-65535");
  EXPECT_EQ(endpoint_error("203.0.113.1:"), "wg0.conf:5: Endpoint: port is not a number 1-65535");
  EXPECT_EQ(endpoint_error("fd00::1:51820"),
            "wg0.conf:5: Endpoint: an IPv6 address must be in brackets: [IPv6]:PORT");
  EXPECT_EQ(endpoint_error("[fd00::1:51820"), "wg0.conf:5: Endpoint: '[' without a matching ']'");
  EXPECT_EQ(endpoint_error("[fd00::1]51820"), "wg0.conf:5: Endpoint: no ':PORT' after the ']'");
  EXPECT_EQ(endpoint_error(":51820"), "wg0.conf:5: Endpoint: no host before the port");
  EXPECT_EQ(endpoint_error(""), "wg0.conf:5: Endpoint: empty endpoint");
}

TEST(ConfigErrors, EndpointNumericButWrong) {
  auto endpoint_error = [](const std::string& v) {
    return error_of(with_interface(peer(kBobPublic, "Endpoint = " + v + "\n")));
  };
  EXPECT_EQ(endpoint_error("[203.0.113.1]:5"),
            "wg0.conf:5: Endpoint: '203.0.113.1' in brackets is not an IPv6 address");
  EXPECT_EQ(endpoint_error("[fd00::g]:5"),
            "wg0.conf:5: Endpoint: 'fd00::g' in brackets is not an IPv6 address");
  EXPECT_EQ(endpoint_error("203.0.113.256:5"),
            "wg0.conf:5: Endpoint: '203.0.113.256' is not an IPv4 address");
}

TEST(ConfigErrors, EndpointNameDoesNotResolve) {
  Resolver failing = [](const std::string&) {
    return ResolveResult{{}, "Name or service not known"};
  };
  EXPECT_EQ(
      error_of(with_interface(peer(kBobPublic, "Endpoint = nowhere.invalid:51820\n")), failing),
      "wg0.conf:5: Endpoint: cannot resolve 'nowhere.invalid': Name or service not known");
}

// Syntax mistakes anywhere in the file are reported before any name lookup.
TEST(ConfigErrors, NoLookupBeforeTheWholeFileIsChecked) {
  int calls = 0;
  Resolver counting = [&](const std::string&) {
    ++calls;
    return ResolveResult{{*IpAddress::parse("192.0.2.1")}, ""};
  };
  EXPECT_EQ(error_of(with_interface(peer(kBobPublic, "Endpoint = a.example:1\n") + "Oops = 1\n"),
                     counting),
            "wg0.conf:6: Oops: unknown key in [Peer]");
  EXPECT_EQ(calls, 0);
}

// --- [Registry] and [Discovery] ------------------------------------------------

TEST(ConfigErrors, RegistryTwice) {
  EXPECT_EQ(error_of(with_interface("[Registry]\nZone = a.example\n[Registry]\n")),
            "wg0.conf:5: [Registry]: appears twice (first on line 3)");
}

TEST(ConfigErrors, RegistryWithoutZone) {
  EXPECT_EQ(error_of(with_interface("[Registry]\nPublic = yes\n")),
            "wg0.conf:3: Zone: missing: [Registry] needs the zone it answers for");
}

TEST(ConfigErrors, RegistryPublicNotABoolean) {
  EXPECT_EQ(error_of(with_interface("[Registry]\nZone = a.example\nPublic = 1\n")),
            "wg0.conf:5: Public: not yes, no, true or false");
}

TEST(ConfigErrors, BadZones) {
  auto zone_error = [](const std::string& v) {
    return error_of(with_interface("[Registry]\nZone = " + v + "\n"));
  };
  EXPECT_EQ(zone_error(std::string(64, 'a') + ".example"),
            "wg0.conf:4: Zone: not a DNS zone name: a label is longer than 63 characters");
  EXPECT_EQ(zone_error("a..example"),
            "wg0.conf:4: Zone: not a DNS zone name: empty label (two dots in a row, or a leading "
            "dot)");
  EXPECT_EQ(zone_error("."),
            "wg0.conf:4: Zone: not a DNS zone name: the root zone cannot hold peers; name a zone "
            "below it");
  EXPECT_EQ(zone_error("bad!name.example"),
            "wg0.conf:4: Zone: not a DNS zone name: labels may hold only letters, digits, '-' and "
            "'_'");
  EXPECT_EQ(zone_error("-a.example"),
            "wg0.conf:4: Zone: not a DNS zone name: a label cannot begin or end with '-'");
  EXPECT_EQ(zone_error(""), "wg0.conf:4: Zone: not a DNS zone name: empty name");
}

// 3 labels of 63 + 1 label of 61: 64*3 + 62 + 1 = 255 bytes, a legal name but
// no room for the records below it.
TEST(ConfigErrors, ZoneTooLongForRecords) {
  std::string l63(63, 'a');
  std::string max_name = l63 + "." + l63 + "." + l63 + "." + std::string(61, 'b');
  EXPECT_EQ(
      error_of(with_interface("[Registry]\nZone = " + max_name + "\n")),
      "wg0.conf:4: Zone: too long: names published below it (<key in base32>._wireguard._udp."
      "ZONE) would pass 255 bytes; a zone may take 182 bytes in wire form, this one takes 255");
  EXPECT_EQ(error_of(with_interface("[Registry]\nZone = " + max_name + "b\n")),
            "wg0.conf:4: Zone: not a DNS zone name: longer than 255 bytes in wire form");
}

TEST(ConfigErrors, DiscoveryRegistryNamesNoPeer) {
  EXPECT_EQ(error_of(with_interface("[Discovery]\nZone = a.example\nRegistry = " + kCarolPublic +
                                    "\n" + peer(kBobPublic))),
            "wg0.conf:5: Registry: names no [Peer] of this file; it must be the PublicKey of the "
            "peer that runs the registry");
}

TEST(ConfigErrors, DiscoveryRegistriesEachNameAPeerOnce) {
  // The second of a comma list names no peer: the line says so.
  EXPECT_EQ(error_of(with_interface("[Discovery]\nZone = a.example\nRegistry = " + kBobPublic +
                                    ", " + kCarolPublic + "\n" + peer(kBobPublic))),
            "wg0.conf:5: Registry: names no [Peer] of this file; it must be the PublicKey of the "
            "peer that runs the registry");
  EXPECT_EQ(error_of(with_interface("[Discovery]\nZone = a.example\nRegistry = " + kBobPublic +
                                    "\nRegistry = " + kBobPublic + "\n" + peer(kBobPublic))),
            "wg0.conf:6: Registry: names the same registry twice");
  EXPECT_EQ(error_of(with_interface("[Discovery]\nZone = a.example\nRegistry = " + kBobPublic +
                                    ",\n" + peer(kBobPublic))),
            "wg0.conf:5: Registry: empty entry in the comma-separated list");
}

TEST(ConfigErrors, DiscoveryWithoutRegistry) {
  EXPECT_EQ(error_of(with_interface("[Discovery]\nZone = a.example\n" + peer(kBobPublic))),
            "wg0.conf:3: Registry: missing: [Discovery] needs the PublicKey of the [Peer] that "
            "runs the registry");
}

TEST(ConfigErrors, DiscoveryWithoutZone) {
  EXPECT_EQ(
      error_of(with_interface("[Discovery]\nRegistry = " + kBobPublic + "\n" + peer(kBobPublic))),
      "wg0.conf:3: Zone: missing: [Discovery] needs the zone to look peers up in");
}

TEST(ConfigErrors, DiscoveryBadRegistryKeyIsNeverEchoed) {
  std::string bad = kBobPrivate.substr(0, 42) + "==";
  std::string msg = error_of(with_interface("[Discovery]\nRegistry = " + bad + "\n"));
  EXPECT_EQ(msg,
            "wg0.conf:4: Registry: not a valid key: expected the 44-character base64 PublicKey of "
            "a registry's [Peer]");
  EXPECT_EQ(msg.find(kBobPrivate.substr(0, 8)), std::string::npos);
}

TEST(ConfigErrors, DiscoveryInterval) {
  std::string base = with_interface("[Discovery]\nZone = a.example\nInterval = ");
  EXPECT_EQ(error_of(base + "0\n"),
            "wg0.conf:5: Interval: not a whole number of seconds, 1 or more");
  EXPECT_EQ(error_of(base + "1.5\n"),
            "wg0.conf:5: Interval: not a whole number of seconds, 1 or more");
  EXPECT_EQ(error_of(base + "4294967296\n"),
            "wg0.conf:5: Interval: not a whole number of seconds, 1 or more");
}

TEST(ConfigErrors, DiscoveryTwice) {
  EXPECT_EQ(error_of(with_interface("[Discovery]\n[discovery]\n")),
            "wg0.conf:4: [Discovery]: appears twice (first on line 3)");
}

TEST(ConfigErrors, ErrorCarriesItsParts) {
  try {
    parse_config(with_interface("Foo = 1\n"), "/etc/wgpunch/x.conf", no_resolver);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.file(), "/etc/wgpunch/x.conf");
    EXPECT_EQ(e.line(), 3);
    EXPECT_EQ(e.key(), "Foo");
    EXPECT_EQ(e.problem(), "unknown key in [Interface]");
    EXPECT_STREQ(e.what(), "/etc/wgpunch/x.conf:3: Foo: unknown key in [Interface]");
  }
}

}  // namespace
}  // namespace wgp
