// Where in-tunnel DNS goes (DESIGN.md §4, §5): to a peer's address inside
// the tunnel, which is a host prefix of its AllowedIPs (/32 or /128), from
// our own tunnel address (Address=) of the same family, port 53 at both
// ends. The registry NOTIFYs peers this way; discovery asks its registry
// this way.
#pragma once

#include <optional>
#include <span>

#include "net/ip.h"
#include "wg/device.h"

namespace wgp {

// Port 53 at both ends of in-tunnel DNS: wgpunch's discovery asks from it
// (stock clients use an ephemeral port), and that is how the registry tells
// a peer that runs discovery from a person running dig.
constexpr uint16_t kDnsPort = 53;

struct TunnelRoute {
  IpAddress ours;
  IpAddress theirs;
};

// The first host prefix of `peer`'s allowed IPs in a family one of `ours`
// has, with that address of ours; nullopt when there is none.
std::optional<TunnelRoute> tunnel_route(const Device& device, const Peer& peer,
                                        std::span<const IpAddress> ours);

}  // namespace wgp
