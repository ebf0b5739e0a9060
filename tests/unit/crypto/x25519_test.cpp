// X25519 known answers (RFC 7748 §5.2, §6.1) and the low-order rejection
// WireGuard depends on.
#include "crypto/x25519.h"

#include <gtest/gtest.h>

#include "unit/crypto/test_hex.h"

namespace wgp {
namespace {

using testing::hex_array;
using testing::hex_of;
using testing::hex_secret;

std::string x25519_hex(std::string_view scalar, std::string_view u) {
  Secret<32> shared;
  EXPECT_TRUE(x25519(shared, hex_secret<32>(scalar), hex_array<32>(u)));
  return hex_of(shared.span());
}

TEST(X25519, Rfc7748Section52Vector1) {
  EXPECT_EQ(x25519_hex("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
                       "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c"),
            "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552");
}

TEST(X25519, Rfc7748Section52Vector2MasksTopBitOfU) {
  // u's most significant bit is set here; RFC 7748 requires it to be ignored.
  EXPECT_EQ(x25519_hex("4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
                       "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493"),
            "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957");
}

// k = u = 9; repeat k' = X25519(k, u), u = old k.
std::string iterate(int n) {
  std::array<uint8_t, 32> k{}, u{};
  k[0] = u[0] = 9;
  for (int i = 0; i < n; ++i) {
    Secret<32> out;
    EXPECT_TRUE(x25519(out, Secret<32>(std::span<const uint8_t, 32>(k)), u));
    u = k;
    std::copy(out.span().begin(), out.span().end(), k.begin());
  }
  return hex_of(k);
}

TEST(X25519, Rfc7748IteratedOnce) {
  EXPECT_EQ(iterate(1), "422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079");
}

TEST(X25519, Rfc7748Iterated1000) {
  EXPECT_EQ(iterate(1000), "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51");
}

// ~40 s of CPU in a debug build (passes); run with --gtest_also_run_disabled_tests.
TEST(X25519, DISABLED_Rfc7748Iterated1000000) {
  EXPECT_EQ(iterate(1000000), "7c3911e0ab2586fd864497297e575e6f3bc601c0883c30df5f4dd2d24f665424");
}

TEST(X25519, Rfc7748Section61DiffieHellman) {
  auto alice = hex_secret<32>("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
  auto bob = hex_secret<32>("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
  PublicKey alice_pub = derive_public_key(alice);
  PublicKey bob_pub = derive_public_key(bob);
  EXPECT_EQ(hex_of(alice_pub), "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
  EXPECT_EQ(hex_of(bob_pub), "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
  Secret<32> s1, s2;
  ASSERT_TRUE(x25519(s1, alice, bob_pub));
  ASSERT_TRUE(x25519(s2, bob, alice_pub));
  EXPECT_EQ(hex_of(s1.span()), "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
  EXPECT_TRUE(s1 == s2);
}

TEST(X25519, ClampedAndUnclampedKeysAgree) {
  // The §6.3 transcript uses Alice's key unclamped; its clamped form is 70076d0a…2c6a.
  auto raw = hex_secret<32>("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
  auto clamped = raw.clone();
  clamp_private_key(clamped);
  EXPECT_EQ(hex_of(clamped.span()),
            "70076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c6a");
  EXPECT_EQ(derive_public_key(raw), derive_public_key(clamped));
}

// Points of order 1, 2, 4 or 8 give an all-zero shared secret for every
// clamped scalar: x25519 must refuse them and leave no output behind.
class X25519LowOrder : public ::testing::TestWithParam<const char*> {};

TEST_P(X25519LowOrder, AllZeroResultIsRejected) {
  auto priv = hex_secret<32>("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
  Secret<32> shared;
  shared.span()[0] = 0xaa;
  EXPECT_FALSE(x25519(shared, priv, hex_array<32>(GetParam())));
  EXPECT_TRUE(shared.is_zero());
}

INSTANTIATE_TEST_SUITE_P(
    Points, X25519LowOrder,
    ::testing::Values(
        "0000000000000000000000000000000000000000000000000000000000000000",    // u = 0
        "0100000000000000000000000000000000000000000000000000000000000000",    // u = 1
        "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",    // order 8
        "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",    // order 8
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",    // p - 1
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"));  // p ≡ 0

class CountingRandom final : public Random {
 public:
  void fill(std::span<uint8_t> out) override {
    for (auto& b : out) b = next_++;
  }

 private:
  uint8_t next_ = 0xf0;
};

TEST(X25519, GeneratedKeysAreClamped) {
  CountingRandom rng;
  PrivateKey k = generate_private_key(rng);
  EXPECT_EQ(k.span()[0], 0xf0 & 248);
  EXPECT_EQ(k.span()[31], (uint8_t((0xf0 + 31) & 0xff) & 127) | 64);
  SystemRandom sys;
  for (int i = 0; i < 16; ++i) {
    PrivateKey r = generate_private_key(sys);
    EXPECT_EQ(r.span()[0] & 7, 0);
    EXPECT_EQ(r.span()[31] & 0xc0, 0x40);
  }
}

TEST(X25519, SystemRandomProducesDistinctKeys) {
  SystemRandom sys;
  PrivateKey a = generate_private_key(sys), b = generate_private_key(sys);
  EXPECT_FALSE(a == b);
  EXPECT_FALSE(a.is_zero());
}

}  // namespace
}  // namespace wgp
