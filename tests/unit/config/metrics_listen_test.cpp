// [Interface] MetricsListen: accepted forms, the one-line errors naming file,
// line and key, and the warning for an address beyond loopback.
#include <gtest/gtest.h>

#include "config/config.h"
#include "config/config_values.h"
#include "config_test_util.h"

namespace wgp {
namespace {

using namespace wgp::testing;

TEST(MetricsListen, OffByDefault) { EXPECT_FALSE(parse(with_interface("")).metrics_listen); }

TEST(MetricsListen, LoopbackV4AndV6WithoutWarning) {
  Config c = parse(with_interface("MetricsListen = 127.0.0.1:9586\n"));
  ASSERT_TRUE(c.metrics_listen);
  EXPECT_EQ(c.metrics_listen->to_string(), "127.0.0.1:9586");
  EXPECT_TRUE(c.warnings.empty());
  c = parse(with_interface("metricslisten = [::1]:9586\n"));
  EXPECT_EQ(c.metrics_listen->to_string(), "[::1]:9586");
  EXPECT_TRUE(c.warnings.empty());
}

TEST(MetricsListen, OtherAddressesWorkWithAWarning) {
  Config c = parse(with_interface("MetricsListen = 10.0.0.1:9586\n"));
  EXPECT_EQ(c.metrics_listen->to_string(), "10.0.0.1:9586");
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_EQ(c.warnings[0].rfind("wg0.conf:3: MetricsListen: 10.0.0.1:9586 is not a loopback", 0),
            0u)
      << c.warnings[0];
}

// The error for a value that is not IP:PORT, showing it as `shown`.
std::string not_ip_port(const std::string& shown) {
  return "wg0.conf:3: MetricsListen: " + shown +
         " is not IP:PORT (e.g. 127.0.0.1:9586, or [::1]:9586 for IPv6; names are not resolved)";
}

TEST(MetricsListen, MistakesNameFileLineAndKey) {
  const std::pair<const char*, const char*> not_addresses[] = {
      {"127.0.0.1", "'127.0.0.1'"},
      {"localhost:9586", "the value"},  // not address characters: not repeated
      {"::1:9586", "'::1:9586'"},       // IPv6 needs brackets
      {"127.0.0.1:70000", "'127.0.0.1:70000'"},
  };
  for (const auto& [value, shown] : not_addresses)
    EXPECT_EQ(error_of(with_interface("MetricsListen = " + std::string(value) + "\n")),
              not_ip_port(shown));
  EXPECT_EQ(error_of(with_interface("MetricsListen = 127.0.0.1:0\n")),
            "wg0.conf:3: MetricsListen: port 0: give the port Prometheus will scrape (1-65535, "
            "e.g. 9586)");
  EXPECT_EQ(error_of(with_interface("MetricsListen = 127.0.0.1:1\nMetricsListen = 127.0.0.1:2\n")),
            "wg0.conf:4: MetricsListen: given twice in this section (first on line 3)");
  EXPECT_EQ(error_of(with_interface("[Peer]\nPublicKey = " + kBobPublic +
                                    "\nMetricsListen = 127.0.0.1:9586\n")),
            "wg0.conf:5: MetricsListen: belongs in [Interface], not in [Peer]");
}

TEST(MetricsListen, KeyMaterialIsNeverRepeated) {
  std::string e = error_of(with_interface("MetricsListen = " + kBobPrivate + "\n"));
  EXPECT_EQ(e.find(kBobPrivate), std::string::npos) << e;
  EXPECT_NE(e.find("the value is not IP:PORT"), std::string::npos) << e;
}

TEST(MetricsListen, Loopback) {
  using config::is_loopback;
  EXPECT_TRUE(is_loopback(*IpAddress::parse("127.0.0.1")));
  EXPECT_TRUE(is_loopback(*IpAddress::parse("127.255.0.9")));
  EXPECT_TRUE(is_loopback(*IpAddress::parse("::1")));
  EXPECT_TRUE(is_loopback(*IpAddress::parse("::ffff:127.0.0.1")));
  EXPECT_FALSE(is_loopback(*IpAddress::parse("128.0.0.1")));
  EXPECT_FALSE(is_loopback(*IpAddress::parse("::")));
  EXPECT_FALSE(is_loopback(*IpAddress::parse("::2")));
  EXPECT_FALSE(is_loopback(*IpAddress::parse("fe80::1")));
}

}  // namespace
}  // namespace wgp
