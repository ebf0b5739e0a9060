// What `wgpunch up` does to the network besides WireGuard itself, as wg-quick
// does: MTU, addresses, link up, and a route for every peer's AllowedIPs.
#pragma once

#include <string>
#include <vector>

#include "config/config.h"
#include "tun/tun_device.h"

namespace wgp {

// Applies `config`'s network settings to `tun`. Throws std::system_error
// naming the step that failed. Returns warnings (routes it chose not to add).
std::vector<std::string> configure_interface(const TunDevice& tun, const Config& config);

}  // namespace wgp
