// wgpunch's command line (DESIGN.md §2). Every error ends here as one line on
// stderr and a non-zero exit code.
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "config/keys_cli.h"
#include "control/ping.h"
#include "control/status.h"
#include "node/runner.h"
#include "util/version.h"

namespace {

constexpr const char* kUsage =
    "Usage:\n"
    "  wgpunch up CONFIG [--interface NAME] [--user USER]\n"
    "  wgpunch check CONFIG [--interface NAME]\n"
    "  wgpunch status [IFACE] [--json]\n"
    "  wgpunch ping PEER [-c COUNT] [-i SECONDS] [-W SECONDS] [-I IFACE]\n"
    "  wgpunch genkey | pubkey | genpsk\n"
    "  wgpunch --version\n"
    "  wgpunch [-f|--foreground] IFACE      (wireguard-go's convention, for wg-quick)\n";

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Linux interface names: 1..15 bytes, no '/', no whitespace, not "." or "..".
bool valid_interface_name(std::string_view name) {
  if (name.empty() || name.size() > 15 || name == "." || name == "..") return false;
  for (char c : name)
    if (c == '/' || c == ':' || c <= ' ') return false;
  return true;
}

std::string interface_from_config_path(const std::string& path) {
  std::string base = path.substr(path.find_last_of('/') + 1);
  if (base.size() > 5 && base.ends_with(".conf")) base.resize(base.size() - 5);
  return base;
}

int cmd_up(std::span<const std::string_view> args) {
  wgp::RunOptions options;
  std::optional<std::string> config_path, interface_name;
  for (size_t i = 0; i < args.size(); ++i) {
    auto value = [&](std::string_view flag) {
      if (i + 1 >= args.size()) throw UsageError(std::string(flag) + " needs a value");
      return std::string(args[++i]);
    };
    if (args[i] == "--interface" || args[i] == "-i")
      interface_name = value(args[i]);
    else if (args[i] == "--user" || args[i] == "-u")
      options.user = value(args[i]);
    else if (!args[i].starts_with("-") && !config_path)
      config_path = std::string(args[i]);
    else
      throw UsageError("up: unexpected argument '" + std::string(args[i]) + "'");
  }
  if (!config_path) throw UsageError("up: CONFIG is missing");
  // The --user's group may read the config (it reads it again on SIGHUP).
  std::optional<gid_t> trusted_group;
  if (options.user) {
    options.user_ids = wgp::lookup_user(*options.user);
    trusted_group = options.user_ids->gid;
  }
  options.config = wgp::load_config(*config_path, trusted_group);
  for (const std::string& w : options.config->warnings)
    std::cerr << "wgpunch: warning: " << w << "\n";
  options.interface_name = interface_name.value_or(interface_from_config_path(*config_path));
  if (!valid_interface_name(options.interface_name))
    throw UsageError("'" + options.interface_name +
                     "' is not a valid interface name (1-15 characters); use --interface NAME");
  return wgp::run_interface(std::move(options));
}

// `check CONFIG`: everything `up` reads and validates before it touches the
// system, and nothing more (as `nebula -test`): one line and 0 when it is
// good; warnings as `up` prints them; the first mistake as one line naming
// file, line and key, exit 1 (from main).
int cmd_check(std::span<const std::string_view> args) {
  std::optional<std::string> config_path, interface_name;
  for (size_t i = 0; i < args.size(); ++i) {
    if ((args[i] == "--interface" || args[i] == "-i") && i + 1 < args.size())
      interface_name = std::string(args[++i]);
    else if (!args[i].starts_with("-") && !config_path)
      config_path = std::string(args[i]);
    else
      throw UsageError("check: unexpected argument '" + std::string(args[i]) + "'");
  }
  if (!config_path) throw UsageError("check: CONFIG is missing");
  wgp::Config config = wgp::load_config(*config_path);
  for (const std::string& w : config.warnings) std::cerr << "wgpunch: warning: " << w << "\n";
  std::string name = interface_name.value_or(interface_from_config_path(*config_path));
  if (!valid_interface_name(name))
    throw std::runtime_error(*config_path + ": '" + name +
                             "' is not a valid interface name (1-15 characters); rename the file "
                             "or use --interface NAME");
  std::cout << *config_path << ": ok, interface " << name << ", " << config.peers.size()
            << (config.peers.size() == 1 ? " peer" : " peers")
            << (config.registry ? ", registry for " + config.registry->zone : "")
            << (config.discovery ? ", discovery in " + config.discovery->zone : "") << "\n";
  return 0;
}

int cmd_wireguard_go(std::span<const std::string_view> args) {
  wgp::RunOptions options;
  bool foreground = false;
  if (const char* env = std::getenv("WG_PROCESS_FOREGROUND"); env && std::string_view(env) == "1")
    foreground = true;
  for (std::string_view a : args) {
    if (a == "-f" || a == "--foreground")
      foreground = true;
    else if (!a.starts_with("-") && options.interface_name.empty())
      options.interface_name = std::string(a);
    else
      throw UsageError("unexpected argument '" + std::string(a) + "'");
  }
  if (!valid_interface_name(options.interface_name))
    throw UsageError("'" + options.interface_name + "' is not a valid interface name");
  options.daemonize = !foreground;
  return wgp::run_interface(std::move(options));
}

int dispatch(std::span<const std::string_view> args) {
  if (args.empty()) throw UsageError("no command given");
  std::string_view cmd = args[0];
  auto rest = args.subspan(1);
  if (cmd == "-h" || cmd == "--help" || cmd == "help") {
    std::cout << kUsage;
    return 0;
  }
  if (cmd == "--version" || cmd == "version") {
    std::cout << "wgpunch " << wgp::kVersion << "\n";
    return 0;
  }
  if (cmd == "genkey" || cmd == "genpsk" || cmd == "pubkey") {
    if (!rest.empty()) throw UsageError(std::string(cmd) + " takes no arguments");
    if (cmd == "genkey") wgp::genkey(std::cout);
    if (cmd == "genpsk") wgp::genpsk(std::cout);
    if (cmd == "pubkey") wgp::pubkey(std::cin, std::cout);
    return 0;
  }
  if (cmd == "ping") {
    auto options = wgp::control::parse_ping_args(rest);
    options.socket_directory = wgp::control::socket_directory_from_environment();
    return wgp::control::run_ping(options, std::cout, std::cerr);
  }
  if (cmd == "status") {
    auto options = wgp::control::parse_status_args(rest);
    options.socket_directory = wgp::control::socket_directory_from_environment();
    return wgp::control::run_status(options, std::cout, std::cerr,
                                    std::chrono::system_clock::now());
  }
  if (cmd == "up") return cmd_up(rest);
  if (cmd == "check") return cmd_check(rest);
  return cmd_wireguard_go(args);
}

}  // namespace

int main(int argc, char** argv) {
  // Writes to a closed pipe (a log reader gone) must fail, not kill the node.
  std::signal(SIGPIPE, SIG_IGN);
  std::vector<std::string_view> args(argv + 1, argv + argc);
  try {
    return dispatch(args);
  } catch (const UsageError& e) {
    std::cerr << "wgpunch: " << e.what() << "\n" << kUsage;
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "wgpunch: " << e.what() << "\n";
    return 1;
  }
}
