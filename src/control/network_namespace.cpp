#include "control/network_namespace.h"

#include <net/if.h>

#include <filesystem>

namespace wgp::control {

std::string current_network_namespace() {
  std::error_code ec;
  auto link = std::filesystem::read_symlink("/proc/self/ns/net", ec);
  return ec ? std::string() : link.string();
}

NamespaceMatch network_namespace_match(const DeviceSnapshot& device, const std::string& ours) {
  for (const auto& [key, value] : device.extra)
    if (key == kNetworkNamespaceField)
      return ours.empty() || value == ours ? NamespaceMatch::kOurs : NamespaceMatch::kOther;
  // A node that says nothing (an older wgpunch, wireguard-go) has a network
  // interface of its own name where it runs: none here, it runs elsewhere.
  if (if_nametoindex(device.interface_name.c_str()) == 0) return NamespaceMatch::kOther;
  return NamespaceMatch::kUnknown;
}

bool in_network_namespace(const DeviceSnapshot& device, const std::string& ours) {
  for (const auto& [key, value] : device.extra)
    if (key == kNetworkNamespaceField) return ours.empty() || value == ours;
  return true;
}

}  // namespace wgp::control
