// Bringing an interface up and running it until it is told to stop: the
// order of the steps is the contract of DESIGN.md §2 — TUN, network settings,
// UDP socket, control socket, and only then dropping privileges.
#pragma once

#include <optional>
#include <string>

#include "config/config.h"
#include "node/privileges.h"

namespace wgp {

struct RunOptions {
  std::string interface_name;
  std::optional<Config> config;     // `up CONFIG`; nullopt: configured over the socket
  std::optional<std::string> user;  // --user
  std::optional<UserIds> user_ids;  // looked up from `user` (main does, to load the config)
  // wireguard-go's convention: return once ready and keep running in the
  // background (false with -f or WG_PROCESS_FOREGROUND=1).
  bool daemonize = false;
};

// Runs the interface; returns the process exit code (0 after a clean
// shutdown on SIGINT/SIGTERM or when the TUN device or socket is removed).
// SIGHUP reloads the config file (service/reloader.h). Under systemd
// (NOTIFY_SOCKET set, not daemonizing) it reports READY=1, RELOADING=1 and
// STOPPING=1. Setup errors throw with one clear line.
int run_interface(RunOptions options);

}  // namespace wgp
