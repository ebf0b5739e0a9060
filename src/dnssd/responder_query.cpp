#include "dnssd/responder_query.h"

#include <cstring>

namespace wgp::dnssd {

bool read_name(ByteView m, size_t pos, uint8_t* out, size_t* size, size_t* end) {
  size_t total = 0;
  size_t segment_start = pos;  // where the labels being read now begin
  bool jumped = false;
  for (;;) {
    if (pos >= m.size()) return false;
    uint8_t len = m[pos];
    if ((len & 0xC0) == 0xC0) {
      if (pos + 1 >= m.size()) return false;
      size_t target = size_t(len & 0x3F) << 8 | m[pos + 1];
      // Strictly backwards of every name part read so far: each jump lands
      // lower than the last, so the walk ends (no pointer loops).
      if (target < kDnsHeaderBytes || target >= segment_start) return false;
      if (!jumped) *end = pos + 2;
      jumped = true;
      pos = segment_start = target;
      continue;
    }
    if (len & 0xC0) return false;  // 0x40 and 0x80: extended and reserved label types
    if (total + 1 + len > kMaxNameWire) return false;
    if (pos + 1 + len > m.size()) return false;
    if (out) std::memcpy(out + total, m.data() + pos, 1 + len);
    total += 1 + len;
    if (len == 0) {
      if (!jumped) *end = pos + 1;
      *size = total;
      return true;
    }
    pos += 1 + len;
  }
}

void lower_name(const uint8_t* in, size_t size, uint8_t* out) {
  size_t i = 0;
  while (i < size) {
    uint8_t len = in[i];
    out[i] = len;
    for (size_t j = i + 1; j <= i + len && j < size; ++j) {
      uint8_t c = in[j];
      out[j] = (c >= 'A' && c <= 'Z') ? uint8_t(c + 32) : c;
    }
    i += 1 + len;
  }
}

namespace {

// Skips one resource record at `*pos`; with `opt` non-null, reads it as an
// OPT record when its type is 41. false on truncation or a malformed OPT.
bool skip_record(ByteView m, size_t* pos, ParsedQuery* opt) {
  size_t name_size = 0, end = 0;
  if (!read_name(m, *pos, nullptr, &name_size, &end)) return false;
  if (end + 10 > m.size()) return false;
  const uint8_t* f = m.data() + end;
  uint16_t type = load_be16(f);
  uint16_t rdlength = load_be16(f + 8);
  size_t rdata = end + 10;
  if (rdata + rdlength > m.size()) return false;
  *pos = rdata + rdlength;
  if (type != kTypeOpt) return true;
  // RFC 6891 §6.1.1: only in ADDITIONAL, at most once, owned by the root.
  if (!opt || opt->has_edns || name_size != 1) return false;
  // Options must tile RDATA exactly (§6.1.2); we read none of them.
  for (size_t o = rdata; o < rdata + rdlength;) {
    if (o + 4 > rdata + rdlength) return false;
    o += 4 + load_be16(m.data() + o + 2);
    if (o > rdata + rdlength) return false;
  }
  opt->has_edns = true;
  opt->edns_udp_size = load_be16(f + 2);
  opt->edns_version = f[5];  // TTL: extended RCODE, VERSION, DO|Z, Z
  opt->edns_do = f[6] & 0x80;
  return true;
}

}  // namespace

QueryParse parse_query(ByteView m, ParsedQuery& out) {
  if (m.size() < kDnsHeaderBytes) return QueryParse::kDrop;
  out = ParsedQuery{};
  out.id = load_be16(m.data());
  out.flags_hi = m[2];
  out.flags_lo = m[3];
  // Answering a response could start an endless FORMERR ping-pong with
  // another server: responses are dropped, never answered.
  if (out.flags_hi & 0x80) return QueryParse::kDrop;
  uint16_t qdcount = load_be16(m.data() + 4);
  uint16_t ancount = load_be16(m.data() + 6);
  uint16_t nscount = load_be16(m.data() + 8);
  uint16_t arcount = load_be16(m.data() + 10);
  if (qdcount != 1) return QueryParse::kFormErr;

  size_t end = 0;
  if (!read_name(m, kDnsHeaderBytes, out.name.data(), &out.name_size, &end)) {
    return QueryParse::kFormErr;
  }
  if (end + 4 > m.size()) return QueryParse::kFormErr;
  out.qtype = load_be16(m.data() + end);
  out.qclass = load_be16(m.data() + end + 2);
  size_t pos = end + 4;
  // Each record takes at least 11 bytes: bound the loop by the input first.
  if (size_t(ancount) + nscount + arcount > (m.size() - pos) / 11) return QueryParse::kFormErr;
  for (unsigned i = 0; i < unsigned(ancount) + nscount; ++i) {
    if (!skip_record(m, &pos, nullptr)) return QueryParse::kFormErr;
  }
  for (unsigned i = 0; i < arcount; ++i) {
    if (!skip_record(m, &pos, &out)) return QueryParse::kFormErr;
  }
  return QueryParse::kOk;
}

}  // namespace wgp::dnssd
