#include "discovery/tunnel_route.h"

namespace wgp {

std::optional<TunnelRoute> tunnel_route(const Device& device, const Peer& peer,
                                        std::span<const IpAddress> ours) {
  for (const IpPrefix& prefix : device.allowed_ips().prefixes_of(&peer)) {
    if (prefix.length != (prefix.address.is_v4() ? 32 : 128)) continue;
    for (const IpAddress& source : ours)
      if (source.family == prefix.address.family) return TunnelRoute{source, prefix.address};
  }
  return std::nullopt;
}

}  // namespace wgp
