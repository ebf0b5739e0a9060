// The Port Control Protocol's MAP opcode (RFC 6887), as a client needs it:
// build the request that asks the gateway to forward an external UDP port to
// ours, and read the answer. No Debian library speaks PCP as a client, so the
// codec is ours; the reader takes outside bytes (whatever answers on the
// gateway's port 5351) and never reads past them (portmap/wire.h).
//
//   request (60 bytes)                        response (60 bytes + options)
//    0 version 2 | R=0, opcode 1 (MAP)         0 version 2 | R=1, opcode 1
//    2 reserved (16)                           2 reserved | result code
//    4 requested lifetime (32)                 4 lifetime (32)
//    8 client's IP address (128)               8 epoch time (32), 12 reserved (96)
//   24 mapping nonce (96)                     24 mapping nonce (96)
//   36 protocol 17 | reserved (24)            36 protocol | reserved (24)
//   40 internal port | suggested ext. port    40 internal port | assigned ext. port
//   44 suggested external address (128)       44 assigned external address (128)
//
// IPv4 addresses travel as IPv4-mapped IPv6 (::ffff:a.b.c.d, §5); a client
// that has no preference suggests ::ffff:0.0.0.0 and port 0 (§11.1). A
// request with lifetime 0 and the mapping's nonce deletes the mapping.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "net/ip.h"
#include "util/bytes.h"

namespace wgp::portmap {

constexpr uint16_t kPcpServerPort = 5351;  // also NAT-PMP's (RFC 6886)
constexpr uint8_t kPcpVersion = 2;
constexpr uint8_t kPcpOpcodeMap = 1;
constexpr uint8_t kProtocolUdp = 17;
constexpr size_t kPcpHeaderSize = 24;
constexpr size_t kPcpMapSize = kPcpHeaderSize + 36;
constexpr size_t kPcpMaxMessage = 1100;  // §7

// The result codes of §7.4 we name; any other is "result N".
enum PcpResult : uint8_t {
  kPcpSuccess = 0,
  kPcpUnsuppVersion = 1,
  kPcpNotAuthorized = 2,
  kPcpMalformedRequest = 3,
  kPcpUnsuppOpcode = 4,
  kPcpUnsuppOption = 5,
  kPcpMalformedOption = 6,
  kPcpNetworkFailure = 7,
  kPcpNoResources = 8,
  kPcpUnsuppProtocol = 9,
  kPcpUserExQuota = 10,
  kPcpCannotProvideExternal = 11,
  kPcpAddressMismatch = 12,
  kPcpExcessiveRemotePeers = 13,
};
// "not authorized", "no resources", ...; "unknown" for codes above 13.
std::string_view pcp_result_name(uint8_t result);

using PcpNonce = std::array<uint8_t, 12>;

struct PcpMapRequest {
  IpAddress client;  // our address on the link to the gateway (the packet's source)
  PcpNonce nonce{};  // chosen at random per mapping, the same for its renewals
  uint16_t internal_port = 0;
  uint32_t lifetime = 0;              // seconds; 0 deletes
  std::optional<Endpoint> suggested;  // nullopt: no preference
};

// Writes the request into `out`; returns kPcpMapSize, or 0 (nothing
// written) when `out` is shorter.
size_t build_pcp_map_request(const PcpMapRequest& request, MutableByteView out);

struct PcpMapResponse {
  enum class Kind {
    kIgnored,      // not a MAP answer to this request (malformed, another nonce, ...)
    kMapped,       // result SUCCESS: `external` for `lifetime` seconds (0: deleted)
    kError,        // another result code (in `result`); `lifetime`: how long it holds
    kUnsupported,  // the server speaks no PCP version 2 (it answered as NAT-PMP, or
                   // UNSUPP_VERSION): try NAT-PMP
  } kind = Kind::kIgnored;
  uint8_t result = 0;
  uint32_t lifetime = 0;
  uint32_t epoch = 0;  // the server's epoch time (§8.5)
  Endpoint external;
};

// Reads what arrived from the server's port 5351 as the answer to a MAP
// request with `nonce` for UDP `internal_port`. An answer whose nonce,
// protocol or internal port differ is kIgnored (§11.3), as is anything
// shorter than a MAP answer, longer than 1100 bytes, not a response, or of
// another opcode; a version-0 message (a NAT-PMP server's reply) and a
// version-2 UNSUPP_VERSION header are kUnsupported. Options are skipped.
PcpMapResponse read_pcp_map_response(ByteView message, const PcpNonce& nonce,
                                     uint16_t internal_port);

}  // namespace wgp::portmap
