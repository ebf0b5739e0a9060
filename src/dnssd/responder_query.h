// The registry's bounds-checked reader for one incoming DNS query: the
// header, the single question and the EDNS(0) OPT record (RFC 1035 §4.1,
// RFC 6891 §6). Hand-written rather than ldns_wire2pkt (which builds a whole
// ldns_pkt on the heap) because it runs for every query, cached or not
// (STYLE.md item 5): it never allocates and never reads outside the input.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "util/bytes.h"

namespace wgp::dnssd {

constexpr size_t kDnsHeaderBytes = 12;
constexpr size_t kMaxNameWire = 255;  // RFC 1035 §3.1, root label included
constexpr size_t kMaxLabel = 63;
constexpr uint16_t kTypeA = 1, kTypeNs = 2, kTypeSoa = 6, kTypePtr = 12, kTypeAaaa = 28,
                   kTypeSrv = 33, kTypeOpt = 41, kTypeIxfr = 251, kTypeAxfr = 252, kTypeMailb = 253,
                   kTypeMaila = 254, kTypeAny = 255;
constexpr uint16_t kClassIn = 1;
constexpr uint8_t kOpcodeQuery = 0;
constexpr uint8_t kRcodeNoError = 0, kRcodeFormErr = 1, kRcodeNxDomain = 3, kRcodeNotImp = 4,
                  kRcodeRefused = 5, kRcodeBadVers = 16;  // BADVERS needs EDNS (RFC 6891 §9)

enum class QueryParse {
  kOk,
  kDrop,     // no readable header, or a response (QR=1): never answered
  kFormErr,  // a header, but the rest is malformed
};

struct ParsedQuery {
  uint16_t id = 0;
  uint8_t flags_hi = 0;  // header byte 2: QR OPCODE AA TC RD
  uint8_t flags_lo = 0;  // header byte 3: RA Z AD CD RCODE
  uint8_t opcode() const { return (flags_hi >> 3) & 0xF; }
  bool rd() const { return flags_hi & 0x01; }
  bool cd() const { return flags_lo & 0x10; }

  // The question's name expanded to wire form, letter case as sent.
  std::array<uint8_t, kMaxNameWire> name{};
  size_t name_size = 0;
  uint16_t qtype = 0;
  uint16_t qclass = 0;

  bool has_edns = false;
  uint16_t edns_udp_size = 0;  // as sent; RFC 6891 §6.2.5 treats < 512 as 512
  uint8_t edns_version = 0;
  bool edns_do = false;

  ByteView name_view() const { return ByteView(name.data(), name_size); }
};

// Parses `message` into `out`. kOk: one question (QDCOUNT == 1) was read
// and at most one well-formed OPT record with the root owner found in
// ADDITIONAL; records in ANSWER and AUTHORITY are skipped, bytes after the
// last counted record ignored. Names: labels of at most 63 bytes, at most
// 255 bytes in all, compression pointers only to earlier offsets past the
// header and strictly before the part of the name that holds them (so a
// pointer can never loop). The opcode is not judged here.
QueryParse parse_query(ByteView message, ParsedQuery& out);

// Reads the name at `pos` of `message`. On success writes its expanded wire
// form to `out` (kMaxNameWire bytes of room) when non-null, its size to
// `*size`, and the offset just after the name's own bytes to `*end`.
bool read_name(ByteView message, size_t pos, uint8_t* out, size_t* size, size_t* end);

// ASCII lower case of a wire-form name's label bytes, length bytes untouched.
void lower_name(const uint8_t* in, size_t size, uint8_t* out);

}  // namespace wgp::dnssd
