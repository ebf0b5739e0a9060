// Helpers shared by the responder's tests: made-up peers, queries written
// byte by byte, and responses read back with ldns_wire2pkt (an independent
// parser of our bytes), records as ldns prints them.
#pragma once

#include <gtest/gtest.h>
#include <ldns/ldns.h>

#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dnssd/responder.h"

namespace wgp::dnssd::testing {

inline constexpr char kZone[] = "example.net.";

inline PublicKey key_n(int n) {
  PublicKey k;
  for (size_t i = 0; i < k.size(); ++i) k[i] = uint8_t(n * 131 + i * 7 + 1);
  return k;
}

inline PublishedPeer peer(int n, const char* endpoint) {
  return {key_n(n), *Endpoint::parse(endpoint)};
}

inline std::vector<uint8_t> wire_name(std::string_view text) {
  std::vector<uint8_t> out;
  while (!text.empty() && text != ".") {
    size_t dot = text.find('.');
    std::string_view label = text.substr(0, dot);
    out.push_back(uint8_t(label.size()));
    out.insert(out.end(), label.begin(), label.end());
    if (dot == std::string_view::npos) break;
    text.remove_prefix(dot + 1);
  }
  out.push_back(0);
  return out;
}

struct Edns {
  uint16_t udp_size = 1232;
  uint8_t version = 0;
  bool do_bit = false;
};

struct QueryOptions {
  uint16_t id = 0x1234;
  uint8_t flags_hi = 0x01;  // RD, as dig sends
  uint8_t flags_lo = 0x00;
  uint16_t qclass = kClassIn;
  std::optional<Edns> edns;
};

inline std::vector<uint8_t> make_query(std::string_view name, uint16_t qtype, QueryOptions o = {}) {
  std::vector<uint8_t> q(12, 0);
  store_be16(q.data(), o.id);
  q[2] = o.flags_hi;
  q[3] = o.flags_lo;
  store_be16(q.data() + 4, 1);
  store_be16(q.data() + 10, o.edns ? 1 : 0);
  auto n = wire_name(name);
  q.insert(q.end(), n.begin(), n.end());
  uint8_t tail[4];
  store_be16(tail, qtype);
  store_be16(tail + 2, o.qclass);
  q.insert(q.end(), tail, tail + 4);
  if (o.edns) {
    uint8_t opt[11] = {0, 0, 41};
    store_be16(opt + 3, o.edns->udp_size);
    opt[6] = o.edns->version;
    opt[7] = o.edns->do_bit ? 0x80 : 0;
    q.insert(q.end(), opt, opt + 11);
  }
  return q;
}

// A response read back through ldns, records as ldns prints them.
struct Reply {
  std::vector<uint8_t> wire;
  int rcode = -1;  // with the EDNS extension bits
  bool tc = false, aa = false, rd = false, qr = false;
  bool has_opt = false;
  uint16_t opt_udp = 0;
  bool opt_do = false;
  std::vector<std::string> question, answer, authority, additional;
};

inline std::vector<std::string> texts(ldns_rr_list* list) {
  std::vector<std::string> out;
  for (size_t i = 0; i < ldns_rr_list_rr_count(list); ++i) {
    char* s = ldns_rr2str(ldns_rr_list_rr(list, i));
    std::string line(s);
    free(s);
    for (char& c : line) c = c == '\t' ? ' ' : c;
    while (!line.empty() && line.back() == '\n') line.pop_back();
    out.push_back(line);
  }
  return out;
}

inline Reply parse(const std::vector<uint8_t>& wire) {
  Reply r;
  r.wire = wire;
  ldns_pkt* pkt = nullptr;
  EXPECT_EQ(ldns_wire2pkt(&pkt, wire.data(), wire.size()), LDNS_STATUS_OK);
  if (!pkt) return r;
  r.tc = ldns_pkt_tc(pkt);
  r.aa = ldns_pkt_aa(pkt);
  r.rd = ldns_pkt_rd(pkt);
  r.qr = ldns_pkt_qr(pkt);
  r.has_opt = ldns_pkt_edns(pkt);
  r.opt_udp = ldns_pkt_edns_udp_size(pkt);
  r.opt_do = ldns_pkt_edns_do(pkt);
  r.rcode = ldns_pkt_get_rcode(pkt) | (ldns_pkt_edns_extended_rcode(pkt) << 4);
  r.question = texts(ldns_pkt_question(pkt));
  r.answer = texts(ldns_pkt_answer(pkt));
  r.authority = texts(ldns_pkt_authority(pkt));
  r.additional = texts(ldns_pkt_additional(pkt));
  ldns_pkt_free(pkt);
  return r;
}

}  // namespace wgp::dnssd::testing
