// The discovery client's DNS (DESIGN.md §4, §5), without sockets: the names it
// asks for, the queries it sends to the registry from the WireGuard port, and
// the parsing of the registry's answers into peer endpoints. Answers are
// untrusted bytes (a plain-DNS answer can be spoofed by anyone who guesses the
// id): every function here returns a status for any input and never crashes.
//
// Messages are built and parsed with ldns (its wire code copes with name
// compression); no ldns crypto or DNSSEC function is used, because the binary
// carries BoringSSL as its libcrypto.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/keys.h"
#include "net/ip.h"
#include "net/local_addresses.h"
#include "util/bytes.h"

namespace wgp::dnssd {

// RR types and the class we use (IANA numbers, as ldns spells them).
constexpr uint16_t kQueryTypeA = 1;
constexpr uint16_t kQueryTypePtr = 12;
constexpr uint16_t kQueryTypeAaaa = 28;
constexpr uint16_t kQueryTypeSrv = 33;
// The EDNS(0) UDP payload size we advertise: the DNS flag day 2020 value,
// which fits any path's MTU without fragmentation.
constexpr uint16_t kEdnsUdpSize = 1232;

// "_wireguard._udp.<zone>" with exactly one trailing dot; `zone` may be given
// with or without it ("example.net." and "example.net" are the same zone; ""
// and "." are the root).
std::string service_name(std::string_view zone);
// "<B32>._wireguard._udp.<zone>": the instance (SRV) name of `key`.
std::string instance_name(const PublicKey& key, std::string_view zone);
// "<B32>.<zone>": the SRV target the registry writes (the first wgsd generation).
std::string target_name(const PublicKey& key, std::string_view zone);
// "c.<B32>.<zone>": where a peer's own addresses are published (its
// candidates, DESIGN.md §9), the target of a second SRV at its instance name
// (priority 1; the observed public endpoint keeps priority 0 and stays the
// first SRV and the first ADDITIONAL record, as the stock wgsd-client reads).
constexpr std::string_view kCandidateLabel = "c";
std::string candidate_name(const PublicKey& key, std::string_view zone);
// "m.<B32>.<zone>": the external address of a port mapping the peer holds at
// its gateway (PCP, NAT-PMP or UPnP), the target of a third SRV (priority 1,
// the mapped port); tried first among its public addresses.
constexpr std::string_view kMappedLabel = "m";
std::string mapped_name(const PublicKey& key, std::string_view zone);
// Candidate addresses a peer may publish, and a client reads, at most.
constexpr size_t kMaxCandidates = kMaxOwnCandidates;

// The key named by `wire_name` (an uncompressed wire-form name, root label
// included) when it is exactly `<B32>._wireguard._udp.<zone>`, compared
// case-insensitively; nullopt for any other name or bytes.
std::optional<PublicKey> key_from_instance_name(ByteView wire_name, std::string_view zone);

// The header of a message with one question that we write (RFC 1035 §4.1.1).
struct QuestionMessage {
  uint16_t id = 0;
  bool response = false;  // QR
  uint8_t opcode = 0;     // 0 QUERY, 4 NOTIFY (RFC 1996)
  bool authoritative = false;
  bool edns = true;  // an OPT record with UDP size kEdnsUdpSize
};
// Appends to `out` the message `header` with the question (`name`, `qtype`,
// IN) and nothing else; RD and every other flag clear, RCODE NOERROR. Returns
// false, `out` untouched, when `name` is no valid domain name (a label over 63
// bytes, over 255 bytes in all). `name` is made absolute.
bool build_question_message(const QuestionMessage& header, std::string_view name, uint16_t qtype,
                            std::vector<uint8_t>& out);

// Appends to `out` a query for `name` (absolute or not; made absolute) of type
// `qtype`, class IN, opcode QUERY, RD clear, with an EDNS(0) OPT of UDP size
// kEdnsUdpSize and no options. Returns false, `out` untouched, when `name` is
// no valid domain name (a label over 63 bytes, over 255 bytes in all).
// Ids 0x0100–0x0400 make the message begin like a WireGuard header (demux.h);
// the registry copes, but a client does better to avoid them.
bool build_query(uint16_t id, std::string_view name, uint16_t qtype, std::vector<uint8_t>& out);

struct DiscoveredPeer {
  PublicKey key{};
  Endpoint endpoint;                  // as the registry sees it (public)
  std::vector<Endpoint> candidates;   // its own addresses, when it published them
  std::optional<Endpoint> mapped;     // its port mapping, when it published one
};

enum class AnswerStatus {
  kOk,             // `peer` is set
  kNxDomain,       // the registry knows no such peer (no endpoint known yet)
  kNoData,         // NOERROR, but no usable SRV with an address for its target
  kRefused,        // the registry does not answer us (or not for this zone)
  kServerError,    // SERVFAIL, NOTIMP, FORMERR or another error RCODE
  kMalformed,      // not a DNS response to a query, or unparseable
  kWrongId,        // a response, but not to our query's id: ignore it
  kTruncated,      // TC set: the answer did not fit
  kWrongQuestion,  // our id, but the question is not the one we asked
};

struct SrvAnswer {
  AnswerStatus status = AnswerStatus::kMalformed;
  std::optional<DiscoveredPeer> peer;  // set only with kOk
};

// Parses the response to build_query(expected_id, instance_name(key, zone),
// kQueryTypeSrv). The port comes from the first SRV record at the instance
// name whose target is target_name(key, zone) or the instance name itself (the
// two wgsd generations), port ≠ 0; the address from the first A or AAAA record
// of that target in ADDITIONAL (then ANSWER), skipping unspecified addresses.
// SRV records whose target is candidate_name(key, zone) give the candidates:
// their port with every address of that name (at most kMaxCandidates); the
// first SRV to mapped_name(key, zone) with an address gives `mapped`.
// Names compare case-insensitively. Checks, in order: a DNS header (else
// kMalformed), the id (kWrongId), QR and opcode QUERY (kMalformed), TC
// (kTruncated), the rest parses (kMalformed), the one question is ours
// (kWrongQuestion), then the RCODE.
SrvAnswer parse_srv_response(ByteView response, uint16_t expected_id, const PublicKey& key,
                             std::string_view zone);

// Parses the response to a PTR query for service_name(zone): the keys of the
// PTR targets of the form instance_name(key, zone), in answer order without
// duplicates; other targets are skipped. NXDOMAIN gives an empty list; a
// truncated answer gives the keys it holds. nullopt for a wrong id, a wrong
// question, an error RCODE or malformed bytes.
std::optional<std::vector<PublicKey>> parse_ptr_response(ByteView response, uint16_t expected_id,
                                                         std::string_view zone);

// The id of `datagram` when it is a DNS response (a 12-byte header with QR
// set), so the node can route it to the discovery client; nullopt otherwise.
std::optional<uint16_t> response_id(ByteView datagram);

}  // namespace wgp::dnssd
