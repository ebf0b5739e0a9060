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
                       ByteView published_txt, std::vector<uint8_t>& out) {
  std::vector<uint8_t> question;
  const QuestionMessage header{.id = id, .response = true, .authoritative = true, .edns = false};
  if (!build_question_message(header, instance_name(registry, zone), kQueryTypeTxt, question))
    return false;
  PacketPtr packet = parse(question);
  if (!packet) return false;
  // The RDATA: the published character-strings as they are, then the key.
  std::string_view key = relays ? kYes : kNo;
  std::vector<uint8_t> rdata(published_txt.begin(), published_txt.end());
  rdata.push_back(uint8_t(key.size()));
  rdata.insert(rdata.end(), key.begin(), key.end());
  if (rdata.size() > UINT16_MAX) return false;
  ldns_rr* txt = nullptr;
  std::string line = instance_name(registry, zone) + " 0 IN TXT \"\"";
  if (ldns_rr_new_frm_str(&txt, line.c_str(), 0, nullptr, nullptr) != LDNS_STATUS_OK) {
    ldns_rr_free(txt);
    return false;
  }
  RrPtr rr(txt);
  while (ldns_rr_rd_count(rr.get()) > 0) ldns_rdf_deep_free(ldns_rr_pop_rdf(rr.get()));
  // Each character-string (a length byte, then that many bytes) is one rdf.
  for (size_t at = 0; at < rdata.size();) {
    size_t length = 1 + size_t(rdata[at]);
    if (at + length > rdata.size()) return false;  // published_txt is cut short
    ldns_rdf* field = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_STR, length, &rdata[at]);
    if (!field || !ldns_rr_push_rdf(rr.get(), field)) {
      ldns_rdf_deep_free(field);
      return false;
    }
    at += length;
  }
  ldns_pkt_push_rr(packet.get(), LDNS_SECTION_ANSWER, rr.release());  // owns it now
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
