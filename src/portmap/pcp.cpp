#include "portmap/pcp.h"

#include <algorithm>

#include "portmap/wire.h"

namespace wgp::portmap {

namespace {

constexpr uint8_t kResponseBit = 0x80;

// ::ffff:a.b.c.d for IPv4 (RFC 6887 §5), the address itself for IPv6.
void write_address(WireWriter& w, const IpAddress& a) {
  if (!a.is_v4()) return w.bytes(a.view());
  w.zeros(10);
  w.u16(0xffff);
  w.bytes(a.view());
}

IpAddress read_address(WireReader& r) {
  std::array<uint8_t, 16> raw{};
  r.bytes(raw);
  static constexpr uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::equal(raw.begin(), raw.begin() + 12, kMappedPrefix)) return IpAddress::v4(&raw[12]);
  return IpAddress::v6(raw.data());
}

}  // namespace

std::string_view pcp_result_name(uint8_t result) {
  static constexpr std::string_view kNames[] = {"success",
                                                "unsupported version",
                                                "not authorized",
                                                "malformed request",
                                                "unsupported opcode",
                                                "unsupported option",
                                                "malformed option",
                                                "network failure",
                                                "no resources",
                                                "unsupported protocol",
                                                "user exceeded quota",
                                                "cannot provide external",
                                                "address mismatch",
                                                "excessive remote peers"};
  return result < std::size(kNames) ? kNames[result] : "unknown";
}

size_t build_pcp_map_request(const PcpMapRequest& q, MutableByteView out) {
  if (out.size() < kPcpMapSize) return 0;
  WireWriter w(out.first(kPcpMapSize));
  w.u8(kPcpVersion);
  w.u8(kPcpOpcodeMap);
  w.u16(0);
  w.u32(q.lifetime);
  write_address(w, q.client);
  w.bytes(q.nonce);
  w.u8(kProtocolUdp);
  w.zeros(3);
  w.u16(q.internal_port);
  w.u16(q.suggested ? q.suggested->port : 0);
  // No preference: the all-zeros address of the client's family (§11.1).
  write_address(w, q.suggested ? q.suggested->address : IpAddress{q.client.family, {}});
  return w.ok() ? w.size() : 0;
}

PcpMapResponse read_pcp_map_response(ByteView message, const PcpNonce& nonce,
                                     uint16_t internal_port) {
  PcpMapResponse out;
  if (message.size() > kPcpMaxMessage) return out;
  WireReader r(message);
  const uint8_t version = r.u8();
  const uint8_t opcode = r.u8();
  if (!r.ok()) return out;
  // A NAT-PMP server answers any version it does not know with its own
  // version 0 and "unsupported version" (RFC 6886 §3.5, RFC 6887 §9).
  if (version == 0) {
    if (message.size() >= 4) out.kind = PcpMapResponse::Kind::kUnsupported;
    return out;
  }
  if (version != kPcpVersion || !(opcode & kResponseBit)) return out;
  r.skip(1);  // reserved
  out.result = r.u8();
  out.lifetime = r.u32();
  out.epoch = r.u32();
  r.skip(12);
  if (!r.ok()) return out;
  // UNSUPP_VERSION may come as a bare header, so it carries no nonce to check.
  if (out.result == kPcpUnsuppVersion) {
    out.kind = PcpMapResponse::Kind::kUnsupported;
    return out;
  }
  if ((opcode & ~kResponseBit) != kPcpOpcodeMap) return out;
  PcpNonce got{};
  r.bytes(got);
  const uint8_t protocol = r.u8();
  r.skip(3);
  const uint16_t port = r.u16();
  out.external.port = r.u16();
  out.external.address = read_address(r);
  // Options follow; we send none and need none of the server's.
  if (!r.ok() || got != nonce || protocol != kProtocolUdp || port != internal_port) return out;
  out.kind =
      out.result == kPcpSuccess ? PcpMapResponse::Kind::kMapped : PcpMapResponse::Kind::kError;
  return out;
}

}  // namespace wgp::portmap
