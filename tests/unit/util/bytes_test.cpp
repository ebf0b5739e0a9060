#include "util/bytes.h"

#include <gtest/gtest.h>

namespace wgp {
namespace {

TEST(Bytes, LittleEndianRoundTrip) {
  uint8_t buf[8];
  store_le32(buf, 0x11223344);
  EXPECT_EQ(buf[0], 0x44);
  EXPECT_EQ(buf[3], 0x11);
  EXPECT_EQ(load_le32(buf), 0x11223344u);
  store_le64(buf, 0x0102030405060708ull);
  EXPECT_EQ(buf[0], 0x08);
  EXPECT_EQ(load_le64(buf), 0x0102030405060708ull);
}

TEST(Bytes, BigEndian) {
  uint8_t buf[8];
  store_be16(buf, 51820);
  EXPECT_EQ(buf[0], 0xca);
  EXPECT_EQ(buf[1], 0x6c);
  EXPECT_EQ(load_be16(buf), 51820);
  store_be64(buf, 0x400000006553f10aull);
  EXPECT_EQ(to_hex(ByteView(buf, 8)), "400000006553f10a");
}

TEST(Bytes, Hex) {
  EXPECT_EQ(to_hex(std::vector<uint8_t>{0x00, 0xab, 0xff}), "00abff");
  EXPECT_EQ(from_hex("00ABff"), (std::vector<uint8_t>{0x00, 0xab, 0xff}));
  EXPECT_FALSE(from_hex("abc"));
  EXPECT_FALSE(from_hex("zz"));
  EXPECT_FALSE((from_hex_exact<2>("aabbcc")));
  EXPECT_TRUE((from_hex_exact<3>("aabbcc")));
}

}  // namespace
}  // namespace wgp
