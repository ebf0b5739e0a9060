#include "dnssd/candidate_update.h"

#include <ldns/ldns.h>

#include <cstdlib>

#include "dnssd/discovery_query.h"
#include "dnssd/ldns_ptr.h"

namespace wgp::dnssd {

namespace {

RdfPtr dname(std::string_view text) {
  std::string absolute(text);
  if (absolute.empty() || absolute.back() != '.') absolute += '.';
  return RdfPtr(ldns_dname_new_frm_str(absolute.c_str()));
}

// A record without RDATA yet; class ANY with none is what RFC 2136 §2.5.2
// and §2.5.3 deletes look like.
ldns_rr* new_rr(const ldns_rdf* owner, ldns_rr_type type, ldns_rr_class cls) {
  ldns_rr* rr = ldns_rr_new();
  ldns_rr_set_owner(rr, ldns_rdf_clone(owner));
  ldns_rr_set_type(rr, type);
  ldns_rr_set_class(rr, cls);
  ldns_rr_set_ttl(rr, 0);
  return rr;
}

// <instance> IN SRV 1 0 <port> <target>: a candidate SRV (priority 0 is the
// registry's own).
ldns_rr* new_srv(const ldns_rdf* instance, uint16_t port, const ldns_rdf* target) {
  ldns_rr* srv = new_rr(instance, LDNS_RR_TYPE_SRV, LDNS_RR_CLASS_IN);
  ldns_rr_push_rdf(srv, ldns_native2rdf_int16(LDNS_RDF_TYPE_INT16, 1));  // priority
  ldns_rr_push_rdf(srv, ldns_native2rdf_int16(LDNS_RDF_TYPE_INT16, 0));  // weight
  ldns_rr_push_rdf(srv, ldns_native2rdf_int16(LDNS_RDF_TYPE_INT16, port));
  ldns_rr_push_rdf(srv, ldns_rdf_clone(target));
  return srv;
}

ldns_rr* new_address(const ldns_rdf* owner, const IpAddress& a) {
  ldns_rr* rr = new_rr(owner, a.is_v4() ? LDNS_RR_TYPE_A : LDNS_RR_TYPE_AAAA, LDNS_RR_CLASS_IN);
  ldns_rr_push_rdf(rr, ldns_rdf_new_frm_data(a.is_v4() ? LDNS_RDF_TYPE_A : LDNS_RDF_TYPE_AAAA,
                                             a.size(), a.bytes.data()));
  return rr;
}

bool same(const ldns_rdf* a, const ldns_rdf* b) {
  return a && b && ldns_rdf_get_type(a) == LDNS_RDF_TYPE_DNAME &&
         ldns_rdf_get_type(b) == LDNS_RDF_TYPE_DNAME && ldns_dname_compare(a, b) == 0;
}

const ldns_rdf* rdata(const ldns_rr* rr, size_t i) {
  return i < ldns_rr_rd_count(rr) ? ldns_rr_rdf(rr, i) : nullptr;
}

}  // namespace

bool build_candidate_update(uint16_t id, const PublicKey& self, std::string_view zone,
                            const CandidateSet& set, std::vector<uint8_t>& out) {
  if (set.addresses.size() > kMaxCandidates) return false;
  RdfPtr zone_rdf = dname(zone.empty() ? "." : zone);
  RdfPtr instance = dname(instance_name(self, zone));
  RdfPtr host = dname(candidate_name(self, zone));
  RdfPtr mapped_host = dname(mapped_name(self, zone));
  if (!zone_rdf || !instance || !host || !mapped_host) return false;
  RrListPtr updates(ldns_rr_list_new());
  ldns_rr_list_push_rr(updates.get(), new_rr(host.get(), LDNS_RR_TYPE_ANY, LDNS_RR_CLASS_ANY));
  if (set.mapped)
    ldns_rr_list_push_rr(updates.get(),
                         new_rr(mapped_host.get(), LDNS_RR_TYPE_ANY, LDNS_RR_CLASS_ANY));
  ldns_rr_list_push_rr(updates.get(), new_rr(instance.get(), LDNS_RR_TYPE_SRV, LDNS_RR_CLASS_ANY));
  if (set.mapped) {
    ldns_rr_list_push_rr(updates.get(),
                         new_srv(instance.get(), set.mapped->port, mapped_host.get()));
    ldns_rr_list_push_rr(updates.get(), new_address(mapped_host.get(), set.mapped->address));
  }
  if (!set.addresses.empty()) {
    ldns_rr_list_push_rr(updates.get(), new_srv(instance.get(), set.port, host.get()));
    for (const IpAddress& a : set.addresses)
      ldns_rr_list_push_rr(updates.get(), new_address(host.get(), a));
  }
  // ldns_update_pkt_new takes the zone name and copies the lists.
  PacketPtr pkt(ldns_update_pkt_new(ldns_rdf_clone(zone_rdf.get()), LDNS_RR_CLASS_IN, nullptr,
                                    updates.get(), nullptr));
  if (!pkt) return false;
  ldns_pkt_set_id(pkt.get(), id);
  uint8_t* wire = nullptr;
  size_t size = 0;
  bool ok = ldns_pkt2wire(&wire, pkt.get(), &size) == LDNS_STATUS_OK;
  if (ok) out.insert(out.end(), wire, wire + size);
  std::free(wire);
  return ok;
}

ReadUpdate read_candidate_update(ByteView message, const PublicKey& sender, std::string_view zone) {
  ReadUpdate result;
  if (message.size() < 12) return result;
  result.id = load_be16(message.data());
  ldns_pkt* raw = nullptr;
  if (ldns_wire2pkt(&raw, message.data(), message.size()) != LDNS_STATUS_OK) {
    ldns_pkt_free(raw);
    return result;
  }
  PacketPtr pkt(raw);
  if (ldns_pkt_get_opcode(pkt.get()) != LDNS_PACKET_UPDATE || ldns_pkt_qr(pkt.get())) return result;
  RdfPtr zone_rdf = dname(zone.empty() ? "." : zone);
  RdfPtr instance = dname(instance_name(sender, zone));
  RdfPtr host = dname(candidate_name(sender, zone));
  RdfPtr mapped_host = dname(mapped_name(sender, zone));
  if (!zone_rdf || !instance || !host || !mapped_host) return result;

  // ZONE section (ldns: question): exactly one SOA of our zone.
  const ldns_rr_list* zones = ldns_pkt_question(pkt.get());
  if (!zones || ldns_rr_list_rr_count(zones) != 1) return result;
  const ldns_rr* zrr = ldns_rr_list_rr(zones, 0);
  if (ldns_rr_get_type(zrr) != LDNS_RR_TYPE_SOA) return result;
  if (!same(ldns_rr_owner(zrr), zone_rdf.get()) || ldns_rr_get_class(zrr) != LDNS_RR_CLASS_IN) {
    result.verdict = UpdateVerdict::kNotZone;
    return result;
  }
  // PREREQUISITE section (ldns: answer): not supported.
  if (const ldns_rr_list* pre = ldns_pkt_answer(pkt.get()); pre && ldns_rr_list_rr_count(pre)) {
    result.verdict = UpdateVerdict::kRefused;
    return result;
  }
  // UPDATE section (ldns: authority).
  CandidateSet set;
  bool have_srv = false;
  std::optional<uint16_t> mapped_port;
  std::optional<IpAddress> mapped_address;
  const ldns_rr_list* updates = ldns_pkt_authority(pkt.get());
  for (size_t i = 0; updates && i < ldns_rr_list_rr_count(updates); ++i) {
    const ldns_rr* rr = ldns_rr_list_rr(updates, i);
    const ldns_rdf* owner = ldns_rr_owner(rr);
    const ldns_rr_type type = ldns_rr_get_type(rr);
    const ldns_rr_class cls = ldns_rr_get_class(rr);
    auto refuse = [&] {
      result.verdict = UpdateVerdict::kRefused;
      return result;
    };
    if (cls == LDNS_RR_CLASS_ANY) {  // a delete: of our candidate names only
      if (ldns_rr_rd_count(rr) != 0) return refuse();
      if (same(owner, host.get()) && type == LDNS_RR_TYPE_ANY) continue;
      if (same(owner, mapped_host.get()) && type == LDNS_RR_TYPE_ANY) continue;
      if (same(owner, instance.get()) && type == LDNS_RR_TYPE_SRV) continue;
      return refuse();
    }
    if (cls != LDNS_RR_CLASS_IN) return refuse();
    if (type == LDNS_RR_TYPE_SRV && same(owner, instance.get())) {
      const ldns_rdf* priority = rdata(rr, 0);
      const ldns_rdf* port = rdata(rr, 2);
      const ldns_rdf* target = rdata(rr, 3);
      if (!priority || !port || !target || ldns_rdf_size(priority) != 2 || ldns_rdf_size(port) != 2)
        return result;  // FORMERR
      // Priority 0 is the registry's own (the observed endpoint).
      const uint16_t number = ldns_rdf2native_int16(port);
      if (ldns_rdf2native_int16(priority) == 0 || number == 0) return refuse();
      if (same(target, host.get()) && !have_srv) {
        set.port = number;
        have_srv = true;
      } else if (same(target, mapped_host.get()) && !mapped_port) {
        mapped_port = number;
      } else {
        return refuse();
      }
      continue;
    }
    const bool at_host = same(owner, host.get()), at_mapped = same(owner, mapped_host.get());
    if ((type == LDNS_RR_TYPE_A || type == LDNS_RR_TYPE_AAAA) && (at_host || at_mapped)) {
      const ldns_rdf* a = rdata(rr, 0);
      const size_t size = type == LDNS_RR_TYPE_A ? 4 : 16;
      if (!a || ldns_rdf_size(a) != size) return result;  // FORMERR
      IpAddress address =
          size == 4 ? IpAddress::v4(ldns_rdf_data(a)) : IpAddress::v6(ldns_rdf_data(a));
      if (address == IpAddress{address.family, {}}) return refuse();
      if (at_mapped) {
        if (mapped_address) return refuse();  // one mapping
        mapped_address = address;
        continue;
      }
      if (set.addresses.size() >= kMaxCandidates) return refuse();
      set.addresses.push_back(address);
      continue;
    }
    return refuse();
  }
  // Addresses without a port, or a port without addresses, say nothing usable.
  if (have_srv != !set.addresses.empty()) return result;                     // FORMERR
  if (mapped_port.has_value() != mapped_address.has_value()) return result;  // FORMERR
  if (mapped_port) set.mapped = Endpoint{*mapped_address, *mapped_port};
  result.verdict = UpdateVerdict::kOk;
  result.set = std::move(set);
  return result;
}

void build_update_response(uint16_t id, uint8_t rcode, std::vector<uint8_t>& out) {
  size_t at = out.size();
  out.resize(at + 12, 0);
  store_be16(&out[at], id);
  out[at + 2] = uint8_t(0x80 | (kOpcodeUpdate << 3));
  out[at + 3] = uint8_t(rcode & 0x0F);
}

bool is_update_response(ByteView message, uint8_t* rcode) {
  if (message.size() < 12 || !(message[2] & 0x80) || ((message[2] >> 3) & 0x0F) != kOpcodeUpdate)
    return false;
  if (rcode) *rcode = message[3] & 0x0F;
  return true;
}

}  // namespace wgp::dnssd
