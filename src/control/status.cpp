#include "control/status.h"

#include <stdexcept>

#include "control/status_json.h"
#include "control/status_text.h"
#include "control/uapi_client.h"
#include "control/uapi_reply.h"

namespace wgp::control {
namespace {

// Linux interface names: 1–15 bytes, no '/', no whitespace, not "." or "..".
bool valid_interface_name(std::string_view name) {
  if (name.empty() || name.size() > 15 || name == "." || name == "..") return false;
  for (char c : name) {
    if (c == '/' || c == ':' || static_cast<unsigned char>(c) <= ' ') return false;
  }
  return true;
}

}  // namespace

StatusOptions parse_status_args(std::span<const std::string_view> args) {
  StatusOptions options;
  for (std::string_view arg : args) {
    if (arg == "--json") {
      options.json = true;
    } else if (arg.starts_with("-")) {
      throw std::invalid_argument("status: unknown option " + std::string(arg));
    } else if (options.interface_name) {
      throw std::invalid_argument("status: more than one interface given");
    } else if (!valid_interface_name(arg)) {
      throw std::invalid_argument("status: invalid interface name '" + std::string(arg) + "'");
    } else {
      options.interface_name = std::string(arg);
    }
  }
  return options;
}

std::optional<DeviceSnapshot> fetch_status(const std::filesystem::path& socket_directory,
                                           const std::string& interface_name, std::string& error) {
  auto exchange = uapi_request(uapi_socket_path(socket_directory, interface_name), "get=1\n\n");
  if (!exchange.reply) {
    error = "interface " + interface_name + " is not running: " + exchange.error;
    return std::nullopt;
  }
  DeviceSnapshot device;
  device.interface_name = interface_name;
  auto parsed = parse_get_reply(*exchange.reply, device);
  if (!parsed.ok) {
    error = "interface " + interface_name + ": unreadable reply: " + parsed.error;
    return std::nullopt;
  }
  return device;
}

int run_status(const StatusOptions& options, std::ostream& out, std::ostream& err, WallTime now) {
  std::vector<std::string> names;
  if (options.interface_name) {
    names.push_back(*options.interface_name);
  } else {
    names = list_uapi_interfaces(options.socket_directory);
    if (names.empty()) {
      err << "wgpunch status: no interface is running (no control socket answers in "
          << options.socket_directory.string() << ")\n";
      return 1;
    }
  }
  std::vector<DeviceSnapshot> devices;
  int exit_code = 0;
  for (const auto& name : names) {
    std::string error;
    if (auto device = fetch_status(options.socket_directory, name, error)) {
      devices.push_back(std::move(*device));
    } else {
      err << "wgpunch status: " << error << '\n';
      exit_code = 1;
    }
  }
  if (options.json) {
    if (!devices.empty() || exit_code == 0) print_status_json(devices, out);
    return exit_code;
  }
  for (size_t i = 0; i < devices.size(); ++i) {
    if (i) out << '\n';
    print_status_text(devices[i], now, out);
  }
  return exit_code;
}

}  // namespace wgp::control
