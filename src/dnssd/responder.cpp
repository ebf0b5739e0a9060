#include "dnssd/responder.h"

#include <algorithm>
#include <cstring>

namespace wgp::dnssd {

namespace {

constexpr size_t kPlainDnsLimit = 512;  // RFC 1035 §4.2.1
constexpr size_t kOptRecordSize = 11;   // root owner, type, class, TTL, empty RDATA
constexpr size_t kSizeClasses[] = {512, 1232, 1400, 1452, 4096, 8192, 16384, 32768, 65535};

// The largest size class not above `limit`: caching by class bounds the
// variants per question. Below 512 (only when `out` is that small) exact.
size_t size_class(size_t limit) {
  if (limit < kSizeClasses[0]) return limit;
  size_t c = kSizeClasses[0];
  for (size_t s : kSizeClasses) {
    if (s <= limit) c = s;
  }
  return c;
}

bool is_transfer_or_mail(uint16_t qtype) {
  return qtype == kTypeAxfr || qtype == kTypeIxfr || qtype == kTypeMailb || qtype == kTypeMaila;
}

}  // namespace

Responder::Responder(std::string zone) : zone_(zone) { key_.reserve(kMaxNameWire + 8); }

void Responder::set_peers(std::vector<PublishedPeer> peers) {
  zone_.set_peers(std::move(peers));
  cache_.clear();
}

bool Responder::set_candidates(const PublicKey& key, uint16_t port,
                               std::vector<IpAddress> addresses, std::optional<Endpoint> mapped) {
  if (!zone_.set_candidates(key, port, std::move(addresses), mapped)) return false;
  cache_.clear();
  return true;
}

void Responder::upsert_peer(PublishedPeer peer) {
  zone_.upsert_peer(std::move(peer));
  cache_.clear();
}

void Responder::remove_peer(const PublicKey& key) {
  zone_.remove_peer(key);
  cache_.clear();
}

void Responder::set_serial(uint32_t serial) {
  if (serial == zone_.serial()) return;
  zone_.set_serial(serial);
  cache_.clear();
}

void Responder::set_name_servers(std::vector<std::vector<uint8_t>> names) {
  zone_.set_name_servers(std::move(names));
  cache_.clear();
}

size_t Responder::finish(size_t length) {
  if (length) ++answered_;
  return length;
}

size_t Responder::write_error(const ParsedQuery& q, uint8_t rcode, bool with_question, size_t limit,
                              MutableByteView out) const {
  size_t question = with_question ? q.name_size + 4 : 0;
  size_t opt = q.has_edns ? kOptRecordSize : 0;
  if (kDnsHeaderBytes + question + opt > std::min(limit, out.size())) return 0;
  uint8_t* p = out.data();
  store_be16(p, q.id);
  // QR, the query's opcode and RD; CD copied (RFC 6840 §5.9); RCODE's low bits.
  p[2] = uint8_t(0x80 | (q.flags_hi & 0x78) | (q.flags_hi & 0x01));
  p[3] = uint8_t((q.flags_lo & 0x10) | (rcode & 0x0F));
  store_be16(p + 4, with_question ? 1 : 0);
  store_be16(p + 6, 0);
  store_be16(p + 8, 0);
  store_be16(p + 10, q.has_edns ? 1 : 0);
  size_t n = kDnsHeaderBytes;
  if (with_question) {
    std::memcpy(p + n, q.name.data(), q.name_size);
    n += q.name_size;
    store_be16(p + n, q.qtype);
    store_be16(p + n + 2, q.qclass);
    n += 4;
  }
  if (q.has_edns) {
    p[n] = 0;  // root owner
    store_be16(p + n + 1, kTypeOpt);
    store_be16(p + n + 3, kAdvertisedUdpSize);
    p[n + 5] = uint8_t(rcode >> 4);  // extended RCODE: the upper 8 bits
    p[n + 6] = 0;                    // version 0, the only one we speak
    p[n + 7] = q.edns_do ? 0x80 : 0;
    p[n + 8] = 0;
    store_be16(p + n + 9, 0);
    n += kOptRecordSize;
  }
  return n;
}

AnswerResult Responder::answer(ByteView query, QueryAccess access, MutableByteView out,
                               Transport transport, const std::optional<IpAddress>& local) {
  AnswerResult result;
  if (out.size() < kDnsHeaderBytes) return result;
  ParsedQuery& q = query_;
  switch (parse_query(query, q)) {
    case QueryParse::kDrop:
      return result;
    case QueryParse::kFormErr:
      // Header only: the question and OPT may be what is broken.
      q.has_edns = false;
      result.length = finish(write_error(q, kRcodeFormErr, false, out.size(), out));
      return result;
    case QueryParse::kOk:
      break;
  }
  size_t limit = q.has_edns ? std::max<size_t>(kPlainDnsLimit, q.edns_udp_size) : kPlainDnsLimit;
  if (transport == Transport::kStream) limit = out.size();
  limit = std::min(limit, out.size());
  auto error = [&](uint8_t rcode) {
    result.length = finish(write_error(q, rcode, true, limit, out));
    return result;
  };
  if (q.opcode() != kOpcodeQuery) return error(kRcodeNotImp);
  if (access == QueryAccess::kRefused) return error(kRcodeRefused);
  if (q.has_edns && q.edns_version > 0) return error(kRcodeBadVers);
  if (q.qclass != kClassIn) return error(kRcodeRefused);
  if (q.qtype == kTypeOpt) return error(kRcodeFormErr);  // RFC 6891 §6.1.1
  if (is_transfer_or_mail(q.qtype)) return error(kRcodeNotImp);

  uint8_t lower[kMaxNameWire];
  lower_name(q.name.data(), q.name_size, lower);
  size_t size_cls = size_class(limit);
  uint8_t edns_state = q.has_edns ? (q.edns_do ? 2 : 1) : 0;
  key_.assign(reinterpret_cast<const char*>(lower), q.name_size);
  key_.push_back(char(q.qtype >> 8));
  key_.push_back(char(q.qtype));
  key_.push_back(char(edns_state));
  key_.push_back(char(size_cls >> 16));
  key_.push_back(char(size_cls >> 8));
  key_.push_back(char(size_cls));
  // Answers that name the address the query came to are cached per address.
  if (zone_.has_local_records() && local) key_.append(local->view().begin(), local->view().end());

  auto it = cache_.find(key_);
  if (it == cache_.end()) {
    ByteView name(lower, q.name_size);
    NameMatch m = zone_.match(name);
    if (m.kind == NameKind::kOutside) return error(kRcodeRefused);  // not cached: cheap anyway
    Cached built;
    built.wire = zone_.build(name, m, q.qtype, EdnsReply{q.has_edns, q.edns_do}, size_cls,
                             &built.asked_about, local);
    if (built.wire.empty()) return result;  // not even the header and question fit
    if (cache_.size() >= kMaxCacheEntries) cache_.clear();
    it = cache_.emplace(key_, std::move(built)).first;
  }
  const std::vector<uint8_t>& wire = it->second.wire;
  if (wire.size() > out.size() || wire.size() < kDnsHeaderBytes + q.name_size + 4) return result;
  uint8_t* p = out.data();
  std::memcpy(p, wire.data(), wire.size());
  store_be16(p, q.id);
  p[2] = uint8_t((p[2] & ~0x01) | (q.flags_hi & 0x01));  // RD copied (RFC 1035 §4.1.1)
  p[3] = uint8_t((p[3] & ~0x10) | (q.flags_lo & 0x10));  // CD copied (RFC 6840 §5.9)
  // The template's question is the same name in canonical case: same length.
  std::memcpy(p + kDnsHeaderBytes, q.name.data(), q.name_size);
  result.length = finish(wire.size());
  result.asked_about = it->second.asked_about;
  return result;
}

}  // namespace wgp::dnssd
