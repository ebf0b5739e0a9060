// DNS NOTIFY (RFC 1996) as the registry uses it to make both sides punch at
// once (DESIGN.md §5): when peer A asks for peer B's record, the registry
// sends B, through B's tunnel, a NOTIFY whose question is A's instance name,
// type SRV. B acknowledges, looks A up and initiates a handshake, so the two
// NATs open within one round trip instead of one discovery Interval.
//
// The question names the peer asking, not the zone's SOA as in a zone-transfer
// NOTIFY: the receiver learns whom to call without a further lookup.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "crypto/keys.h"
#include "util/bytes.h"

namespace wgp::dnssd {

constexpr uint8_t kOpcodeNotify = 4;

struct Notify {
  uint16_t id = 0;
  PublicKey asker{};
};

// Appends to `out` a NOTIFY: id `id`, opcode NOTIFY, AA set, QR clear, one
// question instance_name(asker, zone) SRV IN, no other records. Returns false,
// `out` untouched, when the zone makes no valid name.
bool build_notify(uint16_t id, const PublicKey& asker, std::string_view zone,
                  std::vector<uint8_t>& out);

// The NOTIFY in `datagram`: QR clear, opcode NOTIFY, exactly one question,
// type SRV class IN, naming <B32>._wireguard._udp.<zone> (any letter case)
// with a valid key label; records in other sections are ignored. nullopt for
// anything else, including bytes ldns cannot parse. Never crashes.
std::optional<Notify> parse_notify(ByteView datagram, std::string_view zone);

// Appends to `out` the reply to `notify` (RFC 1996 §4.7): same id, QR and AA
// set, opcode NOTIFY, RCODE NOERROR, the question echoed. False as build_notify.
bool build_notify_ack(const Notify& notify, std::string_view zone, std::vector<uint8_t>& out);

// True when `datagram` has a DNS header with QR set and opcode NOTIFY: an
// acknowledgement the registry consumes without further parsing.
bool is_notify_ack(ByteView datagram);

}  // namespace wgp::dnssd
