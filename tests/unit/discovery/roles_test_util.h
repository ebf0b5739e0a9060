// Small helpers for tests that drive DnssdRoles beside a SimNetwork.
#pragma once

#include <string>

#include "discovery/dnssd_roles.h"
#include "support/sim_network.h"

namespace wgp::testing {

// Moves `net`'s time on by `d` in 50 ms steps, running `roles`' timers at each.
inline void advance_roles(SimNetwork& net, DnssdRoles& roles, Duration d) {
  for (Duration done{}; done < d; done += std::chrono::milliseconds(50)) {
    net.advance(std::chrono::milliseconds(50));
    roles.run_timers(net.now());
  }
}

// One field of what the roles add to `status` ("" when absent).
inline std::string roles_status(const DnssdRoles& roles, const char* key) {
  ExtraFields s;
  roles.add_status(s);
  for (const auto& [k, v] : s)
    if (k == key) return v;
  return "";
}

}  // namespace wgp::testing
