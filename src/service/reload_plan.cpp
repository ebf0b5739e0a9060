// plan_reload: the config diff of reload_plan.h, field by field.
#include "service/reload_plan.h"

#include <algorithm>
#include <map>
#include <set>

namespace wgp::service {
namespace {

const PeerConfig* find(const Config& config, const PublicKey& key) {
  for (const PeerConfig& p : config.peers)
    if (p.public_key == key) return &p;
  return nullptr;
}

std::vector<IpPrefix> sorted(std::vector<IpPrefix> prefixes) {
  std::sort(prefixes.begin(), prefixes.end());
  prefixes.erase(std::unique(prefixes.begin(), prefixes.end()), prefixes.end());
  return prefixes;
}

bool covered(const IpPrefix& p, const std::vector<IpPrefix>& routed) {
  return std::any_of(routed.begin(), routed.end(), [&](const IpPrefix& r) {
    return r.address.family == p.address.family && r.length <= p.length && r.contains(p.address);
  });
}

// What differs between two [Registry] sections, by setting.
void registry_changes(const std::optional<RegistryConfig>& a,
                      const std::optional<RegistryConfig>& b, std::vector<std::string>& out) {
  if (a.has_value() != b.has_value()) {
    out.push_back("[Registry]");  // added or removed
    return;
  }
  if (!a) return;
  bool same_key = a->transfer_key == b->transfer_key ||
                  (a->transfer_key && b->transfer_key && *a->transfer_key == *b->transfer_key);
  if (a->zone != b->zone) out.push_back("[Registry] Zone");
  if (a->is_public != b->is_public) out.push_back("[Registry] Public");
  if (a->relay != b->relay) out.push_back("[Registry] Relay");
  if (a->name_servers != b->name_servers) out.push_back("[Registry] NameServer");
  if (a->secondaries != b->secondaries) out.push_back("[Registry] Secondary");
  if (!same_key) out.push_back("[Registry] TransferKey");
  if (a->self != b->self) out.push_back("[Registry] Self");
  if (a->self_endpoint != b->self_endpoint) out.push_back("[Registry] SelfEndpoint");
}

void discovery_changes(const std::optional<DiscoveryConfig>& a,
                       const std::optional<DiscoveryConfig>& b, std::vector<std::string>& out) {
  if (a.has_value() != b.has_value()) {
    out.push_back("[Discovery]");  // added or removed
    return;
  }
  if (!a) return;
  if (a->registries != b->registries) out.push_back("[Discovery] Registry");
  if (a->zone != b->zone) out.push_back("[Discovery] Zone");
  if (a->interval_seconds != b->interval_seconds) out.push_back("[Discovery] Interval");
  if (a->local_candidates != b->local_candidates) out.push_back("[Discovery] LocalCandidates");
}

// The interface's own settings: key, port, fwmark, and what needs a restart.
void plan_interface(const Config& previous, const Config& next, const DeviceSnapshot& running,
                    ReloadPlan& plan) {
  if (!running.private_key || !(*running.private_key == next.private_key)) {
    plan.private_key = next.private_key.clone();
    plan.notes.push_back("PrivateKey changed: the public key is now " +
                         key_to_base64(next.public_key) +
                         "; every session ends and peers must know the new key");
  }
  if (next.listen_port && *next.listen_port != running.listen_port)
    plan.listen_port = next.listen_port;
  else if (!next.listen_port && previous.listen_port)
    plan.notes.push_back("ListenPort removed: keeping port " + std::to_string(running.listen_port));
  if (next.fwmark.value_or(0) != running.fwmark) plan.fwmark = next.fwmark.value_or(0);
  for (const std::string& setting : restart_needed(previous, next))
    plan.notes.push_back(setting + " changed: not applied by a reload; restart to apply");
}

// One peer of `next`: everything when new, else what differs from running.
std::optional<PeerUpdate> plan_peer(const PeerConfig& want, const PeerConfig* before,
                                    const PeerSnapshot* now) {
  PeerUpdate u;
  u.public_key = want.public_key;
  u.is_new = now == nullptr;
  PresharedKey psk = want.preshared_key ? want.preshared_key->clone() : PresharedKey();
  // Applied in the file's order (a registry's TXT lists them so, §11),
  // compared as sets.
  std::vector<IpPrefix> allowed;
  for (const IpPrefix& p : want.allowed_ips)
    if (std::find(allowed.begin(), allowed.end(), p) == allowed.end()) allowed.push_back(p);
  if (u.is_new) {
    u.preshared_key = std::move(psk);
    u.endpoint = want.endpoint;
    u.allowed_ips = allowed;
    u.persistent_keepalive = want.persistent_keepalive;
    return u;
  }
  if (!(psk == now->preshared_key)) u.preshared_key = std::move(psk);
  bool line_changed = !before || before->endpoint != want.endpoint;
  if (want.endpoint && line_changed && now->endpoint != want.endpoint) u.endpoint = want.endpoint;
  if (sorted(allowed) != sorted(now->allowed_ips)) u.allowed_ips = allowed;
  if (want.persistent_keepalive != now->persistent_keepalive)
    u.persistent_keepalive = want.persistent_keepalive;
  bool any = u.preshared_key || u.endpoint || u.allowed_ips || u.persistent_keepalive;
  if (!any) return std::nullopt;
  return u;
}

}  // namespace

size_t ReloadPlan::added() const {
  return size_t(
      std::count_if(peers.begin(), peers.end(), [](const PeerUpdate& u) { return u.is_new; }));
}

bool ReloadPlan::empty() const {
  return !private_key && !listen_port && !fwmark && removed_peers.empty() && peers.empty();
}

ReloadPlan plan_reload(const Config& previous, const Config& next, const DeviceSnapshot& running,
                       const std::vector<IpPrefix>& routed) {
  ReloadPlan plan;
  plan_interface(previous, next, running, plan);
  std::map<PublicKey, const PeerSnapshot*> now;
  for (const PeerSnapshot& p : running.peers) now.emplace(p.public_key, &p);
  for (const PeerSnapshot& p : running.peers)
    if (!find(next, p.public_key)) plan.removed_peers.push_back(p.public_key);

  std::set<IpPrefix> unrouted;
  for (const PeerConfig& want : next.peers) {
    auto it = now.find(want.public_key);
    const PeerSnapshot* current = it == now.end() ? nullptr : it->second;
    auto update = plan_peer(want, find(previous, want.public_key), current);
    if (!update) continue;
    if (update->allowed_ips)
      for (const IpPrefix& p : *update->allowed_ips)
        if (p.length > 0 && !covered(p, routed)) unrouted.insert(p);
    plan.peers.push_back(std::move(*update));
  }
  if (!unrouted.empty()) {
    std::string list;
    for (const IpPrefix& p : unrouted) list += (list.empty() ? "" : ", ") + p.to_string();
    plan.notes.push_back("AllowedIPs " + list +
                         ": no route into the interface (a reload adds none); add one with "
                         "'ip route add PREFIX dev IFACE' or restart");
  }
  return plan;
}

std::vector<std::string> restart_needed(const Config& running, const Config& file) {
  std::vector<std::string> out;
  if (file.addresses != running.addresses) out.push_back("Address");
  if (file.mtu != running.mtu) out.push_back("MTU");
  if (file.metrics_listen != running.metrics_listen) out.push_back("MetricsListen");
  if (file.port_mapping != running.port_mapping) out.push_back("PortMapping");
  registry_changes(running.registry, file.registry, out);
  discovery_changes(running.discovery, file.discovery, out);
  return out;
}

Config applied_config(const Config& running, Config file) {
  file.addresses = running.addresses;
  file.mtu = running.mtu;
  file.metrics_listen = running.metrics_listen;
  file.port_mapping = running.port_mapping;
  file.registry = running.registry;
  file.discovery = running.discovery;
  return file;
}

std::vector<IpPrefix> routed_prefixes(const Config& config) {
  std::vector<IpPrefix> out;
  for (const InterfaceAddress& a : config.addresses)
    if (auto p = IpPrefix::parse(a.to_string())) out.push_back(*p);
  for (const PeerConfig& peer : config.peers)
    for (const IpPrefix& p : peer.allowed_ips)
      if (p.length > 0) out.push_back(p);
  return sorted(std::move(out));
}

}  // namespace wgp::service
