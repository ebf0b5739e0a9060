// Reloader: load, plan, apply, log.
#include "service/reloader.h"

#include "service/reload_apply.h"
#include "service/reload_plan.h"
#include "util/log.h"

namespace wgp::service {

Reloader::Reloader(Config started, std::optional<gid_t> trusted_group)
    : path_(started.path),
      trusted_group_(trusted_group),
      routed_(routed_prefixes(started)),
      running_(std::move(started)) {}

std::vector<std::pair<PublicKey, std::string>> peer_names(const Config& config) {
  std::vector<std::pair<PublicKey, std::string>> names;
  for (const PeerConfig& p : config.peers)
    if (!p.name.empty()) names.emplace_back(p.public_key, p.name);
  return names;
}

bool Reloader::reload(DeviceControl& device) {
  Config next;
  try {
    next = load_config(path_, trusted_group_);
  } catch (const std::exception& e) {
    Log::info("reload failed, nothing changed: ", e.what());
    return false;
  }
  for (const std::string& w : next.warnings) Log::info("reload: warning: ", w);
  ReloadPlan plan = plan_reload(running_, next, device.snapshot(), routed_);
  for (const std::string& note : plan.notes) Log::info("reload: ", note);
  for (const std::string& failure : apply_reload(plan, device)) Log::info("reload: ", failure);
  device.peers_reconfigured(peer_names(next));
  restart_needed_ = service::restart_needed(running_, next);
  running_ = applied_config(running_, std::move(next));
  std::string summary = summarize(plan);
  if (!restart_needed_.empty()) {
    std::string list;
    for (const std::string& s : restart_needed_) list += (list.empty() ? "" : ", ") + s;
    summary += "; restart needed: " + list;
  }
  Log::info("reloaded ", path_, ": ", summary);
  return true;
}

void add_restart_needed(ExtraFields& extra, const std::vector<std::string>& pending) {
  if (pending.empty()) return;
  std::string list;
  for (const std::string& s : pending) list += (list.empty() ? "" : ", ") + s;
  extra.emplace_back("restart_needed", list);
}

}  // namespace wgp::service
