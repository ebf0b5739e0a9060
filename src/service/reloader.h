// SIGHUP for `wgpunch up CONFIG`: read CONFIG again and bring the running
// device in line with it (reload_plan.h says what changes and what needs a
// restart), logging each outcome. What needs a restart stays pending: every
// reload says so again, and `status` shows it (add_restart_needed). A file that no longer parses
// changes nothing: the node keeps running on what it has, and the error is logged with file, line
// and key like at start.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "control/device_control.h"

namespace wgp::service {

// The [Peer] Names of `config` (DESIGN.md §11), for a registry.
std::vector<std::pair<PublicKey, std::string>> peer_names(const Config& config);

class Reloader {
 public:
  // `started`: the config the node was started with (its routes are the ones
  // that exist). `trusted_group`: see load_config.
  Reloader(Config started, std::optional<gid_t> trusted_group);

  // Reads the file and applies it to `device`. Returns false when the file
  // could not be read or parsed (nothing changed then).
  bool reload(DeviceControl& device);

  const std::string& path() const { return path_; }
  // The settings of the last file read that run only after a restart (see
  // restart_needed in reload_plan.h); empty when none wait.
  const std::vector<std::string>& restart_needed() const { return restart_needed_; }

 private:
  std::string path_;
  std::optional<gid_t> trusted_group_;
  std::vector<IpPrefix> routed_;
  // What runs: the last file's settings as far as a reload applied them,
  // the start's for the rest, so the next reload still sees those pending.
  Config running_;
  std::vector<std::string> restart_needed_;
};

// The `status` line for what waits for a restart: "restart_needed" =
// "Address, [Registry] TransferKey" (shown as "restart needed: ..."), added
// to `extra` only when something waits.
void add_restart_needed(ExtraFields& extra, const std::vector<std::string>& pending);

}  // namespace wgp::service
