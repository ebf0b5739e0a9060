// ChaCha20-Poly1305 (RFC 8439 §2.8.2) and XChaCha20-Poly1305
// (draft-irtf-cfrg-xchacha-03 App. A.3.1) known answers, WireGuard's counter
// nonce, in-place operation and every way authentication must fail.
#include "crypto/aead.h"

#include <gtest/gtest.h>

#include <string>

#include "unit/crypto/test_hex.h"

namespace wgp {
namespace {

using testing::hex;
using testing::hex_array;
using testing::hex_of;
using testing::hex_secret;

const std::string kSunscreen =
    "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the "
    "future, sunscreen would be it.";
ByteView sunscreen() { return ByteView(reinterpret_cast<const uint8_t*>(kSunscreen.data()), 114); }

constexpr std::string_view kKey80 =
    "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f";
constexpr std::string_view kAad = "50515253c0c1c2c3c4c5c6c7";
constexpr std::string_view kRfcCiphertext =
    "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da"
    "92728b1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585"
    "808b4831d7bc3ff4def08e4b7a9de576d26586cec64b6116";
constexpr std::string_view kRfcTag = "1ae10b594f09e26a7e902ecbd0600691";

TEST(Aead, Rfc8439Section282Seal) {
  ASSERT_EQ(kSunscreen.size(), 114u);
  auto key = hex(kKey80);
  auto nonce = hex_array<12>("070000004041424344454647");
  std::vector<uint8_t> out(114 + 16);
  ASSERT_TRUE(aead_seal_nonce(key, nonce, sunscreen(), hex(kAad), out));
  EXPECT_EQ(hex_of(out), std::string(kRfcCiphertext) + std::string(kRfcTag));
}

TEST(Aead, Rfc8439Section282OpenAndTamper) {
  auto key = hex(kKey80);
  auto nonce = hex_array<12>("070000004041424344454647");
  auto sealed = hex(std::string(kRfcCiphertext) + std::string(kRfcTag));
  std::vector<uint8_t> plain(114);
  ASSERT_TRUE(aead_open_nonce(key, nonce, sealed, hex(kAad), plain));
  EXPECT_EQ(std::string(plain.begin(), plain.end()), kSunscreen);

  auto bad_tag = sealed;
  bad_tag.back() ^= 0x01;
  EXPECT_FALSE(aead_open_nonce(key, nonce, bad_tag, hex(kAad), plain));
  auto bad_ct = sealed;
  bad_ct[0] ^= 0x80;
  EXPECT_FALSE(aead_open_nonce(key, nonce, bad_ct, hex(kAad), plain));
  auto bad_aad = hex(kAad);
  bad_aad[3] ^= 1;
  EXPECT_FALSE(aead_open_nonce(key, nonce, sealed, bad_aad, plain));
  auto bad_nonce = nonce;
  bad_nonce[11] ^= 1;
  EXPECT_FALSE(aead_open_nonce(key, bad_nonce, sealed, hex(kAad), plain));
}

TEST(Aead, CounterNonceIsFourZeroBytesThenLittleEndianCounter) {
  auto key = hex_secret<32>(kKey80);
  const uint64_t counter = 0x0807060504030201ULL;
  auto nonce = hex_array<12>("000000000102030405060708");
  std::vector<uint8_t> via_counter(114 + 16), via_nonce(114 + 16), via_key(114 + 16);
  ASSERT_TRUE(aead_seal(key, counter, sunscreen(), hex(kAad), via_counter));
  ASSERT_TRUE(aead_seal_nonce(key.span(), nonce, sunscreen(), hex(kAad), via_nonce));
  AeadKey prepared(key);
  ASSERT_TRUE(prepared.seal(counter, sunscreen(), hex(kAad), via_key));
  EXPECT_EQ(via_counter, via_nonce);
  EXPECT_EQ(via_key, via_nonce);
  // A different counter gives a different ciphertext.
  ASSERT_TRUE(prepared.seal(counter + 1, sunscreen(), hex(kAad), via_key));
  EXPECT_NE(via_key, via_nonce);
}

TEST(Aead, AeadKeyRoundTripInPlaceAndTamper) {
  auto key = hex_secret<32>(kKey80);
  AeadKey k(key);
  std::vector<uint8_t> buf(40 + 16);
  for (size_t i = 0; i < 40; ++i) buf[i] = uint8_t(i);
  ASSERT_TRUE(k.seal(7, ByteView(buf.data(), 40), {}, buf));  // in place
  std::vector<uint8_t> sealed = buf;
  ASSERT_TRUE(k.open(7, buf, {}, MutableByteView(buf.data(), 40)));  // in place
  for (size_t i = 0; i < 40; ++i) EXPECT_EQ(buf[i], i);

  std::vector<uint8_t> plain(40);
  EXPECT_FALSE(k.open(8, sealed, {}, plain)) << "wrong counter";
  sealed[40] ^= 0x10;  // first tag byte
  EXPECT_FALSE(k.open(7, sealed, {}, plain)) << "tampered tag";
}

TEST(Aead, EmptyPlaintextIsTagOnly) {
  auto key = hex_secret<32>(kKey80);
  AeadKey k(key);
  std::array<uint8_t, 16> tag{};
  ASSERT_TRUE(k.seal(0, {}, {}, tag));
  EXPECT_TRUE(k.open(0, tag, {}, MutableByteView()));
  tag[15] ^= 1;
  EXPECT_FALSE(k.open(0, tag, {}, MutableByteView()));
}

// The data path seals payload + zero padding straight into the send buffer;
// it must give exactly what sealing the padded copy gives, for every padding.
TEST(Aead, SealPaddedEqualsSealOfThePaddedCopy) {
  auto key = hex_secret<32>(kKey80);
  AeadKey k(key);
  for (size_t length : {0, 1, 15, 16, 17, 113, 1420}) {
    for (size_t padding = 0; padding <= 16; ++padding) {
      std::vector<uint8_t> plain(length + padding, 0);
      for (size_t i = 0; i < length; ++i) plain[i] = uint8_t(i * 7 + 3);
      std::vector<uint8_t> expected(plain.size() + 16), got(plain.size() + 16, 0xee);
      ASSERT_TRUE(k.seal(42, plain, {}, expected));
      ASSERT_TRUE(k.seal_padded(42, ByteView(plain.data(), length), padding, got))
          << length << "+" << padding;
      EXPECT_EQ(got, expected) << length << "+" << padding;
    }
  }
  std::vector<uint8_t> in(20), out(20 + 17 + 16);
  EXPECT_FALSE(k.seal_padded(0, in, 17, out)) << "padding over 16";
  std::vector<uint8_t> out_short(20 + 3 + 15);
  EXPECT_FALSE(k.seal_padded(0, in, 3, out_short));
}

TEST(Aead, WrongOutputSizesAreRefused) {
  auto key = hex_secret<32>(kKey80);
  AeadKey k(key);
  std::vector<uint8_t> in(32), out_short(47), out_long(49), small(10);
  EXPECT_FALSE(k.seal(0, in, {}, out_short));
  EXPECT_FALSE(k.seal(0, in, {}, out_long));
  EXPECT_FALSE(k.open(0, small, {}, MutableByteView()));  // shorter than a tag
  EXPECT_FALSE(aead_seal(key, 0, in, {}, out_short));
}

TEST(XAead, DraftXChaChaAppendixA31) {
  auto key = hex(kKey80);
  auto nonce = hex_array<24>("404142434445464748494a4b4c4d4e4f5051525354555657");
  std::vector<uint8_t> out(114 + 16);
  ASSERT_TRUE(xaead_seal(key, nonce, sunscreen(), hex(kAad), out));
  EXPECT_EQ(hex_of(out),
            "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb731c7f1b0b4aa6440bf3"
            "a82f4eda7e39ae64c6708c54c216cb96b72e1213b4522f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc3"
            "69488f76b2383565d3fff921f9664c97637da9768812f615c68b13b52e"
            "c0875924c1c7987947deafd8780acf49");

  std::vector<uint8_t> plain(114);
  ASSERT_TRUE(xaead_open(key, nonce, out, hex(kAad), plain));
  EXPECT_EQ(std::string(plain.begin(), plain.end()), kSunscreen);
  out[120] ^= 4;
  EXPECT_FALSE(xaead_open(key, nonce, out, hex(kAad), plain));
}

TEST(XAead, RejectsWrongKeyLengthAndNonce) {
  auto nonce = hex_array<24>("404142434445464748494a4b4c4d4e4f5051525354555657");
  std::vector<uint8_t> out(16 + 16), in(16);
  EXPECT_FALSE(xaead_seal(hex("0011"), nonce, in, {}, out));
  auto key = hex(kKey80);
  ASSERT_TRUE(xaead_seal(key, nonce, in, {}, out));
  auto other = nonce;
  other[0] ^= 1;  // the HChaCha20 half of the nonce
  EXPECT_FALSE(xaead_open(key, other, out, {}, in));
  other = nonce;
  other[23] ^= 1;  // the ChaCha20 half
  EXPECT_FALSE(xaead_open(key, other, out, {}, in));
}

}  // namespace
}  // namespace wgp
