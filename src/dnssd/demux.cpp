#include "dnssd/demux.h"

#include "noise/wire.h"

namespace wgp::dnssd {

namespace {

constexpr size_t kDnsHeaderSize = 12;

bool looks_like_wireguard(ByteView d) {
  if (d.size() < 4 || d[1] != 0 || d[2] != 0 || d[3] != 0) return false;
  switch (d[0]) {
    case uint8_t(noise::MessageType::kInitiation):
      return d.size() == noise::kInitiationSize;
    case uint8_t(noise::MessageType::kResponse):
      return d.size() == noise::kResponseSize;
    case uint8_t(noise::MessageType::kCookieReply):
      return d.size() == noise::kCookieReplySize;
    case uint8_t(noise::MessageType::kTransport):
      // Not necessarily a multiple of 16: padding stops at the MTU (see demux.h).
      return d.size() >= noise::kTransportMinSize;
    default:
      return false;
  }
}

}  // namespace

bool plausible_dns_header(ByteView d) {
  if (d.size() < kDnsHeaderSize) return false;
  // Byte 2: QR(1) OPCODE(4) AA TC RD. Byte 3: RA Z AD CD RCODE(4).
  unsigned opcode = (d[2] >> 3) & 0xF;
  // Assigned opcodes: 0 QUERY, 1 IQUERY (obsolete), 2 STATUS, 4 NOTIFY,
  // 5 UPDATE, 6 DSO. Anything else is noise, not a DNS message.
  bool assigned = opcode <= 6 && opcode != 3;
  bool z_clear = (d[3] & 0x40) == 0;
  return assigned && z_clear;
}

DatagramKind classify_datagram(ByteView datagram) {
  if (looks_like_wireguard(datagram)) return DatagramKind::kWireGuard;
  if (plausible_dns_header(datagram)) return DatagramKind::kDns;
  return DatagramKind::kUnknown;
}

}  // namespace wgp::dnssd
