// Synthetic data shared by the benchmarks: deterministic peer keys, the
// registry's published peers, and DNS queries in wire form.
//
// Why deterministic: bench/dns serves the same 1,000 peers from two
// processes (wgpunch's responder and Knot DNS, whose zone file is written by
// another run of the helper), so peer i must have the same key and endpoint
// in every run. The keys are derived, not random, and never protect
// anything: they exist only to fill tables.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/blake2s.h"
#include "crypto/keys.h"
#include "crypto/x25519.h"
#include "dnssd/base32.h"
#include "dnssd/responder_zone.h"
#include "net/ip.h"
#include "util/bytes.h"

namespace wgp::bench {

// Private key of synthetic peer `i`: BLAKE2s("wgpunch-bench" ‖ LE32(i)), clamped.
inline PrivateKey synthetic_private_key(uint32_t i) {
  static constexpr std::string_view kLabel = "wgpunch-bench";
  uint8_t index[4];
  store_le32(index, i);
  Hash digest;
  blake2s(digest, {ByteView(reinterpret_cast<const uint8_t*>(kLabel.data()), kLabel.size()),
                   ByteView(index, sizeof index)});
  PrivateKey key{std::span<const uint8_t, kKeySize>(digest)};
  clamp_private_key(key);
  return key;
}

inline PublicKey synthetic_public_key(uint32_t i) {
  return derive_public_key(synthetic_private_key(i));
}

// Peer i's endpoint: 203.0.113.(1 + i % 250), port 20000 + i (documentation
// range; it is only ever written into DNS records, never sent to).
inline Endpoint synthetic_endpoint(uint32_t i) {
  const uint8_t addr[4] = {203, 0, 113, uint8_t(1 + i % 250)};
  return Endpoint{IpAddress::v4(addr), uint16_t(20000 + i % 40000)};
}

inline std::vector<dnssd::PublishedPeer> synthetic_peers(uint32_t count) {
  std::vector<dnssd::PublishedPeer> peers;
  peers.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    peers.push_back({synthetic_public_key(i), synthetic_endpoint(i)});
  }
  return peers;
}

// `zone` with exactly one trailing dot.
inline std::string absolute_zone(std::string zone) {
  if (zone.empty() || zone.back() != '.') zone.push_back('.');
  return zone;
}

// The names of DESIGN.md §4 for peer key `key` in `zone` (absolute, upper-case label).
inline std::string service_name(const std::string& zone) {
  return "_wireguard._udp." + absolute_zone(zone);
}
inline std::string instance_name(const PublicKey& key, const std::string& zone) {
  return dnssd::peer_label(key) + "." + service_name(zone);
}
inline std::string host_name(const PublicKey& key, const std::string& zone) {
  return dnssd::peer_label(key) + "." + absolute_zone(zone);
}

// A standard query (RD clear, one question, no EDNS) for `name`/`qtype`
// with the given ID, in wire form. `name` is absolute text without escapes.
inline std::vector<uint8_t> make_query(uint16_t id, std::string_view name, uint16_t qtype) {
  std::vector<uint8_t> q(12, 0);
  store_be16(&q[0], id);
  store_be16(&q[4], 1);  // QDCOUNT
  size_t start = 0;
  while (start < name.size()) {
    size_t dot = name.find('.', start);
    if (dot == std::string_view::npos) dot = name.size();
    q.push_back(uint8_t(dot - start));
    q.insert(q.end(), name.begin() + start, name.begin() + dot);
    start = dot + 1;
  }
  q.push_back(0);
  uint8_t tail[4];
  store_be16(tail, qtype);
  store_be16(tail + 2, 1);  // IN
  q.insert(q.end(), tail, tail + 4);
  return q;
}

}  // namespace wgp::bench
