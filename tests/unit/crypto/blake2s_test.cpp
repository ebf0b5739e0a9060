// BLAKE2s (RFC 7693, the BLAKE2 KAT), WireGuard's 16-byte MAC, and the
// HMAC-BLAKE2s KDF against wireguard-go's device/kdf_test.go table.
#include "crypto/blake2s.h"

#include <gtest/gtest.h>

#include <string>

#include "unit/crypto/test_hex.h"

namespace wgp {
namespace {

using testing::hex;
using testing::hex_of;

ByteView text(std::string_view s) {
  return ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

std::vector<uint8_t> sequence(size_t n) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = uint8_t(i);
  return v;
}

std::string hash_hex(std::initializer_list<ByteView> parts) {
  Hash h;
  blake2s(h, parts);
  return hex_of(h);
}

std::string keyed_hex(ByteView key, ByteView msg) {
  Hash h;
  blake2s_keyed(h, key, {msg});
  return hex_of(h);
}

TEST(Blake2s, UnkeyedVectors) {
  EXPECT_EQ(hash_hex({}), "69217a3079908094e11121d042354a7c1f55b6482ca1a51e1b250dfd1ed0eef9");
  EXPECT_EQ(hash_hex({text("abc")}),
            "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982");
  EXPECT_EQ(hash_hex({hex("00")}),
            "e34d74dbaf4ff4c6abd871cc220451d2ea2648846c7757fbaac82fe51ad64bea");
}

TEST(Blake2s, PartsAreConcatenated) {
  EXPECT_EQ(hash_hex({text("a"), text(""), text("bc")}), hash_hex({text("abc")}));
}

TEST(Blake2s, KeyedVectors) {
  auto key = sequence(32);
  EXPECT_EQ(keyed_hex(key, {}), "48a8997da407876b3d79c0d92325ad3b89cbb754d86ab71aee047ad345fd2c49");
  EXPECT_EQ(keyed_hex(key, hex("00")),
            "40d15fee7c328830166ac3f918650f807e7e01e177258cdc0a39b11f598066f1");
  EXPECT_EQ(keyed_hex(key, sequence(255)),
            "3fb735061abc519dfe979e54c1ee5bfad0a9d858b3315bad34bde999efd724dd");
}

TEST(Blake2s, Mac16IsNotATruncatedDigest) {
  auto key = sequence(32);
  Mac mac = mac16(key, {text("abc")});
  EXPECT_EQ(hex_of(mac), "61ba5f165c194692e09d12520cc4c74a");
  std::string full = keyed_hex(key, text("abc"));
  EXPECT_EQ(full.substr(0, 32), "a281f725754969a702f6fe36fc591b7d");
  EXPECT_NE(full.substr(0, 32), hex_of(mac));
}

// RFC 7693 Appendix E: hash of 48 unkeyed and keyed digests of several lengths.
void selftest_seq(uint8_t* out, size_t len, uint32_t seed) {
  uint32_t a = 0xDEAD4BAD * seed, b = 1;
  for (size_t i = 0; i < len; ++i) {
    uint32_t t = a + b;
    a = b;
    b = t;
    out[i] = uint8_t(t >> 24);
  }
}

TEST(Blake2s, Rfc7693AppendixESelfTest) {
  const size_t md_len[4] = {16, 20, 28, 32};
  const size_t in_len[6] = {0, 3, 64, 65, 255, 1024};
  std::vector<uint8_t> transcript;
  uint8_t in[1024], md[32], key[32];
  for (size_t outlen : md_len) {
    for (size_t inlen : in_len) {
      selftest_seq(in, inlen, uint32_t(inlen));
      blake2s_keyed(MutableByteView(md, outlen), {}, {ByteView(in, inlen)});
      transcript.insert(transcript.end(), md, md + outlen);
      selftest_seq(key, outlen, uint32_t(outlen));
      blake2s_keyed(MutableByteView(md, outlen), ByteView(key, outlen), {ByteView(in, inlen)});
      transcript.insert(transcript.end(), md, md + outlen);
    }
  }
  EXPECT_EQ(hash_hex({transcript}),
            "6a411f08ce25adcdfb02aba641451cec53c598b24f4fc787fbdc88797f4c1dfe");
}

struct KdfCase {
  const char* key;
  const char* input;
  const char* t1;
  const char* t2;
  const char* t3;
};

class Kdf : public ::testing::TestWithParam<KdfCase> {};

TEST_P(Kdf, WireguardGoTable) {
  const KdfCase& c = GetParam();
  auto key = hex(c.key), input = hex(c.input);
  Secret<32> t1, t2, t3;
  kdf3(t1, t2, t3, key, input);
  EXPECT_EQ(hex_of(t1.span()), c.t1);
  EXPECT_EQ(hex_of(t2.span()), c.t2);
  EXPECT_EQ(hex_of(t3.span()), c.t3);

  Secret<32> u1, u2;
  kdf2(u1, u2, key, input);
  EXPECT_EQ(hex_of(u1.span()), c.t1);
  EXPECT_EQ(hex_of(u2.span()), c.t2);
  Secret<32> v1;
  kdf1(v1, key, input);
  EXPECT_EQ(hex_of(v1.span()), c.t1);
}

INSTANTIATE_TEST_SUITE_P(
    Vectors, Kdf,
    ::testing::Values(KdfCase{"746573742d6b6579", "746573742d696e707574",
                              "6f0e5ad38daba1bea8a0d213688736f19763239305e0f58aba697f9ffc41c633",
                              "df1194df20802a4fe594cde27e92991c8cae66c366e8106aaa937a55fa371e8a",
                              "fac6e2745a325f5dc5d11a5b165aad08b0ada28e7b4e666b7c077934a4d76c24"},
                      // PROTOCOL.md §6.1 says "same" input here, but kdf_test.go uses "wireguard"
                      // as both key and input; these outputs belong to that pair.
                      KdfCase{"776972656775617264", "776972656775617264",
                              "491d43bbfdaa8750aaf535e334ecbfe5129967cd64635101c566d4caefda96e8",
                              "1e71a379baefd8a79aa4662212fcafe19a23e2b609a3db7d6bcba8f560e3d25f",
                              "31e1ae48bddfbe5de38f295e5452b1909a1b4e38e183926af3780b0c1e1f0160"},
                      KdfCase{"", "",
                              "8387b46bf43eccfcf349552a095d8315c4055beb90208fb1be23b894bc2ed5d0",
                              "58a0e5f6faefccf4807bff1f05fa8a9217945762040bcec2f4b4a62bdfe0e86e",
                              "0ce6ea98ec548f8e281e93e32db65621c45eb18dc6f0a7ad94178610a2f7338e"}));

TEST(Kdf, OutputMayAliasKey) {
  // The handshake writes (C, k) = KDF2(C, x) with C as both key and output.
  auto c =
      testing::hex_secret<32>("60e26daef327efc02ec335e2a025d2d016eb4206f87277f52d38d1988b78cd36");
  Secret<32> expected1, expected2, k;
  kdf2(expected1, expected2, c.span(), text("input"));
  kdf2(c, k, c.span(), text("input"));
  EXPECT_TRUE(c == expected1);
  EXPECT_TRUE(k == expected2);
}

TEST(Hmac, LongKeyIsHashedFirst) {
  // RFC 2104: a key longer than the 64-byte block is replaced by its hash.
  auto long_key = sequence(100);
  Hash hashed_key;
  blake2s(hashed_key, {long_key});
  Hash a, b;
  hmac_blake2s(a, long_key, {text("msg")});
  hmac_blake2s(b, hashed_key, {text("msg")});
  EXPECT_EQ(a, b);
  // A 64-byte key is used as is, so it differs from its hash.
  auto block_key = sequence(64);
  Hash block_hashed;
  blake2s(block_hashed, {block_key});
  hmac_blake2s(a, block_key, {text("msg")});
  hmac_blake2s(b, block_hashed, {text("msg")});
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace wgp
