#include "dnssd/zone_notify.h"

#include "dnssd/notify.h"
#include "dnssd/responder_query.h"

namespace wgp::dnssd {

std::vector<uint8_t> build_zone_notify(uint16_t id, ByteView zone, const WireRecord& soa) {
  std::vector<uint8_t> m(kDnsHeaderBytes);
  store_be16(m.data(), id);
  m[2] = uint8_t(kOpcodeNotify << 3 | 0x04);  // opcode NOTIFY, AA
  store_be16(m.data() + 4, 1);                // QDCOUNT
  store_be16(m.data() + 6, 1);                // ANCOUNT
  m.insert(m.end(), zone.begin(), zone.end());
  uint8_t question[4];
  store_be16(question, kTypeSoa);
  store_be16(question + 2, kClassIn);
  m.insert(m.end(), question, question + 4);
  m.insert(m.end(), soa.wire.begin(), soa.wire.end());
  return m;
}

std::optional<uint8_t> zone_notify_response_rcode(ByteView m, uint16_t id) {
  if (m.size() < kDnsHeaderBytes || load_be16(m.data()) != id) return std::nullopt;
  bool response = m[2] & 0x80;
  uint8_t opcode = (m[2] >> 3) & 0x0F;
  if (!response || opcode != kOpcodeNotify) return std::nullopt;
  return uint8_t(m[3] & 0x0F);
}

}  // namespace wgp::dnssd
