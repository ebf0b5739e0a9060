// PCP MAP answers (src/portmap/pcp.h): whatever arrives from the gateway's
// port 5351 is read as the answer to our MAP request with the seeds' nonce
// (1..12) for UDP port 51820. Input: the datagram, no control byte. Besides
// "no crash, no overread", checked: only a version-2 MAP response of at least
// 60 bytes and at most 1100 with our nonce, protocol and port is ever taken
// as an answer (a NAT-PMP version-0 header aside, which means "unsupported");
// whether the mapping it names is usable is PortMapper's to judge.
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "portmap/pcp.h"

namespace {

using namespace wgp;
using namespace wgp::portmap;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_pcp: %s\n", what);
  std::abort();
}

constexpr PcpNonce kNonce = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
constexpr uint16_t kPort = 51820;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const ByteView message(data, size);
  const PcpMapResponse r = read_pcp_map_response(message, kNonce, kPort);
  switch (r.kind) {
    case PcpMapResponse::Kind::kIgnored:
      break;
    case PcpMapResponse::Kind::kUnsupported:
      if (size < 2) fail("unsupported from less than a header");
      break;
    case PcpMapResponse::Kind::kMapped:
    case PcpMapResponse::Kind::kError:
      if (size < kPcpMapSize || size > kPcpMaxMessage) fail("an answer of the wrong size");
      if (data[0] != kPcpVersion || data[1] != (0x80 | kPcpOpcodeMap)) fail("not a MAP response");
      if (std::memcmp(data + 24, kNonce.data(), kNonce.size()) != 0) fail("another nonce taken");
      if (data[36] != kProtocolUdp || load_be16(data + 40) != kPort) fail("another mapping taken");
      break;
  }
  // The request side: whatever the answer said, a renewal asking for it builds.
  if (r.kind == PcpMapResponse::Kind::kMapped) {
    uint8_t out[kPcpMapSize];
    PcpMapRequest renewal{*IpAddress::parse("10.2.0.2"), kNonce, kPort, 7200, r.external};
    if (build_pcp_map_request(renewal, out) != kPcpMapSize) fail("a renewal did not build");
  }
  return 0;
}
