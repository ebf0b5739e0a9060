// The records of the registry's zone (responder_zone.h has the table): the
// one place they are made, for answers and zone transfers alike. A record
// type added to the zone is added here, in records_at(), and at a new kind of
// name also to match() and all_records(); answers and transfers then carry
// it without further change.
#include "dnssd/peer_txt.h"
#include "dnssd/responder_query.h"
#include "dnssd/responder_zone.h"

namespace wgp::dnssd {

namespace {

// SOA timers. The registry NOTIFYs its secondaries of every change
// (discovery/zone_publisher.h); REFRESH and RETRY bound how long a lost
// NOTIFY leaves one behind (Knot refreshes no more often than every 2 s
// anyway). EXPIRE: a secondary cut off from the registry for a day stops
// answering rather than hand out endpoints that long gone. MINIMUM 0: no
// negative caching (RFC 2308 §5), a peer may appear any moment.
constexpr uint32_t kSoaRefresh = 60, kSoaRetry = 10, kSoaExpire = 86400, kSoaMinimum = 0;
constexpr uint32_t kTtl = 0;  // endpoints move

void append(std::vector<uint8_t>& out, ByteView bytes) {
  out.insert(out.end(), bytes.begin(), bytes.end());
}

}  // namespace

void ZoneView::set_name_servers(std::vector<std::vector<uint8_t>> names) {
  name_servers_ = std::move(names);
}

void ZoneView::soa_record(uint32_t serial, RecordList& out) const {
  std::vector<uint8_t> rdata;
  rdata.reserve(zone_wire_.size() + hostmaster_wire_.size() + 20);
  append(rdata, zone_wire_);        // MNAME
  append(rdata, hostmaster_wire_);  // RNAME
  for (uint32_t v : {serial, kSoaRefresh, kSoaRetry, kSoaExpire, kSoaMinimum}) {
    uint8_t field[4];
    store_be32(field, v);
    append(rdata, field);
  }
  out.add(zone_wire_, kTypeSoa, kTtl, rdata);
}

std::optional<IpAddress> ZoneView::address_of(const Entry& e,
                                              const std::optional<IpAddress>& local) const {
  if (!e.peer.at_local_address) return e.peer.endpoint.address;
  return local;
}

void ZoneView::records_at(NameMatch m, RecordList& out,
                          const std::optional<IpAddress>& local) const {
  switch (m.kind) {
    case NameKind::kApex:
      soa_record(serial_, out);
      if (name_servers_.empty()) out.add(zone_wire_, kTypeNs, kTtl, zone_wire_);
      for (const std::vector<uint8_t>& ns : name_servers_) out.add(zone_wire_, kTypeNs, kTtl, ns);
      break;
    case NameKind::kService:
      for (const Entry& p : peers_)
        if (address_of(p, local)) out.add(service_wire_, kTypePtr, kTtl, p.instance);
      break;
    case NameKind::kInstance:
    case NameKind::kHost: {
      const Entry& e = peers_[m.peer];
      std::optional<IpAddress> a = address_of(e, local);
      if (!a) break;
      ByteView owner = m.kind == NameKind::kInstance ? ByteView(e.instance) : ByteView(e.host);
      if (m.kind == NameKind::kInstance) {
        // Priority 0: the endpoint the registry sees, first (the stock
        // wgsd-client reads Answer[0]); weight 0; the target, never
        // compressed (RFC 2782).
        std::vector<uint8_t> srv(6);
        store_be16(srv.data() + 4, e.peer.endpoint.port);
        append(srv, e.host);
        out.add(owner, kTypeSrv, kTtl, srv);
        if (e.peer.mapped) {  // priority 1: its port mapping, tried first of the rest (§9)
          std::vector<uint8_t> mapped(6);
          store_be16(mapped.data(), 1);
          store_be16(mapped.data() + 4, e.peer.mapped->port);
          append(mapped, e.mapped_host);
          out.add(owner, kTypeSrv, kTtl, mapped);
        }
        if (!e.peer.candidates.empty()) {  // priority 1: the peer's own addresses (§9)
          std::vector<uint8_t> own(6);
          store_be16(own.data(), 1);
          store_be16(own.data() + 4, e.peer.candidate_port);
          append(own, e.candidate_host);
          out.add(owner, kTypeSrv, kTtl, own);
        }
      }
      out.add(owner, a->is_v4() ? kTypeA : kTypeAaaa, kTtl, a->view());
      if (m.kind == NameKind::kInstance) out.add(owner, kTypeTxt, kTtl, e.txt);  // wgsd's (§11)
      break;
    }
    case NameKind::kCandidates:
      for (const IpAddress& a : peers_[m.peer].peer.candidates)
        out.add(peers_[m.peer].candidate_host, a.is_v4() ? kTypeA : kTypeAaaa, kTtl, a.view());
      break;
    case NameKind::kMapped:
      if (const auto& mapped = peers_[m.peer].peer.mapped) {
        const IpAddress& a = mapped->address;
        out.add(peers_[m.peer].mapped_host, a.is_v4() ? kTypeA : kTypeAaaa, kTtl, a.view());
      }
      break;
    case NameKind::kName: {  // the peer's tunnel addresses (§11)
      const Entry& e = peers_[m.peer];
      if (!address_of(e, local)) break;
      for (const IpPrefix& p : e.peer.allowed)
        if (p.is_host())
          out.add(e.named_host, p.address.is_v4() ? kTypeA : kTypeAaaa, kTtl, p.address.view());
      break;
    }
    case NameKind::kOutside:
    case NameKind::kMissing:
    case NameKind::kUdp:  // an empty non-terminal: exists, owns nothing
      break;
  }
}

void ZoneView::all_records(RecordList& out) const {
  // Every name that owns records (match() knows the same names).
  RecordList apex;
  records_at({NameKind::kApex}, apex);
  for (size_t i = 0; i < apex.size(); ++i)
    if (apex[i].type != kTypeSoa) out.add(apex[i]);
  records_at({NameKind::kService}, out);
  for (size_t i = 0; i < peers_.size(); ++i) {
    records_at({NameKind::kInstance, i}, out);
    records_at({NameKind::kHost, i}, out);
    records_at({NameKind::kMapped, i}, out);      // none without a mapping
    records_at({NameKind::kCandidates, i}, out);  // none when it registered none
    if (!peers_[i].named_host.empty()) records_at({NameKind::kName, i}, out);
  }
}

}  // namespace wgp::dnssd
