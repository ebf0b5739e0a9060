// apply_reload: the plan's steps, each through DeviceControl.
#include "service/reload_apply.h"

namespace wgp::service {

std::vector<std::string> apply_reload(const ReloadPlan& plan, DeviceControl& device) {
  std::vector<std::string> failures;
  for (const PublicKey& key : plan.removed_peers) device.remove_peer(key);
  if (plan.private_key) device.set_private_key(*plan.private_key);
  if (plan.listen_port)
    if (auto ec = device.set_listen_port(*plan.listen_port))
      failures.push_back("ListenPort " + std::to_string(*plan.listen_port) +
                         " not applied: " + ec.message() + "; keeping the current port");
  if (plan.fwmark)
    if (auto ec = device.set_fwmark(*plan.fwmark))
      failures.push_back("FwMark not applied: " + ec.message());
  for (const PeerUpdate& u : plan.peers) {
    if (u.is_new && !device.add_peer(u.public_key)) {
      failures.push_back("peer " + key_to_base64(u.public_key) + " not added");
      continue;
    }
    if (u.preshared_key) device.set_peer_preshared_key(u.public_key, *u.preshared_key);
    if (u.endpoint) device.set_peer_config_endpoint(u.public_key, *u.endpoint);
    if (u.allowed_ips) {
      device.clear_peer_allowed_ips(u.public_key);
      for (const IpPrefix& p : *u.allowed_ips) device.add_peer_allowed_ip(u.public_key, p);
    }
  }
  for (const PeerUpdate& u : plan.peers)
    if (u.persistent_keepalive)
      device.set_peer_persistent_keepalive(u.public_key, *u.persistent_keepalive);
  return failures;
}

std::string summarize(const ReloadPlan& plan) {
  if (plan.empty()) return "no change";
  std::string out = std::to_string(plan.added()) + " peer(s) added, " +
                    std::to_string(plan.removed_peers.size()) + " removed, " +
                    std::to_string(plan.changed()) + " changed";
  if (plan.private_key) out += ", new private key";
  if (plan.listen_port) out += ", listen port " + std::to_string(*plan.listen_port);
  if (plan.fwmark) out += ", fwmark";
  return out;
}

}  // namespace wgp::service
