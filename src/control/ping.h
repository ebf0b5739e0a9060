// `wgpunch ping PEER [-c COUNT] [-i SECONDS] [-I IFACE]` (DESIGN.md §9), like
// `tailscale ping`: ICMP echoes to the peer's tunnel address, each reply with
// its round-trip time and the path it took — direct, or through which relay —
// read from the node right after it came back, and a line when the path
// changes (a relayed peer going direct). PEER is a public key (base64) or a
// tunnel address; the running interface that has the peer is found through
// the control sockets (or named with -I).
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <string_view>

#include "control/device_control.h"

namespace wgp::control {

struct PingOptions {
  std::string peer;  // as given: a key or an address
  int count = 10;
  std::chrono::milliseconds interval{1000};
  std::chrono::milliseconds timeout{1000};  // per echo
  std::optional<std::string> interface_name;
  std::filesystem::path socket_directory;
};

// Parses the arguments after "ping". Throws std::invalid_argument with one line.
PingOptions parse_ping_args(std::span<const std::string_view> args);

// The peer `text` names in `device`: its public key, or the peer whose
// allowed IPs hold a host prefix equal to the address. With the address to
// ping (the first host prefix of the peer's allowed IPs, or the given one).
struct PingTarget {
  PublicKey key{};
  IpAddress address;
};
std::optional<PingTarget> find_ping_target(const DeviceSnapshot& device, std::string_view text);

// "direct", "relay via KEY" or "none": the peer's path in a status snapshot.
std::string path_in(const DeviceSnapshot& device, const PublicKey& key);

// Runs the command. Exit code 0 when at least one reply came, 1 when none
// did, 2 for a peer that no running interface has.
int run_ping(const PingOptions& options, std::ostream& out, std::ostream& err);

}  // namespace wgp::control
