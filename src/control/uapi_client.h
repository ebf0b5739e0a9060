// A small blocking UAPI client for `wgpunch status` and tests: connect to a
// control socket, send one request, read one reply. Every wait is bounded by
// a timeout, so a hung server cannot hang the caller.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wgp::control {

inline constexpr std::chrono::milliseconds kUapiClientTimeout{3000};
// A reply larger than this is refused (a get for tens of thousands of peers fits).
inline constexpr size_t kMaxUapiReply = 64 * 1024 * 1024;

struct UapiExchange {
  std::optional<std::string> reply;  // up to and including the blank line
  std::string error;                 // set when reply is nullopt
};

// Connects to `socket_path`, sends `request` verbatim (e.g. "get=1\n\n") and
// reads until the reply's terminating blank line. Errors name the path and
// the system error; they never contain request contents.
UapiExchange uapi_request(const std::filesystem::path& socket_path, std::string_view request,
                          std::chrono::milliseconds timeout = kUapiClientTimeout);

// The interfaces with a live control socket in `directory`, sorted by name:
// every `NAME.sock` that accepts a connection (what `wg show` lists).
std::vector<std::string> list_uapi_interfaces(const std::filesystem::path& directory);

}  // namespace wgp::control
