// Random damage to a good config: the parser must either accept the result or
// throw ConfigError (never anything else), and no message or warning may
// contain any 12-character piece of the private or preshared key.
#include <gtest/gtest.h>

#include <random>

#include "config/config.h"
#include "config_test_util.h"

namespace wgp {
namespace {

using namespace wgp::testing;

bool leaks(const std::string& message) {
  for (const std::string* secret : {&kAlicePrivate, &kPsk})
    for (size_t i = 0; i + 12 <= secret->size(); ++i)
      if (message.find(secret->substr(i, 12)) != std::string::npos) return true;
  return false;
}

TEST(ConfigMutation, DamagedConfigsFailCleanlyWithoutLeakingKeys) {
  const std::string good = "[Interface]\nPrivateKey = " + kAlicePrivate +
                           "\nListenPort = 51820\nAddress = 10.0.0.1/24\n[Registry]\nZone = "
                           "example.net\n[Peer]\nPublicKey = " +
                           kBobPublic + "\nPresharedKey = " + kPsk +
                           "\nAllowedIPs = 10.0.0.2/32\nEndpoint = 192.0.2.1:51820\n";
  const std::string alphabet = "=[]#,:/. \n\tazAZ09+-";
  std::mt19937 rng(7);  // fixed seed: the same 5000 cases every run
  Resolver fake = [](const std::string&) {
    return ResolveResult{{*IpAddress::parse("192.0.2.9")}, ""};
  };
  int accepted = 0, refused = 0;
  for (int round = 0; round < 5000; ++round) {
    std::string text = good;
    int edits = 1 + int(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      size_t at = rng() % text.size();
      switch (rng() % 4) {
        case 0:
          text[at] = alphabet[rng() % alphabet.size()];
          break;  // replace
        case 1:
          text.erase(at, 1 + rng() % 8);
          break;  // delete
        case 2:
          text.insert(at, 1, alphabet[rng() % alphabet.size()]);
          break;  // insert
        case 3:
          text.insert(at, text.substr(rng() % text.size(), 1 + rng() % 50));
          break;  // dup
      }
      if (text.empty()) text = "x";
    }
    try {
      Config c = parse_config(text, "m.conf", fake);
      ++accepted;
      for (const std::string& w : c.warnings) EXPECT_FALSE(leaks(w)) << w;
    } catch (const ConfigError& e) {
      ++refused;
      EXPECT_FALSE(leaks(e.what())) << e.what();
    }
  }
  // Both outcomes must occur, or the mutations are not exercising the parser.
  EXPECT_GT(accepted, 0);
  EXPECT_GT(refused, 0);
}

}  // namespace
}  // namespace wgp
