// A node registers its own addresses (LAN IPv4, global IPv6: its candidates,
// DESIGN.md §9) with a registry by an RFC 2136 UPDATE, sent inside the
// tunnel, so the registry knows the sender's key. The UPDATE may only touch
// the sender's own names; it replaces the sender's candidate set:
//
//   ZONE      <zone> SOA IN
//   UPDATE    c.<B32>.<zone>               ANY ANY      (delete what was there)
//             <B32>._wireguard._udp.<zone> ANY SRV      (the old candidate SRV; the
//                                                         registry's own priority-0
//                                                         SRV is not the sender's)
//             <B32>._wireguard._udp.<zone> IN  SRV 1 0 <port> c.<B32>.<zone>
//             c.<B32>.<zone>               IN  A / AAAA <address>   (each candidate)
//
// and with a port mapping at its gateway (portmap/port_mapper.h), whose
// external port differs from ours, the mapped endpoint under its own name:
//
//             m.<B32>.<zone>               ANY ANY      (delete)
//             <B32>._wireguard._udp.<zone> IN  SRV 1 0 <mapped port> m.<B32>.<zone>
//             m.<B32>.<zone>               IN  A / AAAA <mapped address>
//
// An empty set (no SRV, no address) withdraws the candidates. The m. records
// are sent only with a mapping, so a node without one sends what registries
// from before it accept. Built and read
// with ldns; the reader takes outside bytes (authenticated, but another
// peer's) and checks every record against the sender's names.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "crypto/keys.h"
#include "net/ip.h"
#include "util/bytes.h"

namespace wgp::dnssd {

constexpr uint8_t kOpcodeUpdate = 5;

struct CandidateSet {
  uint16_t port = 0;                 // where the addresses answer (the node's ListenPort)
  std::vector<IpAddress> addresses;  // at most kMaxCandidates (discovery_query.h)
  std::optional<Endpoint> mapped;    // the node's port mapping, if it holds one
  bool operator==(const CandidateSet&) const = default;
};

// Appends to `out` the UPDATE above for `self` in `zone`. False, `out`
// untouched, when the zone makes no valid name or the set is too large.
bool build_candidate_update(uint16_t id, const PublicKey& self, std::string_view zone,
                            const CandidateSet& set, std::vector<uint8_t>& out);

enum class UpdateVerdict {
  kOk,       // `set` holds the sender's new candidates
  kFormErr,  // not an UPDATE we can read (RCODE FORMERR)
  kNotZone,  // the zone section names another zone (RCODE NOTZONE)
  kRefused,  // a name that is not the sender's, or a record of a kind we do not take
};

struct ReadUpdate {
  UpdateVerdict verdict = UpdateVerdict::kFormErr;
  uint16_t id = 0;
  CandidateSet set;
};

// Reads an UPDATE from `sender` for `zone` (as above). Prerequisites are not
// supported: any makes it kRefused. Never reads outside `message`.
ReadUpdate read_candidate_update(ByteView message, const PublicKey& sender, std::string_view zone);

// The response to an UPDATE: header only (RFC 2136 §3.8: the sections may
// be empty), QR set, opcode UPDATE, `rcode`.
void build_update_response(uint16_t id, uint8_t rcode, std::vector<uint8_t>& out);

// True when `message` is the response to an UPDATE (QR set, opcode UPDATE);
// its RCODE in *rcode.
bool is_update_response(ByteView message, uint8_t* rcode);

}  // namespace wgp::dnssd
