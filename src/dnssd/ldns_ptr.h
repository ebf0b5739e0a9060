// Owning pointers for the ldns objects the DNS code builds and parses, so
// every path frees them.
#pragma once

#include <ldns/ldns.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <vector>

namespace wgp::dnssd {

struct LdnsPacketFree {
  void operator()(ldns_pkt* p) const { ldns_pkt_free(p); }
};
struct LdnsRdfFree {
  void operator()(ldns_rdf* r) const { ldns_rdf_deep_free(r); }
};
struct LdnsRrFree {
  void operator()(ldns_rr* r) const { ldns_rr_free(r); }
};
struct LdnsListFree {
  void operator()(ldns_rr_list* l) const { ldns_rr_list_deep_free(l); }
};
using PacketPtr = std::unique_ptr<ldns_pkt, LdnsPacketFree>;
using RdfPtr = std::unique_ptr<ldns_rdf, LdnsRdfFree>;
using RrPtr = std::unique_ptr<ldns_rr, LdnsRrFree>;
using RrListPtr = std::unique_ptr<ldns_rr_list, LdnsListFree>;

// Appends `packet` in wire format to `out`; false (and `out` unchanged) when
// ldns cannot write it.
inline bool append_wire(const ldns_pkt* packet, std::vector<uint8_t>& out) {
  uint8_t* wire = nullptr;
  size_t size = 0;
  if (ldns_pkt2wire(&wire, packet, &size) != LDNS_STATUS_OK || !wire) {
    free(wire);
    return false;
  }
  out.insert(out.end(), wire, wire + size);
  free(wire);
  return true;
}

}  // namespace wgp::dnssd
