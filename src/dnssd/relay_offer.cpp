#include "dnssd/relay_offer.h"

#include <ldns/ldns.h>

#include <string>

#include "dnssd/discovery_query.h"
#include "dnssd/ldns_ptr.h"

namespace wgp::dnssd {
namespace {

constexpr std::string_view kYes = "relay=yes";
constexpr std::string_view kNo = "relay=no";

PacketPtr parse(ByteView bytes) {
  ldns_pkt* packet = nullptr;
  if (bytes.size() < 12 || ldns_wire2pkt(&packet, bytes.data(), bytes.size()) != LDNS_STATUS_OK) {
    ldns_pkt_free(packet);
    return nullptr;
  }
  return PacketPtr(packet);
}

// True when the one question of `packet` is TXT IN at the registry's instance name.
bool asks_offer(const ldns_pkt* packet, const PublicKey& registry, std::string_view zone) {
  const ldns_rr_list* questions = ldns_pkt_question(packet);
  if (!questions || ldns_rr_list_rr_count(questions) != 1) return false;
  const ldns_rr* q = ldns_rr_list_rr(questions, 0);
  const ldns_rdf* owner = ldns_rr_owner(q);
  if (ldns_rr_get_type(q) != LDNS_RR_TYPE_TXT || ldns_rr_get_class(q) != LDNS_RR_CLASS_IN ||
      !owner || ldns_rdf_get_type(owner) != LDNS_RDF_TYPE_DNAME)
    return false;
  auto key = key_from_instance_name(ByteView(ldns_rdf_data(owner), ldns_rdf_size(owner)), zone);
  return key && *key == registry;
}

// The character-string of a TXT rdata field (a length byte, then the text).
std::string_view text_of(const ldns_rdf* rdf) {
  if (!rdf || ldns_rdf_get_type(rdf) != LDNS_RDF_TYPE_STR || ldns_rdf_size(rdf) < 1) return {};
  const uint8_t* data = ldns_rdf_data(rdf);
  size_t length = std::min<size_t>(data[0], ldns_rdf_size(rdf) - 1);
  return std::string_view(reinterpret_cast<const char*>(data + 1), length);
}

}  // namespace

std::optional<uint16_t> relay_offer_question(ByteView query, const PublicKey& registry,
                                             std::string_view zone) {
  if (query.size() < 12 || (query[2] & 0x80) || ((query[2] >> 3) & 0x0f) != LDNS_PACKET_QUERY)
    return std::nullopt;
  PacketPtr packet = parse(query);
  if (!packet || !asks_offer(packet.get(), registry, zone)) return std::nullopt;
  return ldns_pkt_id(packet.get());
}

bool build_relay_offer(uint16_t id, const PublicKey& registry, std::string_view zone, bool relays,
                       std::vector<uint8_t>& out) {
  std::vector<uint8_t> question;
  const QuestionMessage header{.id = id, .response = true, .authoritative = true, .edns = false};
  if (!build_question_message(header, instance_name(registry, zone), kQueryTypeTxt, question))
    return false;
  PacketPtr packet = parse(question);
  if (!packet) return false;
  std::string text = "\"" + std::string(relays ? kYes : kNo) + "\"";
  ldns_rr* txt = nullptr;
  std::string line = instance_name(registry, zone) + " 0 IN TXT " + text;
  if (ldns_rr_new_frm_str(&txt, line.c_str(), 0, nullptr, nullptr) != LDNS_STATUS_OK) {
    ldns_rr_free(txt);
    return false;
  }
  ldns_pkt_push_rr(packet.get(), LDNS_SECTION_ANSWER, txt);  // owns it now
  return append_wire(packet.get(), out);
}

std::optional<bool> parse_relay_offer(ByteView response, uint16_t id, const PublicKey& registry,
                                      std::string_view zone) {
  if (response.size() < 12 || load_be16(response.data()) != id || !(response[2] & 0x80) ||
      ((response[2] >> 3) & 0x0f) != LDNS_PACKET_QUERY)
    return std::nullopt;
  PacketPtr packet = parse(response);
  if (!packet || !asks_offer(packet.get(), registry, zone)) return std::nullopt;
  const ldns_pkt_rcode rcode = ldns_pkt_get_rcode(packet.get());
  if (rcode == LDNS_RCODE_NXDOMAIN) return false;
  if (rcode != LDNS_RCODE_NOERROR) return std::nullopt;
  const ldns_rr_list* answer = ldns_pkt_answer(packet.get());
  for (size_t i = 0; answer && i < ldns_rr_list_rr_count(answer); ++i) {
    const ldns_rr* rr = ldns_rr_list_rr(answer, i);
    if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_TXT) continue;
    for (size_t f = 0; f < ldns_rr_rd_count(rr); ++f) {
      std::string_view text = text_of(ldns_rr_rdf(rr, f));
      if (text == kYes) return true;
      if (text == kNo) return false;
    }
  }
  return false;
}

}  // namespace wgp::dnssd
