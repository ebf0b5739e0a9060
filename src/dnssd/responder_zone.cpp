#include "dnssd/responder_zone.h"

#include <ldns/ldns.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include "dnssd/base32.h"
#include "dnssd/discovery_query.h"
#include "dnssd/peer_txt.h"
#include "dnssd/responder_query.h"

namespace wgp::dnssd {

namespace {

constexpr std::string_view kServiceLabel = "_wireguard";
constexpr std::string_view kProtoLabel = "_udp";

std::vector<uint8_t> prepend_label(std::string_view label, ByteView suffix) {
  std::vector<uint8_t> out(1 + label.size() + suffix.size());
  out[0] = uint8_t(label.size());
  std::memcpy(out.data() + 1, label.data(), label.size());
  std::memcpy(out.data() + 1 + label.size(), suffix.data(), suffix.size());
  return out;
}

// Owns the ldns objects built for one answer; frees them on every path.
struct RrList {
  std::vector<ldns_rr*> rrs;
  RrList() = default;
  RrList(const RrList&) = delete;
  RrList& operator=(const RrList&) = delete;
  ~RrList() {
    for (ldns_rr* rr : rrs) ldns_rr_free(rr);
  }
  // Appends one of the zone's records (zone_records.cpp made it).
  void push(const WireRecord& r) {
    ldns_rr* rr = nullptr;
    size_t pos = 0;
    if (ldns_wire2rr(&rr, r.wire.data(), r.wire.size(), &pos, LDNS_SECTION_ANSWER) ==
        LDNS_STATUS_OK)
      rrs.push_back(rr);
    else
      ldns_rr_free(rr);
  }
};

ldns_rr* question_rr(ByteView owner, uint16_t type) {
  ldns_rr* rr = ldns_rr_new();
  ldns_rr_set_owner(rr, ldns_dname_new_frm_data(uint16_t(owner.size()), owner.data()));
  ldns_rr_set_type(rr, ldns_rr_type(type));
  ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
  ldns_rr_set_question(rr, true);
  return rr;
}

// Serializes a response holding the first `answers` records of ANSWER.
std::vector<uint8_t> to_wire(ByteView qname, uint16_t qtype, uint8_t rcode, EdnsReply edns,
                             const RrList& answer, size_t answers, const RrList* authority,
                             const RrList* additional, bool tc) {
  ldns_pkt* pkt = ldns_pkt_new();
  ldns_pkt_set_id(pkt, 0);
  ldns_pkt_set_qr(pkt, true);
  ldns_pkt_set_aa(pkt, true);
  ldns_pkt_set_tc(pkt, tc);
  ldns_pkt_set_opcode(pkt, LDNS_PACKET_QUERY);
  ldns_pkt_set_rcode(pkt, rcode);
  ldns_pkt_push_rr(pkt, LDNS_SECTION_QUESTION, question_rr(qname, qtype));
  for (size_t i = 0; i < answers; ++i) {
    ldns_pkt_push_rr(pkt, LDNS_SECTION_ANSWER, ldns_rr_clone(answer.rrs[i]));
  }
  if (authority) {
    for (ldns_rr* rr : authority->rrs)
      ldns_pkt_push_rr(pkt, LDNS_SECTION_AUTHORITY, ldns_rr_clone(rr));
  }
  if (additional) {
    for (ldns_rr* rr : additional->rrs) {
      ldns_pkt_push_rr(pkt, LDNS_SECTION_ADDITIONAL, ldns_rr_clone(rr));
    }
  }
  if (edns.present) {  // ldns appends the OPT record when a UDP size is set
    ldns_pkt_set_edns_udp_size(pkt, kAdvertisedUdpSize);
    ldns_pkt_set_edns_do(pkt, edns.do_bit);
  }
  uint8_t* wire = nullptr;
  size_t size = 0;
  std::vector<uint8_t> out;
  if (ldns_pkt2wire(&wire, pkt, &size) == LDNS_STATUS_OK) out.assign(wire, wire + size);
  std::free(wire);
  ldns_pkt_free(pkt);
  return out;
}

}  // namespace

ZoneView::ZoneView(std::string_view zone) {
  std::string text(zone);
  std::transform(text.begin(), text.end(), text.begin(),
                 [](char c) { return c >= 'A' && c <= 'Z' ? char(c + 32) : c; });
  if (text.empty() || text.back() != '.') text.push_back('.');
  if (text != ".") {
    size_t start = 0;
    while (start < text.size()) {
      size_t dot = text.find('.', start);
      size_t len = dot - start;
      if (len == 0 || len > kMaxLabel) throw std::invalid_argument("bad zone name: " + text);
      zone_wire_.push_back(uint8_t(len));
      zone_wire_.insert(zone_wire_.end(), text.begin() + start, text.begin() + dot);
      start = dot + 1;
    }
  }
  zone_wire_.push_back(0);
  // The longest name we publish: <56>._wireguard._udp.<zone>.
  if (1 + kPeerLabelSize + 1 + kServiceLabel.size() + 1 + kProtoLabel.size() + zone_wire_.size() >
      kMaxNameWire) {
    throw std::invalid_argument("zone name too long for DNS-SD names below it: " + text);
  }
  zone_text_ = text;
  udp_wire_ = prepend_label(kProtoLabel, zone_wire_);
  service_wire_ = prepend_label(kServiceLabel, udp_wire_);
  hostmaster_wire_ = prepend_label("hostmaster", zone_wire_);
}

namespace {
std::string lower_label(const PublicKey& key) {
  std::string label = peer_label(key);
  std::transform(label.begin(), label.end(), label.begin(),
                 [](char c) { return c >= 'A' && c <= 'Z' ? char(c + 32) : c; });
  return label;
}
}  // namespace

void ZoneView::set_peers(std::vector<PublishedPeer> peers) {
  peers_.clear();
  by_label_.clear();
  by_name_.clear();
  local_records_ = false;
  for (PublishedPeer& p : peers) upsert_peer(std::move(p));
}

void ZoneView::forget_name(const Entry& e) {
  if (e.peer.name.empty()) return;
  if (auto it = by_name_.find(e.peer.name);
      it != by_name_.end() && it->second == lower_label(e.peer.key))
    by_name_.erase(it);
}

void ZoneView::upsert_peer(PublishedPeer p) {
  std::string label = peer_label(p.key);
  std::vector<uint8_t> host = prepend_label(label, zone_wire_);
  std::vector<uint8_t> candidate_host = prepend_label(kCandidateLabel, host);
  std::vector<uint8_t> mapped_host = prepend_label(kMappedLabel, host);
  std::vector<uint8_t> named_host =
      p.name.empty() ? std::vector<uint8_t>() : prepend_label(p.name, zone_wire_);
  std::vector<uint8_t> txt = build_peer_txt({p.key, p.allowed, p.name});
  local_records_ |= p.at_local_address;
  Entry e{std::move(p),           prepend_label(label, service_wire_),
          std::move(host),        std::move(candidate_host),
          std::move(mapped_host), std::move(named_host),
          std::move(txt)};
  std::string lower = lower_label(e.peer.key);
  auto [it, fresh] = by_label_.emplace(lower, peers_.size());
  if (fresh) {
    peers_.push_back(std::move(e));
  } else {
    forget_name(peers_[it->second]);
    peers_[it->second] = std::move(e);
  }
  // A Name points at the key's label, so no index moves with it (remove_peer).
  if (const std::string& name = peers_[it->second].peer.name; !name.empty()) by_name_[name] = lower;
}

void ZoneView::remove_peer(const PublicKey& key) {
  auto it = by_label_.find(lower_label(key));
  if (it == by_label_.end()) return;
  size_t at = it->second;
  forget_name(peers_[at]);
  by_label_.erase(it);
  if (at + 1 != peers_.size()) {
    // The last entry takes the hole: no other index moves.
    peers_[at] = std::move(peers_.back());
    by_label_[lower_label(peers_[at].peer.key)] = at;
  }
  peers_.pop_back();
}

bool ZoneView::set_candidates(const PublicKey& key, uint16_t port, std::vector<IpAddress> addresses,
                              std::optional<Endpoint> mapped) {
  auto it = by_label_.find(lower_label(key));
  if (it == by_label_.end()) return false;
  PublishedPeer& p = peers_[it->second].peer;
  p.candidate_port = addresses.empty() ? 0 : port;
  p.candidates = std::move(addresses);
  p.mapped = mapped;
  return true;
}

NameMatch ZoneView::match(ByteView name) const {
  size_t zn = zone_wire_.size();
  if (name.size() < zn || !std::equal(zone_wire_.begin(), zone_wire_.end(), name.end() - zn)) {
    return {NameKind::kOutside};
  }
  // Collect the labels in front of the zone; the suffix must start on a label.
  std::string_view labels[4];
  size_t count = 0, pos = 0, prefix = name.size() - zn;
  while (pos < prefix) {
    size_t len = name[pos];
    if (count < 4)
      labels[count] = std::string_view(reinterpret_cast<const char*>(&name[pos + 1]), len);
    ++count;
    pos += 1 + len;
  }
  if (pos != prefix) return {NameKind::kOutside};  // the match was inside a label
  auto peer = [&](std::string_view label, NameKind kind) -> NameMatch {
    auto it = by_label_.find(label);
    if (it == by_label_.end()) return {NameKind::kMissing};
    return {kind, it->second};
  };
  switch (count) {
    case 0:
      return {NameKind::kApex};
    case 1: {
      if (labels[0] == kProtoLabel) return {NameKind::kUdp};
      // A Name is a host label, a key's label has '=': they never collide.
      if (auto it = by_name_.find(labels[0]); it != by_name_.end())
        if (auto at = by_label_.find(it->second); at != by_label_.end())
          return {NameKind::kName, at->second};
      return peer(labels[0], NameKind::kHost);
    }
    case 2: {
      if (labels[0] == kServiceLabel && labels[1] == kProtoLabel) return {NameKind::kService};
      if (labels[0] == kMappedLabel) {
        NameMatch m = peer(labels[1], NameKind::kMapped);
        // The name exists only while the peer has a mapping.
        if (m.kind == NameKind::kMapped && !peers_[m.peer].peer.mapped) return {NameKind::kMissing};
        return m;
      }
      if (labels[0] != kCandidateLabel) return {NameKind::kMissing};
      NameMatch m = peer(labels[1], NameKind::kCandidates);
      // The name exists only while the peer has candidates.
      if (m.kind == NameKind::kCandidates && peers_[m.peer].peer.candidates.empty())
        return {NameKind::kMissing};
      return m;
    }
    case 3:
      if (labels[1] == kServiceLabel && labels[2] == kProtoLabel) {
        return peer(labels[0], NameKind::kInstance);
      }
      return {NameKind::kMissing};
    default:
      return {NameKind::kMissing};
  }
}

std::vector<uint8_t> ZoneView::build(ByteView name, NameMatch m, uint16_t qtype, EdnsReply edns,
                                     size_t limit, std::optional<PublicKey>* asked_about,
                                     const std::optional<IpAddress>& local) const {
  ByteView qname = name;
  const Entry* e = (m.kind == NameKind::kInstance || m.kind == NameKind::kHost ||
                    m.kind == NameKind::kCandidates || m.kind == NameKind::kMapped)
                       ? &peers_[m.peer]
                       : nullptr;
  switch (m.kind) {
    case NameKind::kApex:
      qname = zone_wire_;
      break;
    case NameKind::kUdp:
      qname = udp_wire_;
      break;
    case NameKind::kService:
      qname = service_wire_;
      break;
    case NameKind::kInstance:
      qname = e->instance;
      break;
    case NameKind::kHost:
      qname = e->host;
      break;
    case NameKind::kCandidates:
      qname = e->candidate_host;
      break;
    case NameKind::kMapped:
      qname = e->mapped_host;
      break;
    case NameKind::kName:  // not a lookup of the peer's endpoint: no `asked_about`
      qname = peers_[m.peer].named_host;
      break;
    default:
      break;
  }
  bool any = qtype == kTypeAny;
  RrList answer, additional;
  RecordList here, extra;
  records_at(m, here, local);
  bool srv_answered = false;
  for (size_t i = 0; i < here.size(); ++i) {
    WireRecord r = here[i];
    if (!any && r.type != qtype) continue;
    answer.push(r);
    if (r.type != kTypeSrv || r.rdata.size() <= 6) continue;
    srv_answered = true;
    // The target's addresses go to ADDITIONAL, and first: wgsd-client reads
    // Extra[0]. The target is one of our names; match() wants it lower case.
    ByteView target = r.rdata.subspan(6);
    uint8_t lower[kMaxNameWire];
    lower_name(target.data(), target.size(), lower);
    extra.clear();
    records_at(match(ByteView(lower, target.size())), extra, local);
    for (size_t k = 0; k < extra.size(); ++k)
      if (extra[k].type == kTypeA || extra[k].type == kTypeAaaa) additional.push(extra[k]);
  }
  // Then the instance's TXT, as wgsd adds it after the address (§11); an
  // ANY answer holds it already.
  if (srv_answered && !any)
    for (size_t i = 0; i < here.size(); ++i)
      if (here[i].type == kTypeTxt) additional.push(here[i]);

  bool nxdomain = m.kind == NameKind::kMissing;
  RrList authority;
  if (answer.rrs.empty()) {  // NXDOMAIN or NODATA: the SOA tells how long to cache (not at all)
    RecordList soa;
    soa_record(serial_, soa);
    authority.push(soa[0]);
  }
  uint8_t rcode = nxdomain ? kRcodeNxDomain : kRcodeNoError;
  if (e && !answer.rrs.empty() && (qtype == kTypeSrv || qtype == kTypeA || qtype == kTypeAaaa)) {
    *asked_about = e->peer.key;
  }

  size_t n = answer.rrs.size();
  auto wire = to_wire(qname, qtype, rcode, edns, answer, n, &authority, &additional, false);
  if (wire.size() <= limit) return wire;
  // RFC 2181 §9: ADDITIONAL is optional, dropping it needs no TC.
  wire = to_wire(qname, qtype, rcode, edns, answer, n, &authority, nullptr, false);
  if (wire.size() <= limit) return wire;
  // Keep the longest prefix of ANSWER that fits (binary search; misses only)
  // and set TC, so that a UDP-only client still gets some peers.
  size_t lo = 0, hi = n;  // lo fits (checked below), hi does not
  wire = to_wire(qname, qtype, rcode, edns, answer, 0, nullptr, nullptr, true);
  if (wire.size() > limit) return {};
  while (hi - lo > 1) {
    size_t mid = (lo + hi) / 2;
    auto w = to_wire(qname, qtype, rcode, edns, answer, mid, nullptr, nullptr, true);
    if (w.size() <= limit) {
      lo = mid;
      wire = std::move(w);
    } else {
      hi = mid;
    }
  }
  return wire;
}

}  // namespace wgp::dnssd
