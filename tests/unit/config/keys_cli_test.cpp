// genkey / pubkey / genpsk on string streams.
#include "config/keys_cli.h"

#include <gtest/gtest.h>

#include <sstream>

#include "config_test_util.h"
#include "crypto/keys.h"

namespace wgp {
namespace {

using namespace wgp::testing;

// Deterministic randomness: byte i of every fill is first + i.
class CountingRandom final : public Random {
 public:
  explicit CountingRandom(uint8_t first) : first_(first) {}
  void fill(std::span<uint8_t> out) override {
    for (size_t i = 0; i < out.size(); ++i) out[i] = uint8_t(first_ + i);
  }

 private:
  uint8_t first_;
};

class ConstantRandom final : public Random {
 public:
  explicit ConstantRandom(uint8_t b) : b_(b) {}
  void fill(std::span<uint8_t> out) override {
    for (auto& x : out) x = b_;
  }

 private:
  uint8_t b_;
};

std::string run_pubkey(const std::string& input) {
  std::istringstream in(input);
  std::ostringstream out;
  pubkey(in, out);
  return out.str();
}

std::string pubkey_error(const std::string& input) {
  try {
    run_pubkey(input);
  } catch (const KeyCliError& e) {
    return e.what();
  }
  return "(no error)";
}

// RFC 7748 §6.1: Alice's and Bob's public keys from their private keys.
TEST(KeysCli, PubkeyOfRfc7748Keys) {
  EXPECT_EQ(run_pubkey(kAlicePrivate + "\n"), kAlicePublic + "\n");
  EXPECT_EQ(run_pubkey(kBobPrivate), kBobPublic + "\n");
  EXPECT_EQ(
      *public_key_from_base64(kAlicePublic),
      *from_hex_exact<32>("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"));
}

TEST(KeysCli, PubkeyAcceptsSurroundingWhitespace) {
  EXPECT_EQ(run_pubkey("  \t" + kAlicePrivate + " \r\n\n"), kAlicePublic + "\n");
}

TEST(KeysCli, PubkeyRejectsBadInputWithoutEchoingIt) {
  const std::string bad[] = {
      kAlicePrivate.substr(0, 43),
      kAlicePrivate + "x",
      kAlicePrivate + " " + kBobPrivate,               // two keys
      "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCp=",  // non-zero trailing bits
      kAlicePrivate.substr(0, 20) + "-" + kAlicePrivate.substr(21),
  };
  for (const std::string& input : bad) {
    std::string msg = pubkey_error(input);
    EXPECT_EQ(msg,
              "not a private key: expected 44 characters of base64 (as 'wgpunch genkey' prints)");
    EXPECT_EQ(msg.find(input.substr(0, 8)), std::string::npos);
  }
  EXPECT_EQ(pubkey_error(""), "no private key on standard input");
  EXPECT_EQ(pubkey_error(" \n\n"), "no private key on standard input");
  EXPECT_EQ(pubkey_error(std::string(5000, 'A')),
            "input is too long: expected one base64 private key");
}

TEST(KeysCli, GenkeyIsClampedRandomness) {
  ConstantRandom ones(0xff);
  std::ostringstream out;
  genkey(out, ones);
  // f8 ff..ff 7f: bits 0-2 and 255 cleared, bit 254 set.
  EXPECT_EQ(out.str(), "+P///////////////////////////////////////38=\n");

  ConstantRandom zeros(0x00);
  std::ostringstream out0;
  genkey(out0, zeros);
  auto key = secret_key_from_base64(out0.str().substr(0, 44));
  ASSERT_TRUE(key);
  EXPECT_EQ(key->data()[31], 0x40);
  EXPECT_EQ(key->data()[0], 0x00);
}

TEST(KeysCli, GenkeyThenPubkeyRoundTrip) {
  std::ostringstream priv1, priv2;
  genkey(priv1);
  genkey(priv2);
  ASSERT_EQ(priv1.str().size(), 45u);
  EXPECT_EQ(priv1.str().back(), '\n');
  EXPECT_NE(priv1.str(), priv2.str());
  auto key = secret_key_from_base64(priv1.str().substr(0, 44));
  ASSERT_TRUE(key);
  EXPECT_EQ(key->data()[0] & 7, 0);
  EXPECT_EQ(key->data()[31] & 0xc0, 0x40);
  std::string pub = run_pubkey(priv1.str());
  ASSERT_EQ(pub.size(), 45u);
  EXPECT_TRUE(public_key_from_base64(pub.substr(0, 44)));
  EXPECT_NE(pub, priv1.str());
  // The same private key, given twice, names the same public key.
  EXPECT_EQ(run_pubkey(priv1.str()), pub);
}

TEST(KeysCli, GenpskIsUnclampedRandomness) {
  CountingRandom counting(0);
  std::ostringstream out;
  genpsk(out, counting);
  EXPECT_EQ(out.str(), "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n");  // bytes 00..1f

  ConstantRandom ones(0xff);
  std::ostringstream out1;
  genpsk(out1, ones);
  EXPECT_EQ(out1.str(), "//////////////////////////////////////////8=\n");
}

TEST(KeysCli, GenpskSystemRandomDiffers) {
  std::ostringstream a, b;
  genpsk(a);
  genpsk(b);
  ASSERT_EQ(a.str().size(), 45u);
  EXPECT_TRUE(secret_key_from_base64(a.str().substr(0, 44)));
  EXPECT_NE(a.str(), b.str());
}

TEST(KeysCli, FailedWriteIsAnError) {
  std::ostringstream out;
  out.setstate(std::ios::badbit);
  ConstantRandom r(1);
  EXPECT_THROW(genkey(out, r), KeyCliError);
  EXPECT_THROW(genpsk(out, r), KeyCliError);
  std::istringstream in(kAlicePrivate);
  EXPECT_THROW(pubkey(in, out), KeyCliError);
}

}  // namespace
}  // namespace wgp
