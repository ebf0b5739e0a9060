// The few facts about an inner IP packet the device needs: version, source,
// destination and the length the header claims (padding is trimmed to it).
#pragma once

#include <cstdint>
#include <optional>

#include "util/bytes.h"

namespace wgp {

struct IpHeaderView {
  uint8_t version = 0;  // 4 or 6
  ByteView source;      // 4 or 16 bytes inside the packet
  ByteView destination;
  size_t total_length = 0;  // per the header, ≤ the buffer
};

// nullopt when the bytes are no IPv4/IPv6 packet or claim more bytes than
// `packet` holds.
inline std::optional<IpHeaderView> parse_ip_header(ByteView packet) {
  if (packet.empty()) return std::nullopt;
  IpHeaderView h;
  h.version = packet[0] >> 4;
  if (h.version == 4) {
    if (packet.size() < 20) return std::nullopt;
    h.total_length = load_be16(&packet[2]);
    if (h.total_length < 20) return std::nullopt;
    h.source = packet.subspan(12, 4);
    h.destination = packet.subspan(16, 4);
  } else if (h.version == 6) {
    if (packet.size() < 40) return std::nullopt;
    h.total_length = 40 + size_t(load_be16(&packet[4]));
    h.source = packet.subspan(8, 16);
    h.destination = packet.subspan(24, 16);
  } else {
    return std::nullopt;
  }
  if (h.total_length > packet.size()) return std::nullopt;
  return h;
}

}  // namespace wgp
