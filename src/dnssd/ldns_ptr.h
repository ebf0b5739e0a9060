// Owning pointers for the ldns objects the DNS code builds and parses, so
// every path frees them.
#pragma once

#include <ldns/ldns.h>

#include <memory>

namespace wgp::dnssd {

struct LdnsPacketFree {
  void operator()(ldns_pkt* p) const { ldns_pkt_free(p); }
};
struct LdnsRdfFree {
  void operator()(ldns_rdf* r) const { ldns_rdf_deep_free(r); }
};
struct LdnsListFree {
  void operator()(ldns_rr_list* l) const { ldns_rr_list_deep_free(l); }
};
using PacketPtr = std::unique_ptr<ldns_pkt, LdnsPacketFree>;
using RdfPtr = std::unique_ptr<ldns_rdf, LdnsRdfFree>;
using RrListPtr = std::unique_ptr<ldns_rr_list, LdnsListFree>;

}  // namespace wgp::dnssd
