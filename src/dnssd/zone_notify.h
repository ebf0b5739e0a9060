// The NOTIFY a hidden primary sends its secondaries when the zone changed
// (RFC 1996), and the check of their acknowledgements. Not the punch-now
// NOTIFY of notify.h, which names a peer: this one names the zone, type SOA,
// and carries the new SOA in ANSWER as the hint of RFC 1996 §3.7, so that a
// secondary that already has that serial need not ask.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "dnssd/record_list.h"
#include "util/bytes.h"

namespace wgp::dnssd {

// QR clear, opcode NOTIFY, AA set; question `zone` SOA IN; `soa` in ANSWER.
// `zone` is a wire-form name, `soa` one of ZoneView's records.
std::vector<uint8_t> build_zone_notify(uint16_t id, ByteView zone, const WireRecord& soa);

// When `message` answers our NOTIFY `id` (QR set, opcode NOTIFY, same ID),
// its RCODE; else nullopt. Reads the header only: the TSIG, when there is
// a key, is checked by the caller.
std::optional<uint8_t> zone_notify_response_rcode(ByteView message, uint16_t id);

}  // namespace wgp::dnssd
