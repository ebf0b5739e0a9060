// Zone transfers as the registry serves them to its secondaries (DESIGN.md
// §10): AXFR (RFC 5936) and IXFR (RFC 1995) responses built from the zone's
// versions (zone_history.h), as DNS messages of at most a given size, for a
// TCP stream (RFC 1035 §4.2.2 framing is the caller's, and so is TSIG).
//
//   AXFR                          SOA(n), every record, SOA(n)
//   IXFR from the current serial  SOA(n) alone: nothing to send
//   IXFR from a journalled one    SOA(n), then per version step a -> b:
//                                 SOA(a), the removed records, SOA(b), the
//                                 added ones; SOA(n) last
//   IXFR the journal cannot reach the AXFR sequence (RFC 1995 §4)
//
// Names are compressed (owners, and the names inside NS, PTR and SOA data,
// which RFC 3597 §4 allows; never an SRV target, RFC 2782), against names
// earlier in the same message. The question is echoed in the first message
// only (RFC 5936 §2.2.1), with an OPT when the request had one (§2.2.5).
// No sockets, no clock: pure functions of the request and the history.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "dnssd/responder_query.h"
#include "dnssd/responder_zone.h"
#include "dnssd/zone_history.h"
#include "util/bytes.h"

namespace wgp::dnssd {

// How a transfer request was answered (for logs and status).
enum class TransferKind { kAxfr, kIxfr, kIxfrUpToDate, kIxfrAsAxfr };
const char* transfer_kind_name(TransferKind kind);

// The largest response message before its TSIG record. BIND's default
// transfer-message-size is 20,480; smaller messages than the 65,535 a TCP
// message may hold let the secondary work while the rest arrives.
constexpr size_t kTransferMessageLimit = 16384;

// The serial of the SOA an IXFR request carries in AUTHORITY (RFC 1995 §3):
// the first SOA record there. nullopt when there is none or the message
// cannot be walked to it. Bounds-checked; reads nothing outside `message`.
std::optional<uint32_t> ixfr_request_serial(ByteView message);

// The response to `query` (an AXFR or IXFR for `zone`'s name, class IN,
// checked by the caller) from the history's current version, in messages of
// at most `limit` bytes each, appended to `out`. `client_serial`: an IXFR's
// (ignored for AXFR). The SOA records are `zone`'s with each version's
// serial. Returns what was sent.
TransferKind build_transfer(const ParsedQuery& query, std::optional<uint32_t> client_serial,
                            const ZoneView& zone, const ZoneHistory& history, size_t limit,
                            std::vector<std::vector<uint8_t>>& out);

// A response with no records and `rcode` (REFUSED, NOTAUTH, FORMERR, NOTIMP)
// to `query`: its header and question (and an OPT when it had one).
std::vector<uint8_t> build_transfer_error(const ParsedQuery& query, uint8_t rcode);

}  // namespace wgp::dnssd
