// IP addresses, prefixes and UDP endpoints as plain values: parsed from and
// printed to the text forms wg and wg-quick use.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "util/bytes.h"

namespace wgp {

// An IPv4 or IPv6 address; IPv4 keeps its 4 bytes in bytes[0..3].
struct IpAddress {
  enum class Family : uint8_t { kV4 = 4, kV6 = 6 };
  Family family = Family::kV4;
  std::array<uint8_t, 16> bytes{};

  static IpAddress v4(const uint8_t* b4);
  static IpAddress v6(const uint8_t* b16);
  bool is_v4() const { return family == Family::kV4; }
  size_t size() const { return is_v4() ? 4 : 16; }
  ByteView view() const { return ByteView(bytes.data(), size()); }

  // "10.0.0.1", "fd00::1"; nullopt on anything else (no brackets, no zones).
  static std::optional<IpAddress> parse(std::string_view text);
  std::string to_string() const;
  auto operator<=>(const IpAddress&) const = default;
};

// addr/len with the host bits cleared.
struct IpPrefix {
  IpAddress address;
  uint8_t length = 0;

  // "10.0.0.0/24"; a bare address means /32 or /128. Host bits are masked.
  // nullopt on a bad address or length.
  static std::optional<IpPrefix> parse(std::string_view text);
  std::string to_string() const;
  bool contains(const IpAddress& a) const;
  // One address (/32, /128).
  bool is_host() const { return length == address.size() * 8; }
  auto operator<=>(const IpPrefix&) const = default;
};

// A UDP endpoint: address and port.
struct Endpoint {
  IpAddress address;
  uint16_t port = 0;

  // "1.2.3.4:51820" or "[fd00::1]:51820" (numeric only).
  static std::optional<Endpoint> parse(std::string_view text);
  std::string to_string() const;
  static Endpoint from_sockaddr(const sockaddr* sa);
  // Fills `out` (IPv4-mapped never used) and returns the length to pass to sendto.
  socklen_t to_sockaddr(sockaddr_storage& out) const;
  // The cookie MAC input, kernel layout: raw address bytes ‖ BE16 port. Returns length (6 or 18).
  size_t cookie_input(std::span<uint8_t, 18> out) const;
  auto operator<=>(const Endpoint&) const = default;
};

}  // namespace wgp

namespace wgp {

// An interface address as wg-quick's Address= writes it: host bits kept.
struct InterfaceAddress {
  IpAddress address;
  uint8_t length = 0;
  // "10.0.0.1/24"; a bare address means /32 or /128.
  static std::optional<InterfaceAddress> parse(std::string_view text);
  std::string to_string() const;
  auto operator<=>(const InterfaceAddress&) const = default;
};

}  // namespace wgp
