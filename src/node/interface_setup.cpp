#include "node/interface_setup.h"

#include <set>

#include "tun/netlink.h"

namespace wgp {

std::vector<std::string> configure_interface(const TunDevice& tun, const Config& config) {
  std::vector<std::string> warnings;
  Netlink nl = Netlink::open();
  int index = tun.ifindex();
  nl.set_mtu(index, config.mtu);
  for (const InterfaceAddress& a : config.addresses) nl.add_address(index, a);
  nl.set_link_up(index);

  std::set<IpPrefix> routed;
  for (const PeerConfig& peer : config.peers) {
    for (const IpPrefix& prefix : peer.allowed_ips) {
      if (!routed.insert(prefix).second) continue;
      if (prefix.length == 0) {
        // A default route through the tunnel would also capture the tunnel's
        // own UDP packets; wg-quick avoids that with fwmark policy routing,
        // which wgpunch leaves to the administrator.
        warnings.push_back("AllowedIPs " + prefix.to_string() +
                           ": no default route added; route it yourself (with FwMark and a "
                           "policy rule, as wg-quick does)");
        continue;
      }
      nl.add_route(index, prefix);
    }
  }
  return warnings;
}

}  // namespace wgp
