// The PCP MAP codec (RFC 6887 §7, §11) against byte vectors written by hand
// from the RFC's figures, and the reader's refusals: another nonce, port or
// protocol, a request instead of a response, short or oversized input, and
// a NAT-PMP server's version-0 answer.
#include "portmap/pcp.h"

#include <gtest/gtest.h>

#include <vector>

namespace wgp::portmap {
namespace {

using Bytes = std::vector<uint8_t>;

IpAddress ip(const char* text) { return *IpAddress::parse(text); }

constexpr PcpNonce kNonce = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};

// RFC 6887 Figure 2 (request header) + Figure 9 (MAP): 10.2.0.2 asks for UDP
// port 51820 (0xca6c), suggesting the same external port, any address, for
// 7200 s (0x1c20).
const Bytes kRequest = {
    0x02, 0x01, 0x00, 0x00,                                 // version 2, R=0 opcode MAP, reserved
    0x00, 0x00, 0x1c, 0x20,                                 // requested lifetime
    0,    0,    0,    0,    0, 0, 0, 0, 0, 0,  0xff, 0xff,  // client address ::ffff:
    10,   2,    0,    2,                                    //   10.2.0.2
    1,    2,    3,    4,    5, 6, 7, 8, 9, 10, 11,   12,    // nonce
    17,   0,    0,    0,                                    // UDP, reserved
    0xca, 0x6c, 0xca, 0x6c,                                 // internal, suggested external port
    0,    0,    0,    0,    0, 0, 0, 0, 0, 0,  0xff, 0xff,  // suggested address ::ffff:
    0,    0,    0,    0};                                   //   0.0.0.0 (no preference)

// RFC 6887 Figure 3 (response header) + Figure 9: success, 3600 s, epoch
// 4096, external 192.0.3.1:40000 (0x9c40).
Bytes success_response() {
  return {0x02, 0x81, 0x00, 0x00,  // version 2, R=1 MAP, reserved, SUCCESS
          0x00, 0x00, 0x0e, 0x10,  // lifetime 3600
          0x00, 0x00, 0x10, 0x00,  // epoch time 4096
          0,    0,    0,    0,    0, 0, 0, 0, 0, 0,  0,    0,   // reserved
          1,    2,    3,    4,    5, 6, 7, 8, 9, 10, 11,   12,  // nonce
          17,   0,    0,    0,                                  // UDP, reserved
          0xca, 0x6c, 0x9c, 0x40,  // internal port, assigned external port
          0,    0,    0,    0,    0, 0, 0, 0, 0, 0,  0xff, 0xff,  // assigned address ::ffff:
          192,  0,    3,    1};
}

TEST(Pcp, BuildsTheMapRequestOfTheRfc) {
  PcpMapRequest q{ip("10.2.0.2"), kNonce, 51820, 7200, Endpoint{IpAddress{}, 51820}};
  uint8_t out[80];
  ASSERT_EQ(build_pcp_map_request(q, out), kPcpMapSize);
  EXPECT_EQ(Bytes(out, out + kPcpMapSize), kRequest);
  // Too small a buffer: nothing.
  EXPECT_EQ(build_pcp_map_request(q, std::span<uint8_t>(out, kPcpMapSize - 1)), 0u);
}

TEST(Pcp, RenewalSuggestsTheCurrentMappingAndDeletionIsLifetimeZero) {
  PcpMapRequest q{ip("10.2.0.2"), kNonce, 51820, 0, Endpoint{ip("192.0.3.1"), 40000}};
  uint8_t out[kPcpMapSize];
  ASSERT_EQ(build_pcp_map_request(q, out), kPcpMapSize);
  EXPECT_EQ(load_be32(out + 4), 0u);      // lifetime 0: delete (§15)
  EXPECT_EQ(load_be16(out + 42), 40000);  // suggested external port
  EXPECT_EQ(Bytes(out + 56, out + 60), (Bytes{192, 0, 3, 1}));
  // Without a suggestion: port 0 and the all-zero address.
  q.suggested.reset();
  ASSERT_EQ(build_pcp_map_request(q, out), kPcpMapSize);
  EXPECT_EQ(load_be16(out + 42), 0);
  // An IPv6 client writes its address as is.
  q.client = ip("2001:db8::2");
  ASSERT_EQ(build_pcp_map_request(q, out), kPcpMapSize);
  EXPECT_EQ(Bytes(out + 8, out + 24), Bytes(q.client.bytes.begin(), q.client.bytes.end()));
}

TEST(Pcp, ReadsASuccess) {
  PcpMapResponse r = read_pcp_map_response(success_response(), kNonce, 51820);
  ASSERT_EQ(r.kind, PcpMapResponse::Kind::kMapped);
  EXPECT_EQ(r.lifetime, 3600u);
  EXPECT_EQ(r.epoch, 4096u);
  EXPECT_EQ(r.external, (Endpoint{ip("192.0.3.1"), 40000}));
}

TEST(Pcp, ReadsAnErrorWithItsLifetime) {
  Bytes b = success_response();
  b[3] = kPcpNotAuthorized;
  b[7] = 30;  // the error holds for 30 s
  b[6] = 0;
  PcpMapResponse r = read_pcp_map_response(b, kNonce, 51820);
  EXPECT_EQ(r.kind, PcpMapResponse::Kind::kError);
  EXPECT_EQ(r.result, kPcpNotAuthorized);
  EXPECT_EQ(r.lifetime, 30u);
  EXPECT_EQ(pcp_result_name(r.result), "not authorized");
  EXPECT_EQ(pcp_result_name(200), "unknown");
}

TEST(Pcp, SkipsOptions) {
  Bytes b = success_response();
  // A THIRD_PARTY option (code 1, 16 bytes) after the MAP body.
  Bytes option = {1, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 2, 0, 9};
  b.insert(b.end(), option.begin(), option.end());
  EXPECT_EQ(read_pcp_map_response(b, kNonce, 51820).kind, PcpMapResponse::Kind::kMapped);
}

TEST(Pcp, UnsupportedVersionMeansTryNatPmp) {
  // A NAT-PMP-only gateway (RFC 6886 §3.5): version 0, opcode 128 + ours,
  // result 1 (unsupported version), epoch.
  Bytes natpmp = {0, 129, 0, 1, 0, 0, 0x10, 0};
  EXPECT_EQ(read_pcp_map_response(natpmp, kNonce, 51820).kind, PcpMapResponse::Kind::kUnsupported);
  // A PCP server of another version answers UNSUPP_VERSION with a bare header.
  Bytes full = success_response();
  Bytes header(full.begin(), full.begin() + kPcpHeaderSize);
  header[3] = kPcpUnsuppVersion;
  EXPECT_EQ(read_pcp_map_response(header, kNonce, 51820).kind, PcpMapResponse::Kind::kUnsupported);
}

// Each of these is dropped: nothing in it may change our mapping.
TEST(Pcp, IgnoresWhatIsNotTheAnswerToOurRequest) {
  auto ignored = [](const Bytes& b, uint16_t port = 51820) {
    return read_pcp_map_response(b, kNonce, port).kind == PcpMapResponse::Kind::kIgnored;
  };
  Bytes b = success_response();
  EXPECT_TRUE(ignored(b, 51821)) << "another internal port";
  b[24] ^= 1;
  EXPECT_TRUE(ignored(b)) << "another nonce";
  b = success_response();
  b[36] = 6;
  EXPECT_TRUE(ignored(b)) << "TCP";
  b = success_response();
  b[1] = 0x01;
  EXPECT_TRUE(ignored(b)) << "a request (R clear)";
  b = success_response();
  b[1] = 0x82;
  EXPECT_TRUE(ignored(b)) << "PEER, not MAP";
  b = success_response();
  b[0] = 1;
  EXPECT_TRUE(ignored(b)) << "version 1";
  EXPECT_TRUE(ignored(kRequest)) << "our own request reflected";
  b = success_response();
  for (size_t n = 0; n < b.size(); ++n)
    EXPECT_TRUE(ignored(Bytes(b.begin(), b.begin() + n)) || (n >= 4 && b[0] == 0)) << n;
  b = success_response();
  b.resize(kPcpMaxMessage + 4, 0);
  EXPECT_TRUE(ignored(b)) << "over 1100 bytes";
  EXPECT_TRUE(ignored(Bytes{0, 129, 0})) << "3 bytes of version 0";
}

}  // namespace
}  // namespace wgp::portmap
