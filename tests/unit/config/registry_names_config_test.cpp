// The registry's keys of DESIGN.md §11: [Peer] Name, [Registry] Self and
// SelfEndpoint. The forms that parse, and one exact message per mistake,
// naming file, line and key.
#include <gtest/gtest.h>

#include "config/config.h"
#include "config_test_util.h"

namespace wgp {
namespace {

using namespace wgp::testing;

// Lines: 3 ListenPort, 4 [Registry], 5 Zone, then `registry_keys`, then
// a [Peer] for Bob with `bob_keys`.
std::string registry(const std::string& registry_keys, const std::string& bob_keys = "") {
  return with_interface("ListenPort = 51820\n[Registry]\nZone = example.net\n" + registry_keys +
                        "[Peer]\nPublicKey = " + kBobPublic + "\nAllowedIPs = 10.0.0.2/32\n" +
                        bob_keys);
}

TEST(RegistryNamesConfig, Defaults) {
  Config r = parse(registry(""));
  EXPECT_FALSE(r.registry->self);
  EXPECT_FALSE(r.registry->self_endpoint);
  EXPECT_EQ(r.peers[0].name, "");
}

TEST(RegistryNamesConfig, NameIsOneLabelLowerCase) {
  Config c = parse(registry("", "Name = Alice-2\n"));
  EXPECT_EQ(c.peers[0].name, "alice-2");
  EXPECT_TRUE(c.warnings.empty());
  EXPECT_EQ(parse(registry("", "Name = 7\n")).peers[0].name, "7");
  EXPECT_EQ(parse(registry("", "Name = " + std::string(63, 'a') + "\n")).peers[0].name,
            std::string(63, 'a'));
}

TEST(RegistryNamesConfig, NameMistakes) {
  const std::string form =
      " (a Name is one DNS label: 1-63 letters, digits and '-', not at either end; e.g. alice)";
  auto err = [](const std::string& value) {
    return error_of(registry("", "Name = " + value + "\n"));
  };
  EXPECT_EQ(err("alice.example"), "wg0.conf:9: Name: not one label: no '.' in a Name" + form);
  EXPECT_EQ(err("-alice"), "wg0.conf:9: Name: not a host name" + form);
  EXPECT_EQ(err("alice-"), "wg0.conf:9: Name: not a host name" + form);
  EXPECT_EQ(err("_udp"), "wg0.conf:9: Name: not a host name" + form);
  EXPECT_EQ(err(std::string(64, 'a')), "wg0.conf:9: Name: not a host name" + form);
  EXPECT_EQ(err(""), "wg0.conf:9: Name: not a host name" + form);
  // A key pasted by mistake is never repeated.
  std::string e = err(kDavePublic);
  EXPECT_EQ(e.find(kDavePublic.substr(0, 10)), std::string::npos) << e;
  EXPECT_EQ(error_of(registry("", "Name = a\nName = b\n")),
            "wg0.conf:10: Name: given twice in this section (first on line 9)");
}

TEST(RegistryNamesConfig, NamesAreUnique) {
  std::string text = registry("", "Name = alice\n[Peer]\nPublicKey = " + kCarolPublic +
                                      "\nAllowedIPs = 10.0.0.3/32\nName = ALICE\n");
  EXPECT_EQ(error_of(text),
            "wg0.conf:13: Name: 'alice' is already the Name of the [Peer] on line 9; names are "
            "unique (case does not count)");
}

TEST(RegistryNamesConfig, NameWarnings) {
  Config c = parse(with_interface("[Peer]\nPublicKey = " + kBobPublic +
                                  "\nAllowedIPs = 10.0.0.2/32\nName = bob\n"));
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_EQ(c.warnings[0],
            "wg0.conf:6: Name: only a [Registry] publishes names; this node has none");
  Config d =
      parse(with_interface("[Registry]\nZone = example.net\n[Peer]\nPublicKey = " + kBobPublic +
                           "\nAllowedIPs = 10.0.1.0/24\nName = bob\n"));
  ASSERT_EQ(d.warnings.size(), 1u);
  EXPECT_EQ(d.warnings[0],
            "wg0.conf:8: Name: bob.example.net. gets no address: AllowedIPs holds no single "
            "address (/32 or /128)");
}

TEST(RegistryNamesConfig, SelfAndSelfEndpoint) {
  Config c = parse(registry("Self = yes\nSelfEndpoint = 203.0.113.1:51820\n"));
  EXPECT_TRUE(c.registry->self);
  ASSERT_TRUE(c.registry->self_endpoint);
  EXPECT_EQ(c.registry->self_endpoint->to_string(), "203.0.113.1:51820");
  Config v6 = parse(registry("Self = yes\nSelfEndpoint = [2001:db8::1]:5353\n"));
  EXPECT_EQ(v6.registry->self_endpoint->to_string(), "[2001:db8::1]:5353");
  EXPECT_TRUE(parse(registry("Self = TRUE\n")).registry->self);
}

TEST(RegistryNamesConfig, SelfMistakes) {
  EXPECT_EQ(error_of(registry("Self = maybe\n")), "wg0.conf:6: Self: not yes, no, true or false");
  EXPECT_EQ(error_of(registry("SelfEndpoint = 203.0.113.1:51820\n")),
            "wg0.conf:6: SelfEndpoint: given without Self = yes, so nothing would publish it; "
            "add Self = yes");
  std::string e = error_of(registry("Self = yes\nSelfEndpoint = registry.example:51820\n"));
  EXPECT_EQ(e.rfind("wg0.conf:7: SelfEndpoint: ", 0), 0u) << e;
  EXPECT_NE(e.find("(the registry's public address and port, as peers reach it)"),
            std::string::npos)
      << e;
  EXPECT_EQ(
      error_of(with_interface("Self = yes\n")).rfind("wg0.conf:3: Self: belongs in [Registry]", 0),
      0u);
}

TEST(RegistryNamesConfig, AllowedIpsBeyondOneTxtStringWarn) {
  // "allowed=" and 19 "10.0.N.0/24" fit the TXT's 255-byte string, a 20th not.
  std::string list;
  for (int i = 0; i < 20; ++i) list += (i ? ", 10.1." : "10.1.") + std::to_string(i) + ".0/24";
  Config c = parse(registry("", "AllowedIPs = " + list + "\n"));
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_EQ(c.warnings[0],
            "wg0.conf:6: AllowedIPs: the registry's TXT record for this peer lists only the first "
            "19 of 21 (one DNS string holds 255 bytes)");
  EXPECT_TRUE(parse(registry("", "AllowedIPs = 10.1.0.0/24\n")).warnings.empty());
}

TEST(RegistryNamesConfig, HostPrefix) {
  auto p = [](const char* t) { return *IpPrefix::parse(t); };
  EXPECT_TRUE(p("10.0.0.5/32").is_host());
  EXPECT_FALSE(p("10.0.0.4/31").is_host());
  EXPECT_TRUE(p("fd00::1/128").is_host());
  EXPECT_FALSE(p("fd00::/127").is_host());
}

}  // namespace
}  // namespace wgp
