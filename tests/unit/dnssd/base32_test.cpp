// RFC 4648 base32 and the DNS-SD labels made of public keys.
#include "dnssd/base32.h"

#include <gtest/gtest.h>

#include "support/requirements.h"

#include <cstdio>
#include <string>

namespace wgp::dnssd {
namespace {

ByteView bytes_of(std::string_view s) {
  return ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

std::string string_of(const std::vector<uint8_t>& v) { return std::string(v.begin(), v.end()); }

// RFC 4648 §10 test vectors.
struct Vector {
  const char* plain;
  const char* encoded;
};
constexpr Vector kRfc4648[] = {
    {"", ""},
    {"f", "MY======"},
    {"fo", "MZXQ===="},
    {"foo", "MZXW6==="},
    {"foob", "MZXW6YQ="},
    {"fooba", "MZXW6YTB"},
    {"foobar", "MZXW6YTBOI======"},
};

TEST(Base32, Rfc4648VectorsEncode) {
  for (const Vector& v : kRfc4648)
    EXPECT_EQ(base32_encode(bytes_of(v.plain)), v.encoded) << v.plain;
}

TEST(Base32, Rfc4648VectorsDecodeEitherCase) {
  for (const Vector& v : kRfc4648) {
    auto upper = base32_decode(v.encoded);
    ASSERT_TRUE(upper) << v.encoded;
    EXPECT_EQ(string_of(*upper), v.plain);
    std::string lower = v.encoded;
    for (char& c : lower) c = char(std::tolower(static_cast<unsigned char>(c)));
    auto l = base32_decode(lower);
    ASSERT_TRUE(l) << lower;
    EXPECT_EQ(string_of(*l), v.plain);
  }
}

TEST(Base32, RejectsNonCanonicalInput) {
  EXPECT_FALSE(base32_decode("MY"));                // not a multiple of 8
  EXPECT_FALSE(base32_decode("MY=====A"));          // data after padding
  EXPECT_FALSE(base32_decode("M======="));          // 1 digit: no whole byte
  EXPECT_FALSE(base32_decode("MZX====="));          // 3 digits: never produced
  EXPECT_FALSE(base32_decode("MZXW6Y=="));          // 6 digits: never produced
  EXPECT_FALSE(base32_decode("MZ======"));          // 'Z' leaves non-zero unused bits
  EXPECT_FALSE(base32_decode("MY======MY======"));  // padding before the last group
  EXPECT_FALSE(base32_decode("MZXW6YT1"));          // '1' is not in the alphabet
  EXPECT_FALSE(base32_decode("MZXW6YT8"));
  EXPECT_FALSE(base32_decode("========"));
  EXPECT_FALSE(base32_decode("MZXW6YT "));
}

TEST(Base32, RoundTripsEveryLength) {
  std::vector<uint8_t> data;
  for (int n = 0; n < 40; ++n) {
    auto text = base32_encode(data);
    EXPECT_EQ(text.size(), (data.size() + 4) / 5 * 8);
    auto back = base32_decode(text);
    ASSERT_TRUE(back) << text;
    EXPECT_EQ(*back, data);
    data.push_back(uint8_t(n * 37 + 11));
  }
}

// The key of PROTOCOL.md's Alice; the label was computed once with
//   echo hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo= | base64 -d | base32
// and is checked again against the shell tools below when they are installed.
constexpr char kKeyBase64[] = "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=";
constexpr char kKeyLabel[] = "QUQPACMJGCTVI5ELPXOLIPXXLIG36OQNEY4BV5HLUSUY5KU3JZVA====";

TEST(PeerLabel, MatchesCoreutilsBase32) {
  auto key = public_key_from_base64(kKeyBase64);
  ASSERT_TRUE(key);
  EXPECT_EQ(peer_label(*key), kKeyLabel);
  EXPECT_EQ(peer_label(*key).size(), kPeerLabelSize);
  auto back = key_from_label(kKeyLabel);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, *key);
}

std::string run(const std::string& command) {
  std::string out;
  FILE* f = popen(command.c_str(), "r");
  if (!f) return out;
  char buf[256];
  while (size_t n = fread(buf, 1, sizeof buf, f)) out.append(buf, n);
  pclose(f);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

TEST(PeerLabel, ShellToolsAgreeBothWays) {
  WGP_REQUIRE_TOOL("base32");
  WGP_REQUIRE_TOOL("base64");
  // Fresh keys each run, so this is not only the one hard-coded pair.
  for (int i = 0; i < 4; ++i) {
    PublicKey key;
    for (size_t j = 0; j < key.size(); ++j) key[j] = uint8_t(j * 29 + i * 71 + 3);
    std::string b64 = key_to_base64(key);
    std::string label = run("echo '" + b64 + "' | base64 -d | base32");
    EXPECT_EQ(label, peer_label(key));
    EXPECT_EQ(run("echo '" + peer_label(key) + "' | base32 -d | base64"), b64);
  }
  EXPECT_EQ(run(std::string("echo '") + kKeyBase64 + "' | base64 -d | base32"), kKeyLabel);
}

TEST(PeerLabel, KeyFromLabelIsCaseInsensitiveAndStrict) {
  std::string lower = kKeyLabel;
  for (char& c : lower) c = char(std::tolower(static_cast<unsigned char>(c)));
  auto key = key_from_label(lower);
  ASSERT_TRUE(key);
  EXPECT_EQ(peer_label(*key), kKeyLabel);

  EXPECT_FALSE(key_from_label(""));
  EXPECT_FALSE(key_from_label(std::string(kKeyLabel).substr(0, 55)));
  EXPECT_FALSE(key_from_label(std::string(kKeyLabel) + "A"));
  // 56 characters that decode to 35 bytes, not 32.
  EXPECT_FALSE(key_from_label(base32_encode(std::vector<uint8_t>(35, 7))));
  // Non-zero unused bits in the last data character ('A' -> 'B').
  std::string bad = kKeyLabel;
  bad[51] = 'B';
  EXPECT_FALSE(key_from_label(bad));
}

}  // namespace
}  // namespace wgp::dnssd
