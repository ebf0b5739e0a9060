// `wgpunch status [IFACE] [--json]`: a client of the control socket. It asks
// each running interface (or the one named) for `get=1`, parses the reply
// and prints what `wg show` would, plus wgpunch's extra fields, or JSON.
#pragma once

#include <filesystem>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <string_view>

#include "control/device_control.h"
#include "control/uapi_server.h"

namespace wgp::control {

struct StatusOptions {
  std::optional<std::string> interface_name;  // nullopt = every running interface
  bool json = false;
  std::filesystem::path socket_directory = kDefaultSocketDirectory;
};

// Parses the arguments after "status": at most one interface name and
// `--json`, in any order. Throws std::invalid_argument with a one-line
// message (unknown option, two names, a name that is not a valid interface name).
StatusOptions parse_status_args(std::span<const std::string_view> args);

// Fetches one interface's state over its socket. Returns nullopt and sets
// `error` (one line) when it is not running or answers nonsense.
std::optional<DeviceSnapshot> fetch_status(const std::filesystem::path& socket_directory,
                                           const std::string& interface_name, std::string& error);

// Runs the command: prints to `out`, errors (one line each) to `err`.
// Returns the exit code: 0 on success, 1 when an interface is not running,
// none is, or a reply cannot be read. `now` measures "latest handshake ... ago".
int run_status(const StatusOptions& options, std::ostream& out, std::ostream& err, WallTime now);

}  // namespace wgp::control
