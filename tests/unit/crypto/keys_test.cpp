// Text forms of keys: wg's 44-character base64 (strict) and UAPI hex.
#include "crypto/keys.h"

#include <gtest/gtest.h>

#include "crypto/x25519.h"
#include "unit/crypto/test_hex.h"

namespace wgp {
namespace {

using testing::hex_array;
using testing::hex_of;

TEST(Base64, WiresharkKeyPairDerivesItsPublicKey) {
  // Wireshark test/suite_decryption.py (PROTOCOL.md §6.4): private and public key.
  auto priv = secret_key_from_base64("AKeZaHwBxjiKLFnkY2unvEdOTtg4AL+M9dQXfopFVFk=");
  ASSERT_TRUE(priv);
  auto pub = public_key_from_base64("Igge9KzRytKNwrgkzDE/8hrLu6Ly0OqVdvOPWhA5KR4=");
  ASSERT_TRUE(pub);
  EXPECT_EQ(derive_public_key(*priv), *pub);
  EXPECT_EQ(key_to_base64(*pub), "Igge9KzRytKNwrgkzDE/8hrLu6Ly0OqVdvOPWhA5KR4=");
}

TEST(Base64, KnownEncoding) {
  auto alice_pub =
      hex_array<32>("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
  std::string b64 = key_to_base64(alice_pub);
  EXPECT_EQ(b64, "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=");
  EXPECT_EQ(b64.size(), 44u);
  auto all_ff = hex_array<32>(std::string(64, 'f'));
  EXPECT_EQ(key_to_base64(all_ff), "//////////////////////////////////////////8=");
}

TEST(Base64, RoundTripOfManyKeys) {
  SystemRandom rng;
  for (int i = 0; i < 64; ++i) {
    PublicKey k;
    rng.fill(k);
    auto text = key_to_base64(k);
    auto back = public_key_from_base64(text);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, k);
    auto secret = secret_key_from_base64(text);
    ASSERT_TRUE(secret);
    EXPECT_EQ(hex_of(secret->span()), hex_of(k));
  }
}

TEST(Base64, RejectsEverythingButTheExactForm) {
  const std::string good = "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=";
  ASSERT_TRUE(public_key_from_base64(good));
  EXPECT_FALSE(public_key_from_base64(""));
  EXPECT_FALSE(public_key_from_base64(good.substr(0, 43))) << "missing padding";
  EXPECT_FALSE(public_key_from_base64(good + "=")) << "45 characters";
  EXPECT_FALSE(public_key_from_base64(good + "AAAA")) << "48 characters, 35 bytes";
  EXPECT_FALSE(public_key_from_base64(good.substr(0, 40) + "AA==")) << "31 bytes in 44 chars";
  std::string bad_char = good;
  bad_char[10] = '*';
  EXPECT_FALSE(public_key_from_base64(bad_char));
  std::string url_safe = good;
  url_safe[19] = '_';  // '/' in the URL-safe alphabet
  EXPECT_FALSE(public_key_from_base64(url_safe));
  std::string space = good;
  space[5] = ' ';
  EXPECT_FALSE(public_key_from_base64(space));
  // 43 characters carry 258 bits: the last two must be zero ('o' = 40 ok, 'p' = 41 not).
  std::string trailing_bits = good;
  trailing_bits[42] = 'p';
  EXPECT_FALSE(public_key_from_base64(trailing_bits));
  EXPECT_FALSE(secret_key_from_base64(trailing_bits));
}

TEST(Hex, SecretKeys) {
  const std::string h = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
  auto k = secret_key_from_hex(h);
  ASSERT_TRUE(k);
  EXPECT_EQ(hex_of(k->span()), h);
  std::string upper = h;
  for (auto& c : upper) c = char(toupper(c));
  auto ku = secret_key_from_hex(upper);
  ASSERT_TRUE(ku);
  EXPECT_TRUE(*ku == *k);
  EXPECT_FALSE(secret_key_from_hex(h.substr(0, 63)));
  EXPECT_FALSE(secret_key_from_hex(h + "0"));
  EXPECT_FALSE(secret_key_from_hex(h + "00"));
  std::string bad = h;
  bad[7] = 'g';
  EXPECT_FALSE(secret_key_from_hex(bad));
}

}  // namespace
}  // namespace wgp
