// HMAC-SHA256 against the known answers of RFC 4231 §4 (test cases 1-7),
// whole and fed in parts, and the key rules (empty refused, long keys hashed).
#include "crypto/hmac_sha256.h"

#include <gtest/gtest.h>

#include <string>

#include "unit/crypto/test_hex.h"

namespace wgp::testing {
namespace {

ByteView text(const std::string& s) {
  return ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

struct Rfc4231Case {
  int number;
  std::vector<uint8_t> key;
  std::vector<uint8_t> data;
  std::string mac_hex;  // test case 5 gives only the first 128 bits
};

std::vector<uint8_t> repeat(uint8_t byte, size_t n) { return std::vector<uint8_t>(n, byte); }
std::vector<uint8_t> bytes_of(const std::string& s) { return {s.begin(), s.end()}; }

std::vector<Rfc4231Case> rfc4231_cases() {
  std::vector<uint8_t> key4;
  for (uint8_t b = 1; b <= 0x19; ++b) key4.push_back(b);
  return {
      {1, repeat(0x0b, 20), bytes_of("Hi There"),
       "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
      {2, bytes_of("Jefe"), bytes_of("what do ya want for nothing?"),
       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
      {3, repeat(0xaa, 20), repeat(0xdd, 50),
       "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
      {4, key4, repeat(0xcd, 50),
       "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
      {5, repeat(0x0c, 20), bytes_of("Test With Truncation"), "a3b6167473100ee06e0c796c2955552b"},
      {6, repeat(0xaa, 131), bytes_of("Test Using Larger Than Block-Size Key - Hash Key First"),
       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
      {7, repeat(0xaa, 131),
       bytes_of("This is a test using a larger than block-size key and a larger than block-size "
                "data. The key needs to be hashed before being used by the HMAC algorithm."),
       "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
  };
}

TEST(HmacSha256, Rfc4231KnownAnswers) {
  for (const Rfc4231Case& c : rfc4231_cases()) {
    auto key = HmacKey::from_bytes(c.key);
    ASSERT_TRUE(key) << "case " << c.number;
    HmacSha256Digest mac = hmac_sha256(*key, c.data);
    std::string got = to_hex(ByteView(mac.data(), c.mac_hex.size() / 2));
    EXPECT_EQ(got, c.mac_hex) << "RFC 4231 test case " << c.number;
  }
}

TEST(HmacSha256, PartsGiveTheSameMacAsTheWhole) {
  for (const Rfc4231Case& c : rfc4231_cases()) {
    auto key = HmacKey::from_bytes(c.key);
    ASSERT_TRUE(key);
    for (size_t cut = 0; cut <= c.data.size(); cut += 7) {
      HmacSha256 mac(*key);
      mac.update(ByteView(c.data).first(cut));
      mac.update(ByteView());  // an empty part changes nothing
      mac.update(ByteView(c.data).subspan(cut));
      EXPECT_EQ(mac.finish(), hmac_sha256(*key, c.data)) << "case " << c.number << " cut " << cut;
    }
  }
}

TEST(HmacSha256, KeyRules) {
  EXPECT_FALSE(HmacKey::from_bytes(ByteView()));
  // A key longer than the block is stored hashed: 32 bytes, same MACs.
  auto long_key = HmacKey::from_bytes(repeat(0xaa, 131));
  ASSERT_TRUE(long_key);
  EXPECT_EQ(long_key->view().size(), 32u);
  // Exactly one block: kept as it is.
  auto block = HmacKey::from_bytes(repeat(0x11, 64));
  ASSERT_TRUE(block);
  EXPECT_EQ(block->view().size(), 64u);
  // Equality: same bytes, same length; clone() is equal and independent.
  auto jefe = HmacKey::from_bytes(bytes_of("Jefe"));
  auto jeff = HmacKey::from_bytes(bytes_of("Jeff"));
  ASSERT_TRUE(jefe && jeff);
  EXPECT_FALSE(*jefe == *jeff);
  HmacKey copy = jefe->clone();
  EXPECT_TRUE(copy == *jefe);
  EXPECT_EQ(hmac_sha256(copy, text("x")), hmac_sha256(*jefe, text("x")));
  // "Jefe" and "Jefe\0": HMAC pads keys with zeros, so the MACs agree, but
  // the keys are not the same key.
  auto padded = HmacKey::from_bytes(std::vector<uint8_t>{'J', 'e', 'f', 'e', 0});
  ASSERT_TRUE(padded);
  EXPECT_FALSE(*padded == *jefe);
}

}  // namespace
}  // namespace wgp::testing
