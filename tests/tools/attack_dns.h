// DNS messages for wgp_attack's discovery modes, written byte by byte (RFC
// 1035 §4, RFC 2782 for SRV, RFC 6891 for the OPT record) so that the tool can
// claim any EDNS size and forge answers the registry would never write. The
// names are the product's own (dnssd/discovery_query.h): what a wgpunch
// registry serves and what its discovery clients ask for.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/keys.h"
#include "dnssd/discovery_query.h"
#include "net/ip.h"
#include "util/bytes.h"

namespace wgp::attack {

constexpr size_t kDnsHeaderSize = 12;
constexpr uint16_t kDnsTypeOpt = 41;
constexpr uint16_t kDnsClassIn = 1;

// Appends the uncompressed wire form of the absolute or relative name `name`
// ("a.b.c." and "a.b.c" alike). Throws on an empty label inside the name, a
// label over 63 bytes or a name over 255 bytes.
inline void put_name(std::string_view name, std::vector<uint8_t>& out) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  size_t start = out.size();
  while (!name.empty()) {
    size_t dot = name.find('.');
    std::string_view label = name.substr(0, dot);
    if (label.empty() || label.size() > 63) throw std::invalid_argument("bad DNS label in name");
    out.push_back(uint8_t(label.size()));
    out.insert(out.end(), label.begin(), label.end());
    name = dot == std::string_view::npos ? std::string_view() : name.substr(dot + 1);
  }
  out.push_back(0);
  if (out.size() - start > 255) throw std::invalid_argument("DNS name over 255 bytes");
}

inline void put16(std::vector<uint8_t>& out, uint16_t v) {
  out.push_back(uint8_t(v >> 8));
  out.push_back(uint8_t(v));
}

// An OPT pseudo-record (root owner, CLASS = UDP payload size, no options).
inline void put_opt(std::vector<uint8_t>& out, uint16_t udp_size) {
  out.push_back(0);
  put16(out, kDnsTypeOpt);
  put16(out, udp_size);
  out.insert(out.end(), {0, 0, 0, 0, 0, 0});  // extended RCODE, version, flags; RDLENGTH 0
}

// The id after `id` that does not make a query begin like a WireGuard header
// (ids 0x0100..0x0400 give `0N 00 00 00`, dnssd/demux.h): a node copes, but
// an attacker's query should be DNS beyond doubt.
inline uint16_t next_query_id(uint16_t id) {
  do ++id;
  while ((id & 0xff) == 0 && id >> 8 >= 1 && id >> 8 <= 4);
  return id;
}

// A standard query (opcode QUERY, RD clear) for `name` `qtype` IN with id
// `id`; with an OPT record claiming `edns_size` when given.
inline std::vector<uint8_t> dns_query(uint16_t id, std::string_view name, uint16_t qtype,
                                      std::optional<uint16_t> edns_size) {
  std::vector<uint8_t> out(kDnsHeaderSize, 0);
  store_be16(&out[0], id);
  store_be16(&out[4], 1);                   // QDCOUNT
  store_be16(&out[10], edns_size ? 1 : 0);  // ARCOUNT
  put_name(name, out);
  put16(out, qtype);
  put16(out, kDnsClassIn);
  if (edns_size) put_opt(out, *edns_size);
  return out;
}

// The answer a wgpunch registry gives to discovery's SRV question about `key`
// (dnssd::build_query(id, instance_name(key, zone), SRV)), except that it says
// the peer is at `forged`: AA, the question echoed, one SRV at the instance
// name (0 0 port target, the target `<B32>.<zone>`), the target's A or AAAA
// first in ADDITIONAL, then an OPT as the client asked with one. The id is
// the first two bytes (forge-srv rewrites them per packet).
inline std::vector<uint8_t> forged_srv_answer(uint16_t id, const PublicKey& key,
                                              std::string_view zone, const Endpoint& forged) {
  const std::string instance = dnssd::instance_name(key, zone);
  const std::string target = dnssd::target_name(key, zone);
  std::vector<uint8_t> out(kDnsHeaderSize, 0);
  store_be16(&out[0], id);
  out[2] = 0x84;            // QR, opcode QUERY, AA
  store_be16(&out[4], 1);   // QDCOUNT
  store_be16(&out[6], 1);   // ANCOUNT
  store_be16(&out[10], 2);  // ARCOUNT: the address and the OPT
  put_name(instance, out);
  put16(out, dnssd::kQueryTypeSrv);
  put16(out, kDnsClassIn);
  // ANSWER: the owner points at the question's name (offset 12).
  out.insert(out.end(), {0xc0, kDnsHeaderSize});
  put16(out, dnssd::kQueryTypeSrv);
  put16(out, kDnsClassIn);
  out.insert(out.end(), {0, 0, 0, 0});  // TTL 0, as the registry writes
  size_t rdlength_at = out.size();
  put16(out, 0);
  put16(out, 0);  // priority
  put16(out, 0);  // weight
  put16(out, forged.port);
  size_t target_at = out.size();
  put_name(target, out);
  store_be16(&out[rdlength_at], uint16_t(out.size() - rdlength_at - 2));
  // ADDITIONAL: the target's address, its owner a pointer to the SRV target.
  out.push_back(uint8_t(0xc0 | (target_at >> 8)));
  out.push_back(uint8_t(target_at));
  put16(out, forged.address.is_v4() ? dnssd::kQueryTypeA : dnssd::kQueryTypeAaaa);
  put16(out, kDnsClassIn);
  out.insert(out.end(), {0, 0, 0, 0});
  put16(out, uint16_t(forged.address.size()));
  out.insert(out.end(), forged.address.bytes.begin(),
             forged.address.bytes.begin() + long(forged.address.size()));
  put_opt(out, dnssd::kEdnsUdpSize);
  return out;
}

// The fixed header of a DNS response as the flood mode reads it: nothing
// past the 12 bytes, so no parser of the answer's body is needed.
struct ResponseHeader {
  uint16_t id = 0;
  bool truncated = false;
  uint8_t rcode = 0;
  uint16_t answers = 0;
};
inline std::optional<ResponseHeader> response_header(ByteView d) {
  if (d.size() < kDnsHeaderSize || !(d[2] & 0x80)) return std::nullopt;
  return ResponseHeader{load_be16(&d[0]), (d[2] & 0x02) != 0, uint8_t(d[3] & 0x0f),
                        load_be16(&d[6])};
}

}  // namespace wgp::attack
