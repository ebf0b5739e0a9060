// Parsers for the scalar values of config keys: numbers, booleans, lists,
// endpoints and DNS zone names. Each takes a value already stripped of
// whitespace and comments (as wg reads lines) and never throws; the config
// parser turns a failure into a ConfigError that names file, line and key.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/ip.h"

namespace wgp::config {

// Decimal digits only (no sign, no spaces), value <= max.
std::optional<uint64_t> parse_decimal(std::string_view text, uint64_t max);

// wg's FwMark: "off", or a decimal or "0x" hexadecimal number up to 0xffffffff.
// "off" gives 0, which wg also reads as off.
std::optional<uint32_t> parse_fwmark(std::string_view text);

// wg's PersistentKeepalive: "off" (0) or 0-65535.
std::optional<uint16_t> parse_keepalive(std::string_view text);

// yes/no/true/false in any case.
std::optional<bool> parse_bool(std::string_view text);

// Splits "a,b,c" at commas. An empty text is an empty list; an empty element
// ("a,,b" or a trailing comma) is kept as "" so the caller can reject it.
std::vector<std::string_view> split_list(std::string_view text);

// Endpoint text split into host and port: "host:port", "1.2.3.4:port" or
// "[v6]:port". The port must be 1-65535 in decimal. On failure `why` says what
// is wrong in words that do not repeat the text.
struct HostPort {
  std::string host;  // without brackets
  uint16_t port = 0;
};
std::optional<HostPort> split_host_port(std::string_view text, std::string& why);

// A TCP address to listen on (MetricsListen): "IPv4:PORT" or "[IPv6]:PORT",
// numeric (a name would need resolving before the node is up), port 1-65535.
// On failure `why` says what is wrong, repeating the text only when it is
// made of address characters.
std::optional<Endpoint> parse_listen_address(std::string_view text, std::string& why);

// 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104.
bool is_loopback(const IpAddress& address);

// A DNS name in text form ("Example.NET" or "example.net.") made canonical:
// lower case with one trailing dot. Labels are 1-63 letters, digits, '-' or
// '_' (no '-' at either end), the whole name <= 255 bytes in wire form; the
// root "." alone is refused (a zone of peers must be below something).
// `wire_length` receives the name's wire-form length (labels + length bytes +
// the root byte).
std::optional<std::string> normalise_dns_name(std::string_view text, std::string& why,
                                              size_t* wire_length = nullptr);

// A [Peer] Name (DESIGN.md §11): one DNS label as a host name has it
// (RFC 1123 §2.1): 1-63 letters, digits or '-', no '-' at either end. Lower
// case on return. On failure `why` says what is wrong without the text.
std::optional<std::string> parse_host_label(std::string_view text, std::string& why);

// True when `text` can be repeated in an error message without leaking key
// material: at most 8 letters, digits, '_' or '-' (48 bits, were it a piece of
// a base64 key), or at most 20 decimal digits (a number out of range). Longer
// names are repeated only when they are close to a name the parser knows
// (see near_name), which a piece of a random key never is.
bool safe_to_echo(std::string_view text);

// True when `text` reads as a key name someone typed, not as a piece of a
// base64 key: 9-32 letters, '_' or '-', starting with a letter, no digit,
// '+' or '/', and either all capitals or few of them (CamelCase words: at
// most one in five characters). Random base64 rarely passes, and the
// longer the piece the more rarely (no digit in n characters: 0.84^n; at
// most n/5 capitals where half are: binomial tail), so "Secondary" or
// "MetricsListen" are shown, a pasted key or a long piece of one not.
bool looks_like_a_name(std::string_view text);

// Case-insensitive Levenshtein distance, for "did you mean" hints. Texts
// longer than 32 characters count as infinitely far.
size_t edit_distance(std::string_view a, std::string_view b);

// True when `text` is made of letters only, is at most 24 long, and is a few
// edits away from `name` (ignoring case): at most 2, and at most a third of
// the name's length so that "Foo" is not taken for "MTU".
bool near_name(std::string_view text, std::string_view name);

// ASCII case-insensitive comparisons. They make no copies: the text may be a
// line that holds a key.
bool iequals(std::string_view a, std::string_view b);
bool istarts_with(std::string_view text, std::string_view prefix);

// ASCII lower case.
std::string to_lower(std::string_view text);

}  // namespace wgp::config
