// NOTIFY messages for the punch-now signal: written with the same
// question-message builder as the discovery queries, read with ldns after a
// hand check of the fixed header so that other datagrams are turned away
// without allocating.
#include "dnssd/notify.h"

#include "dnssd/ldns_ptr.h"

#include <ldns/ldns.h>

#include <memory>

#include "dnssd/discovery_query.h"

namespace wgp::dnssd {
namespace {

constexpr size_t kHeaderSize = 12;
constexpr uint8_t kFlagQr = 0x80;    // header byte 2
constexpr uint8_t kOpcodeShift = 3;  // header byte 2, bits 6..3

uint8_t opcode(ByteView header) { return (header[2] >> kOpcodeShift) & 0x0f; }

}  // namespace

bool build_notify(uint16_t id, const PublicKey& asker, std::string_view zone,
                  std::vector<uint8_t>& out) {
  const QuestionMessage header{
      .id = id, .response = false, .opcode = kOpcodeNotify, .authoritative = true, .edns = false};
  return build_question_message(header, instance_name(asker, zone), kQueryTypeSrv, out);
}

std::optional<Notify> parse_notify(ByteView datagram, std::string_view zone) {
  if (datagram.size() < kHeaderSize || (datagram[2] & kFlagQr) ||
      opcode(datagram) != kOpcodeNotify) {
    return std::nullopt;
  }
  ldns_pkt* raw = nullptr;
  if (ldns_wire2pkt(&raw, datagram.data(), datagram.size()) != LDNS_STATUS_OK) {
    ldns_pkt_free(raw);
    return std::nullopt;
  }
  PacketPtr packet(raw);
  const ldns_rr_list* questions = ldns_pkt_question(packet.get());
  if (!questions || ldns_rr_list_rr_count(questions) != 1) return std::nullopt;
  const ldns_rr* question = ldns_rr_list_rr(questions, 0);
  const ldns_rdf* owner = ldns_rr_owner(question);
  if (ldns_rr_get_type(question) != LDNS_RR_TYPE_SRV ||
      ldns_rr_get_class(question) != LDNS_RR_CLASS_IN || !owner ||
      ldns_rdf_get_type(owner) != LDNS_RDF_TYPE_DNAME) {
    return std::nullopt;
  }
  auto asker = key_from_instance_name(ByteView(ldns_rdf_data(owner), ldns_rdf_size(owner)), zone);
  if (!asker) return std::nullopt;
  return Notify{ldns_pkt_id(packet.get()), *asker};
}

bool build_notify_ack(const Notify& notify, std::string_view zone, std::vector<uint8_t>& out) {
  const QuestionMessage header{.id = notify.id,
                               .response = true,
                               .opcode = kOpcodeNotify,
                               .authoritative = true,
                               .edns = false};
  return build_question_message(header, instance_name(notify.asker, zone), kQueryTypeSrv, out);
}

bool is_notify_ack(ByteView datagram) {
  return datagram.size() >= kHeaderSize && (datagram[2] & kFlagQr) &&
         opcode(datagram) == kOpcodeNotify;
}

}  // namespace wgp::dnssd
