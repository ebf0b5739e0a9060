// Tells WireGuard messages from plain DNS on the one UDP socket the node
// shares between them (DESIGN.md §4, last paragraph; STYLE.md item 13).
//
// A WireGuard message starts with its type (1–4) and three zero bytes and has
// a length fixed by the type: 148 (initiation), 92 (response), 64 (cookie
// reply), or at least 32 (transport data). DESIGN.md adds "a multiple of 16"
// for data, which is wrong: the sender pads the plaintext to a multiple of 16
// only up to the MTU, so a 1420-byte inner packet with a 1420 MTU travels
// unpadded in a 16 + 1420 + 16 = 1452-byte message. We therefore accept any
// length >= 32 for type 4.
//
// A DNS message can look like a WireGuard one: its first four bytes are the
// ID and the flags, so ID 0x0400 with all flags clear begins `04 00 00 00`,
// and any such message of 32 bytes or more is classified kWireGuard here.
// The node hands it to the device first; when the device drops it as a
// transport message for an unknown receiver index, the node tries it as DNS.
// For types 1–3 the exact length decides: `01 00 00 00` of 148 bytes is a
// handshake initiation, of 147 bytes a DNS message.
#pragma once

#include "util/bytes.h"

namespace wgp::dnssd {

enum class DatagramKind { kWireGuard, kDns, kUnknown };

// Classifies one received UDP payload. Reads only `datagram`, never past its
// end; allocation-free and constant time in the size. kUnknown: neither
// (shorter than a DNS header, or a DNS header with an unassigned opcode or
// the reserved Z bit set); the node drops it.
DatagramKind classify_datagram(ByteView datagram);

// True when `datagram` has a 12-byte DNS header with an assigned opcode and
// the Z bit clear (RFC 1035 §4.1.1, RFC 6895 §2). No further parsing.
bool plausible_dns_header(ByteView datagram);

}  // namespace wgp::dnssd
