// The discovery client's queries and the parsing of the registry's answers.
// Messages go through ldns: ldns_pkt2wire to write, ldns_wire2pkt to read
// (it expands compressed names and checks every length against the input).
// Only the fixed 12-byte header is read by hand, before ldns, so that stray or
// spoofed datagrams are turned away cheaply.
#include "dnssd/discovery_query.h"

#include <ldns/ldns.h>

#include <algorithm>
#include <memory>

#include "dnssd/base32.h"
#include "dnssd/ldns_ptr.h"

namespace wgp::dnssd {
namespace {

constexpr size_t kHeaderSize = 12;
constexpr uint8_t kFlagQr = 0x80;    // header byte 2
constexpr uint8_t kFlagTc = 0x02;    // header byte 2
constexpr uint8_t kOpcodeShift = 3;  // header byte 2, bits 6..3
constexpr std::string_view kService = "_wireguard._udp";


// "example.net." for "example.net", "example.net." and "example.net.."; "" for the root.
std::string zone_suffix(std::string_view zone) {
  while (!zone.empty() && zone.back() == '.') zone.remove_suffix(1);
  return zone.empty() ? std::string() : std::string(zone) + ".";
}

// An absolute name made from text; nullptr for text ldns refuses.
RdfPtr dname(std::string_view text) {
  std::string absolute(text);
  if (absolute.empty() || absolute.back() != '.') absolute += '.';
  return RdfPtr(ldns_dname_new_frm_str(absolute.c_str()));
}

ByteView rdf_bytes(const ldns_rdf* rdf) { return ByteView(ldns_rdf_data(rdf), ldns_rdf_size(rdf)); }

// ASCII case-insensitive equality of two wire-form names. Length bytes are at
// most 63, below 'A', so folding every byte never confuses a length with a letter.
bool same_name(ByteView a, ByteView b) {
  auto fold = [](uint8_t c) { return uint8_t(c >= 'A' && c <= 'Z' ? c + 32 : c); };
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(),
                    [&](uint8_t x, uint8_t y) { return fold(x) == fold(y); });
}

bool same_name(const ldns_rdf* a, const ldns_rdf* b) {
  return a && b && ldns_rdf_get_type(a) == LDNS_RDF_TYPE_DNAME &&
         ldns_rdf_get_type(b) == LDNS_RDF_TYPE_DNAME && same_name(rdf_bytes(a), rdf_bytes(b));
}

enum class HeaderCheck { kOk, kMalformed, kWrongId, kTruncated };

// The hand-read part of a response: header present, id, QR, opcode QUERY, TC.
HeaderCheck check_header(ByteView response, uint16_t expected_id) {
  if (response.size() < kHeaderSize) return HeaderCheck::kMalformed;
  if (load_be16(&response[0]) != expected_id) return HeaderCheck::kWrongId;
  const uint8_t flags = response[2];
  if (!(flags & kFlagQr) || ((flags >> kOpcodeShift) & 0x0f) != LDNS_PACKET_QUERY) {
    return HeaderCheck::kMalformed;
  }
  return (flags & kFlagTc) ? HeaderCheck::kTruncated : HeaderCheck::kOk;
}

PacketPtr parse(ByteView response) {
  ldns_pkt* packet = nullptr;
  if (ldns_wire2pkt(&packet, response.data(), response.size()) != LDNS_STATUS_OK) {
    ldns_pkt_free(packet);
    return nullptr;
  }
  return PacketPtr(packet);
}

// True when `packet` has exactly one question: `name` `qtype` IN.
bool asks(const ldns_pkt* packet, const ldns_rdf* name, ldns_rr_type qtype) {
  const ldns_rr_list* questions = ldns_pkt_question(packet);
  if (!questions || ldns_rr_list_rr_count(questions) != 1) return false;
  const ldns_rr* q = ldns_rr_list_rr(questions, 0);
  return ldns_rr_get_type(q) == qtype && ldns_rr_get_class(q) == LDNS_RR_CLASS_IN &&
         same_name(ldns_rr_owner(q), name);
}

// The records of `list` (possibly null) of `type`, class IN, owned by `owner`.
template <typename Visit>
void for_each_record(const ldns_rr_list* list, const ldns_rdf* owner, ldns_rr_type type,
                     Visit&& visit) {
  if (!list) return;
  for (size_t i = 0; i < ldns_rr_list_rr_count(list); ++i) {
    const ldns_rr* rr = ldns_rr_list_rr(list, i);
    if (ldns_rr_get_type(rr) != type || ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN) continue;
    if (!same_name(ldns_rr_owner(rr), owner)) continue;
    if (!visit(rr)) return;
  }
}

// The SRV record's port and target when it has the shape RFC 2782 gives it.
bool srv_fields(const ldns_rr* rr, uint16_t& port, const ldns_rdf*& target) {
  if (ldns_rr_rd_count(rr) != 4) return false;
  const ldns_rdf* port_rdf = ldns_rr_rdf(rr, 2);
  target = ldns_rr_rdf(rr, 3);
  if (!port_rdf || !target || ldns_rdf_get_type(port_rdf) != LDNS_RDF_TYPE_INT16 ||
      ldns_rdf_size(port_rdf) != 2 || ldns_rdf_get_type(target) != LDNS_RDF_TYPE_DNAME) {
    return false;
  }
  port = ldns_rdf2native_int16(port_rdf);
  return true;
}

// The first usable A or AAAA record of `target` in `list`, in the message's
// order; records of the wrong size or with an unspecified address are skipped.
// Every usable A/AAAA address of `target` in `list`, in order, at most `max`.
std::vector<IpAddress> addresses_of(const ldns_rr_list* list, const ldns_rdf* target, size_t max) {
  std::vector<IpAddress> out;
  if (!list) return out;
  for (size_t i = 0; i < ldns_rr_list_rr_count(list) && out.size() < max; ++i) {
    const ldns_rr* rr = ldns_rr_list_rr(list, i);
    const ldns_rr_type type = ldns_rr_get_type(rr);
    if ((type != LDNS_RR_TYPE_A && type != LDNS_RR_TYPE_AAAA) ||
        ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN || !same_name(ldns_rr_owner(rr), target)) {
      continue;
    }
    const ldns_rdf* rdf = ldns_rr_rd_count(rr) == 1 ? ldns_rr_rdf(rr, 0) : nullptr;
    const size_t size = type == LDNS_RR_TYPE_A ? 4 : 16;
    if (!rdf || ldns_rdf_size(rdf) != size) continue;
    const IpAddress address =
        size == 4 ? IpAddress::v4(ldns_rdf_data(rdf)) : IpAddress::v6(ldns_rdf_data(rdf));
    if (address == IpAddress{address.family, {}}) continue;  // 0.0.0.0 or ::
    out.push_back(address);
  }
  return out;
}

std::optional<IpAddress> first_address(const ldns_rr_list* list, const ldns_rdf* target) {
  auto all = addresses_of(list, target, 1);
  if (all.empty()) return std::nullopt;
  return all.front();
}

AnswerStatus status_of(ldns_pkt_rcode rcode) {
  switch (rcode) {
    case LDNS_RCODE_NOERROR:
      return AnswerStatus::kOk;
    case LDNS_RCODE_NXDOMAIN:
      return AnswerStatus::kNxDomain;
    case LDNS_RCODE_REFUSED:
      return AnswerStatus::kRefused;
    default:
      return AnswerStatus::kServerError;
  }
}

}  // namespace

std::string service_name(std::string_view zone) {
  return std::string(kService) + "." + zone_suffix(zone);
}

std::string instance_name(const PublicKey& key, std::string_view zone) {
  return peer_label(key) + "." + service_name(zone);
}

std::string target_name(const PublicKey& key, std::string_view zone) {
  return peer_label(key) + "." + zone_suffix(zone);
}

std::string candidate_name(const PublicKey& key, std::string_view zone) {
  return std::string(kCandidateLabel) + "." + target_name(key, zone);
}

std::string mapped_name(const PublicKey& key, std::string_view zone) {
  return std::string(kMappedLabel) + "." + target_name(key, zone);
}

std::optional<PublicKey> key_from_instance_name(ByteView wire_name, std::string_view zone) {
  RdfPtr service = dname(service_name(zone));
  if (!service || wire_name.empty() || wire_name[0] != kPeerLabelSize) return std::nullopt;
  const size_t label_end = 1 + kPeerLabelSize;
  if (wire_name.size() != label_end + ldns_rdf_size(service.get())) return std::nullopt;
  if (!same_name(wire_name.subspan(label_end), rdf_bytes(service.get()))) return std::nullopt;
  return key_from_label(
      std::string_view(reinterpret_cast<const char*>(wire_name.data()) + 1, kPeerLabelSize));
}

bool build_question_message(const QuestionMessage& header, std::string_view name, uint16_t qtype,
                            std::vector<uint8_t>& out) {
  RdfPtr owner = dname(name);
  if (!owner) return false;
  PacketPtr packet(ldns_pkt_new());
  ldns_rr* question = ldns_rr_new();
  if (!packet || !question) {
    ldns_rr_free(question);
    return false;
  }
  ldns_rr_set_owner(question, owner.release());
  ldns_rr_set_type(question, ldns_rr_type(qtype));
  ldns_rr_set_class(question, LDNS_RR_CLASS_IN);
  ldns_rr_set_question(question, true);
  ldns_pkt_push_rr(packet.get(), LDNS_SECTION_QUESTION, question);  // owns it now
  ldns_pkt_set_id(packet.get(), header.id);
  ldns_pkt_set_qr(packet.get(), header.response);
  ldns_pkt_set_opcode(packet.get(), ldns_pkt_opcode(header.opcode));
  ldns_pkt_set_aa(packet.get(), header.authoritative);
  ldns_pkt_set_rd(packet.get(), false);
  if (header.edns) ldns_pkt_set_edns_udp_size(packet.get(), kEdnsUdpSize);

  return append_wire(packet.get(), out);
}

bool build_query(uint16_t id, std::string_view name, uint16_t qtype, std::vector<uint8_t>& out) {
  return build_question_message(QuestionMessage{.id = id}, name, qtype, out);
}

SrvAnswer parse_srv_response(ByteView response, uint16_t expected_id, const PublicKey& key,
                             std::string_view zone) {
  switch (check_header(response, expected_id)) {
    case HeaderCheck::kOk:
      break;
    case HeaderCheck::kMalformed:
      return {AnswerStatus::kMalformed, {}};
    case HeaderCheck::kWrongId:
      return {AnswerStatus::kWrongId, {}};
    case HeaderCheck::kTruncated:
      return {AnswerStatus::kTruncated, {}};
  }
  PacketPtr packet = parse(response);
  if (!packet) return {AnswerStatus::kMalformed, {}};
  RdfPtr instance = dname(instance_name(key, zone));
  RdfPtr short_target = dname(target_name(key, zone));
  if (!instance || !short_target) return {AnswerStatus::kMalformed, {}};  // a zone ldns refuses
  if (!asks(packet.get(), instance.get(), LDNS_RR_TYPE_SRV)) {
    return {AnswerStatus::kWrongQuestion, {}};
  }
  const AnswerStatus status = status_of(ldns_pkt_get_rcode(packet.get()));
  if (status != AnswerStatus::kOk) return {status, {}};

  RdfPtr candidates = dname(candidate_name(key, zone));
  RdfPtr mapped_host = dname(mapped_name(key, zone));
  if (!candidates || !mapped_host) return {AnswerStatus::kMalformed, {}};
  SrvAnswer answer{AnswerStatus::kNoData, {}};
  std::vector<Endpoint> found;     // the peer's own addresses (candidate SRVs)
  std::optional<Endpoint> mapped;  // its port mapping (the mapped SRV)
  // An SRV target's address: in ADDITIONAL, else in ANSWER.
  auto target_address = [&](const ldns_rdf* target) {
    auto address = first_address(ldns_pkt_additional(packet.get()), target);
    return address ? address : first_address(ldns_pkt_answer(packet.get()), target);
  };
  for_each_record(
      ldns_pkt_answer(packet.get()), instance.get(), LDNS_RR_TYPE_SRV, [&](const ldns_rr* rr) {
        uint16_t port = 0;
        const ldns_rdf* target = nullptr;
        if (!srv_fields(rr, port, target) || port == 0) return true;
        if (same_name(target, candidates.get())) {
          auto in = addresses_of(ldns_pkt_additional(packet.get()), target, kMaxCandidates);
          if (in.empty()) in = addresses_of(ldns_pkt_answer(packet.get()), target, kMaxCandidates);
          for (const IpAddress& a : in)
            if (found.size() < kMaxCandidates) found.push_back(Endpoint{a, port});
          return true;
        }
        if (same_name(target, mapped_host.get())) {
          auto address = target_address(target);
          if (address && !mapped) mapped = Endpoint{*address, port};
          return true;
        }
        if (answer.peer) return true;  // the first public SRV wins
        if (!same_name(target, short_target.get()) && !same_name(target, instance.get())) {
          return true;
        }
        auto address = target_address(target);
        if (!address) return true;
        answer = {AnswerStatus::kOk, DiscoveredPeer{key, Endpoint{*address, port}, {}}};
        return true;
      });
  if (answer.peer) {
    answer.peer->candidates = std::move(found);
    answer.peer->mapped = mapped;
  }
  return answer;
}

std::optional<std::vector<PublicKey>> parse_ptr_response(ByteView response, uint16_t expected_id,
                                                         std::string_view zone) {
  const HeaderCheck header = check_header(response, expected_id);
  if (header != HeaderCheck::kOk && header != HeaderCheck::kTruncated) return std::nullopt;
  PacketPtr packet = parse(response);
  RdfPtr service = dname(service_name(zone));
  if (!packet || !service || !asks(packet.get(), service.get(), LDNS_RR_TYPE_PTR)) {
    return std::nullopt;
  }
  std::vector<PublicKey> keys;
  const AnswerStatus status = status_of(ldns_pkt_get_rcode(packet.get()));
  if (status == AnswerStatus::kNxDomain) return keys;
  if (status != AnswerStatus::kOk) return std::nullopt;
  for_each_record(
      ldns_pkt_answer(packet.get()), service.get(), LDNS_RR_TYPE_PTR, [&](const ldns_rr* rr) {
        const ldns_rdf* target = ldns_rr_rd_count(rr) == 1 ? ldns_rr_rdf(rr, 0) : nullptr;
        if (!target || ldns_rdf_get_type(target) != LDNS_RDF_TYPE_DNAME) return true;
        auto key = key_from_instance_name(rdf_bytes(target), zone);
        if (key && std::find(keys.begin(), keys.end(), *key) == keys.end()) {
          keys.push_back(*key);
        }
        return true;
      });
  return keys;
}

std::optional<uint16_t> response_id(ByteView datagram) {
  if (datagram.size() < kHeaderSize || !(datagram[2] & kFlagQr)) return std::nullopt;
  return load_be16(&datagram[0]);
}

}  // namespace wgp::dnssd
