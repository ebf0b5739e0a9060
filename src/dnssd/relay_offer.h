// Whether a registry relays (DESIGN.md §9), asked in its tunnel: a TXT
// question at the registry's own instance name, <B32>._wireguard._udp.<zone>,
// answered with one TXT record "relay=yes" or "relay=no" (DNS-SD's key=value
// form, RFC 6763 §6.3). Discovery asks each registry once its session is up,
// and tries a peer through a registry as a relay only when it says yes, so a
// node never claims a path the registry does not offer. The key is the
// registry's alone, given in its tunnel (never part of the zone a secondary
// copies). A registry that publishes itself (Self = yes) has wgsd's TXT at
// that very name (peer_txt.h): its answer is that one record with the key
// added last, so a wgsd client still reads its own keys there.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "crypto/keys.h"
#include "util/bytes.h"

namespace wgp::dnssd {

constexpr uint16_t kQueryTypeTxt = 16;

// The id of `query` when it asks exactly for TXT at instance_name(registry,
// zone) (any letter case), opcode QUERY, QR clear; nullopt for anything
// else, including bytes ldns cannot parse.
std::optional<uint16_t> relay_offer_question(ByteView query, const PublicKey& registry,
                                             std::string_view zone);

// Appends to `out` the answer to such a question: id `id`, QR and AA set,
// the question echoed, one TXT record (TTL 0): the character-strings of
// `published_txt` (the RDATA of the registry's own record in its zone; empty
// when it does not publish itself), then "relay=yes" or "relay=no".
bool build_relay_offer(uint16_t id, const PublicKey& registry, std::string_view zone, bool relays,
                       ByteView published_txt, std::vector<uint8_t>& out);

// The registry's offer in `response` to the question with `id`: true for
// "relay=yes", false for "relay=no" or an answer without that key (NXDOMAIN
// and NODATA included: a registry that says nothing of a relay offers none);
// nullopt when it is no response to that question (wrong id, question or
// opcode, a server error, malformed bytes).
std::optional<bool> parse_relay_offer(ByteView response, uint16_t id, const PublicKey& registry,
                                      std::string_view zone);

}  // namespace wgp::dnssd
