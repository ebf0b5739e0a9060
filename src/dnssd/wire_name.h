// A domain name in text ("Example.NET", "ns1.example.org.") as its wire form
// in lower case, for names that come from the config (NS targets, TSIG key
// names) and are compared case-insensitively.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/bytes.h"

namespace wgp::dnssd {

// Labels separated by '.', a trailing dot optional, "." the root; no escapes.
// nullopt for an empty label, a label over 63 bytes or a name over 255 in
// wire form.
std::optional<std::vector<uint8_t>> wire_name(std::string_view text);

// An uncompressed wire-form name as text with a trailing dot ("." for the
// root), for logs and status. Bytes outside printable ASCII, '.' and '\\'
// are written \DDD (RFC 1035 §5.1).
std::string name_text(ByteView wire);

}  // namespace wgp::dnssd
