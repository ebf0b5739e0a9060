// [Registry] NameServer, Secondary and TransferKey (DESIGN.md §10): the forms
// that parse, and one exact message per mistake; the TSIG secret never
// appears in one.
#include <gtest/gtest.h>

#include "config/config.h"
#include "config_test_util.h"

namespace wgp {
namespace {

using namespace wgp::testing;

// A TSIG secret as `tsig-keygen` makes one: 32 bytes in base64.
const std::string kSecret = "8UJ8mLQb2ZfEvSBdWb8XsBx4ENYxnPcQAEmZ4sPcS30=";

std::string registry(const std::string& keys, const std::string& port = "ListenPort = 51820\n") {
  return with_interface(port + "[Registry]\nZone = example.net\n" + keys);
}

TEST(RegistryTransferConfig, Defaults) {
  Config c = parse(registry(""));
  EXPECT_TRUE(c.registry->name_servers.empty());
  EXPECT_TRUE(c.registry->secondaries.empty());
  EXPECT_FALSE(c.registry->transfer_key);
}

TEST(RegistryTransferConfig, SecondaryForms) {
  Config c =
      parse(registry("Secondary = 203.0.113.9, 203.0.113.10:5353\n"
                     "Secondary = [2001:db8::9]:53\nSecondary = 2001:db8::a\n"));
  ASSERT_EQ(c.registry->secondaries.size(), 4u);
  EXPECT_EQ(c.registry->secondaries[0].to_string(), "203.0.113.9:53");  // DNS's port by default
  EXPECT_EQ(c.registry->secondaries[1].to_string(), "203.0.113.10:5353");
  EXPECT_EQ(c.registry->secondaries[2].to_string(), "[2001:db8::9]:53");
  EXPECT_EQ(c.registry->secondaries[3].to_string(), "[2001:db8::a]:53");
  EXPECT_TRUE(c.warnings.empty());
}

TEST(RegistryTransferConfig, NameServersNormalised) {
  Config c = parse(registry("NameServer = NS1.Example.ORG, ns2.example.org.\nNameServer = x\n"));
  EXPECT_EQ(c.registry->name_servers,
            (std::vector<std::string>{"ns1.example.org.", "ns2.example.org.", "x."}));
}

TEST(RegistryTransferConfig, TransferKeyParsed) {
  Config c = parse(registry(
      "Secondary = 203.0.113.9\nTransferKey = HMAC-SHA256:Xfr.Example.:" + kSecret + "\n"));
  ASSERT_TRUE(c.registry->transfer_key);
  EXPECT_EQ(c.registry->transfer_key->name, "xfr.example.");
  auto raw = from_hex("f1427c98b41bd997c4bd205d59bf17b01c7810d6319cf710004999e2c3dc4b7d");
  ASSERT_TRUE(raw);
  EXPECT_TRUE(c.registry->transfer_key->secret == *HmacKey::from_bytes(*raw));
  // Copies of the config share the one secret.
  RegistryConfig copy = *c.registry;
  EXPECT_EQ(copy.transfer_key.get(), c.registry->transfer_key.get());
}

TEST(RegistryTransferConfig, TransferKeyWithoutSecondaryWarns) {
  Config c = parse(registry("TransferKey = hmac-sha256:xfr:" + kSecret + "\n"));
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_EQ(c.warnings[0],
            "wg0.conf:6: TransferKey: no Secondary is listed, so the key signs nothing");
}

TEST(RegistryTransferConfig, SecondaryNeedsAFixedListenPort) {
  const char* expected =
      "wg0.conf:5: Secondary: needs a fixed [Interface] ListenPort: secondaries reach the "
      "registry there (UDP for queries, TCP with the same number for zone transfers)";
  EXPECT_EQ(error_of(registry("Secondary = 203.0.113.9\n", "")), expected);
  EXPECT_EQ(error_of(with_interface("ListenPort = 0\n[Registry]\nZone = example.net\n"
                                    "Secondary = 203.0.113.9\n")),
            "wg0.conf:6: Secondary: needs a fixed [Interface] ListenPort: secondaries reach the "
            "registry there (UDP for queries, TCP with the same number for zone transfers)");
}

TEST(RegistryTransferConfig, SecondaryMistakes) {
  auto err = [](const std::string& value) {
    return error_of(registry("Secondary = " + value + "\n"));
  };
  EXPECT_EQ(err("203.0.113.9, 203.0.113.9:53"),
            "wg0.conf:6: Secondary: names 203.0.113.9:53 twice");
  EXPECT_EQ(err("203.0.113.9,"), "wg0.conf:6: Secondary: empty entry in the comma-separated list");
  for (const char* bad :
       {"ns1.example.org", "203.0.113.9:0", "203.0.113.9:99999", "[2001:db8::9]"}) {
    std::string e = err(bad);
    EXPECT_EQ(e.rfind("wg0.conf:6: Secondary: ", 0), 0u) << e;
    EXPECT_NE(e.find("(a secondary is IP or IP:PORT, [IPv6]:PORT; port 53 if none)"),
              std::string::npos)
        << e;
  }
}

TEST(RegistryTransferConfig, NameServerMistakes) {
  EXPECT_EQ(error_of(registry("NameServer = ns1.example.org, NS1.example.org.\n")),
            "wg0.conf:6: NameServer: names ns1.example.org. twice");
  std::string e = error_of(registry("NameServer = bad..name\n"));
  EXPECT_EQ(e.rfind("wg0.conf:6: NameServer: not a DNS name: ", 0), 0u) << e;
}

TEST(RegistryTransferConfig, TransferKeyMistakesNeverEchoTheSecret) {
  const std::string form =
      "expected hmac-sha256:NAME:SECRET (the key's name, then its secret in base64, as "
      "`tsig-keygen` or `keymgr -t` print them)";
  struct Case {
    std::string value;
    std::string message;
  } cases[] = {
      {kSecret, form},
      {"xfr:" + kSecret, form},
      {"hmac-sha1:xfr:" + kSecret,
       "the algorithm (first field) must be hmac-sha256, the only one wgpunch signs with; " + form},
      {kSecret + ":xfr:" + kSecret,
       "the algorithm (first field) must be hmac-sha256, the only one wgpunch signs with; " + form},
      {"hmac-sha256:" + kSecret + "..:" + kSecret, ""},  // a name error, checked below
      {"hmac-sha256:xfr:" + kSecret.substr(0, 43),
       "the secret (third field) is not base64 of at most 256 bytes; " + form},
      {"hmac-sha256:xfr:", "the secret (third field) is not base64 of at most 256 bytes; " + form},
      {"hmac-sha256:xfr:" + std::string(400, 'A'),
       "the secret (third field) is not base64 of at most 256 bytes; " + form},
  };
  for (const Case& c : cases) {
    std::string e = error_of(registry("Secondary = 203.0.113.9\nTransferKey = " + c.value + "\n"));
    EXPECT_EQ(e.rfind("wg0.conf:7: TransferKey: ", 0), 0u) << e;
    if (!c.message.empty()) {
      EXPECT_EQ(e, "wg0.conf:7: TransferKey: " + c.message);
    }
    EXPECT_EQ(e.find(kSecret.substr(0, 12)), std::string::npos) << "secret echoed: " << e;
  }
  std::string e =
      error_of(registry("Secondary = 203.0.113.9\nTransferKey = hmac-sha256:xfr:" + kSecret +
                        "\nTransferKey = hmac-sha256:xfr:" + kSecret + "\n"));
  EXPECT_EQ(e, "wg0.conf:8: TransferKey: given twice in this section (first on line 7)");
}

}  // namespace
}  // namespace wgp
