// Text and sockaddr conversions for the IP value types of net/ip.h. Parsing is
// strict and numeric only (inet_pton): config, UAPI and DNS answers all feed it
// untrusted text, so anything that is not exactly an address is refused.
#include "net/ip.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace wgp {
namespace {

// Longest text form of an IPv6 address with an embedded IPv4 tail, plus NUL.
constexpr size_t kMaxAddressText = INET6_ADDRSTRLEN;

// Parses a decimal number of 1..max_digits digits, no sign, no spaces.
std::optional<uint32_t> parse_decimal(std::string_view text, size_t max_digits) {
  if (text.empty() || text.size() > max_digits) return std::nullopt;
  uint32_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// Splits "addr/len" (or a bare "addr", meaning a host prefix) into an address
// and a length checked against the family's width.
std::optional<std::pair<IpAddress, uint8_t>> parse_address_and_length(std::string_view text) {
  size_t slash = text.find('/');
  auto address = IpAddress::parse(text.substr(0, slash));
  if (!address) return std::nullopt;
  const uint32_t max_length = address->is_v4() ? 32 : 128;
  if (slash == std::string_view::npos) return std::pair(*address, uint8_t(max_length));
  auto length = parse_decimal(text.substr(slash + 1), 3);
  if (!length || *length > max_length) return std::nullopt;
  return std::pair(*address, uint8_t(*length));
}

// Clears every bit of `a` after the first `length` bits.
IpAddress mask_host_bits(IpAddress a, uint8_t length) {
  for (size_t i = 0; i < a.bytes.size(); ++i) {
    const size_t bit = i * 8;
    if (bit >= length) {
      a.bytes[i] = 0;
    } else if (bit + 8 > length) {
      a.bytes[i] &= uint8_t(0xff << (8 - (length - bit)));
    }
  }
  return a;
}

}  // namespace

IpAddress IpAddress::v4(const uint8_t* b4) {
  IpAddress a;
  a.family = Family::kV4;
  std::memcpy(a.bytes.data(), b4, 4);
  return a;
}

IpAddress IpAddress::v6(const uint8_t* b16) {
  IpAddress a;
  a.family = Family::kV6;
  std::memcpy(a.bytes.data(), b16, 16);
  return a;
}

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  // inet_pton wants a NUL-terminated string; anything longer than the
  // longest valid form cannot be an address.
  if (text.empty() || text.size() >= kMaxAddressText) return std::nullopt;
  if (text.find('\0') != std::string_view::npos) return std::nullopt;  // would truncate
  char buf[kMaxAddressText];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  uint8_t raw[16];
  if (text.find(':') != std::string_view::npos) {
    if (inet_pton(AF_INET6, buf, raw) != 1) return std::nullopt;
    return v6(raw);
  }
  if (inet_pton(AF_INET, buf, raw) != 1) return std::nullopt;
  return v4(raw);
}

std::string IpAddress::to_string() const {
  char buf[kMaxAddressText];
  const char* s = inet_ntop(is_v4() ? AF_INET : AF_INET6, bytes.data(), buf, sizeof buf);
  return s ? std::string(s) : std::string();
}

std::optional<IpPrefix> IpPrefix::parse(std::string_view text) {
  auto parsed = parse_address_and_length(text);
  if (!parsed) return std::nullopt;
  return IpPrefix{mask_host_bits(parsed->first, parsed->second), parsed->second};
}

std::string IpPrefix::to_string() const {
  return address.to_string() + "/" + std::to_string(length);
}

bool IpPrefix::contains(const IpAddress& a) const {
  if (a.family != address.family) return false;
  return mask_host_bits(a, length) == address;
}

std::optional<Endpoint> Endpoint::parse(std::string_view text) {
  std::string_view host;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    // "[v6]:port": brackets are for IPv6 only.
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return std::nullopt;
    }
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
    if (host.find(':') == std::string_view::npos) return std::nullopt;
  } else {
    // "a.b.c.d:port": exactly one colon, so bare IPv6 (ambiguous) is refused.
    size_t colon = text.find(':');
    if (colon == std::string_view::npos || text.find(':', colon + 1) != std::string_view::npos) {
      return std::nullopt;
    }
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
  }
  auto address = IpAddress::parse(host);
  auto port = parse_decimal(port_text, 5);
  if (!address || !port || *port > 65535) return std::nullopt;
  return Endpoint{*address, uint16_t(*port)};
}

std::string Endpoint::to_string() const {
  const std::string host = address.to_string();
  const std::string port_text = std::to_string(port);
  return address.is_v4() ? host + ":" + port_text : "[" + host + "]:" + port_text;
}

Endpoint Endpoint::from_sockaddr(const sockaddr* sa) {
  Endpoint e;
  if (sa == nullptr) return e;
  if (sa->sa_family == AF_INET) {
    sockaddr_in sin;
    std::memcpy(&sin, sa, sizeof sin);
    e.address = IpAddress::v4(reinterpret_cast<const uint8_t*>(&sin.sin_addr));
    e.port = ntohs(sin.sin_port);
  } else if (sa->sa_family == AF_INET6) {
    sockaddr_in6 sin6;
    std::memcpy(&sin6, sa, sizeof sin6);
    const uint8_t* raw = sin6.sin6_addr.s6_addr;
    // The UDP socket is dual-stack: an IPv4 peer arrives as ::ffff:a.b.c.d.
    // Keep it as plain IPv4 so it compares equal to the configured endpoint and
    // the cookie MAC covers the same 4 bytes the peer's kernel would use.
    e.address =
        IN6_IS_ADDR_V4MAPPED(&sin6.sin6_addr) ? IpAddress::v4(raw + 12) : IpAddress::v6(raw);
    e.port = ntohs(sin6.sin6_port);
  }
  return e;
}

socklen_t Endpoint::to_sockaddr(sockaddr_storage& out) const {
  std::memset(&out, 0, sizeof out);
  if (address.is_v4()) {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    std::memcpy(&sin.sin_addr, address.bytes.data(), 4);
    std::memcpy(&out, &sin, sizeof sin);
    return sizeof sin;
  }
  sockaddr_in6 sin6{};
  sin6.sin6_family = AF_INET6;
  sin6.sin6_port = htons(port);
  std::memcpy(&sin6.sin6_addr, address.bytes.data(), 16);
  std::memcpy(&out, &sin6, sizeof sin6);
  return sizeof sin6;
}

size_t Endpoint::cookie_input(std::span<uint8_t, 18> out) const {
  const size_t n = address.size();
  std::memcpy(out.data(), address.bytes.data(), n);
  store_be16(out.data() + n, port);
  return n + 2;
}

std::optional<InterfaceAddress> InterfaceAddress::parse(std::string_view text) {
  auto parsed = parse_address_and_length(text);
  if (!parsed) return std::nullopt;
  return InterfaceAddress{parsed->first, parsed->second};
}

std::string InterfaceAddress::to_string() const {
  return address.to_string() + "/" + std::to_string(length);
}

}  // namespace wgp
