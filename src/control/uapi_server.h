// The UAPI control socket (PROTOCOL.md §7.1–7.2): a Unix stream socket at
// <dir>/<iface>.sock, by default /var/run/wireguard, where the stock `wg`
// tool and `wgpunch status` get and set the device's configuration.
//
// Everything runs asynchronously on the caller's io_context (one thread, the
// device's event loop, so DeviceControl is only ever called from there). Each
// connection may carry several requests; a slow or silent client only holds
// its own connection. Garbage, over-long lines and over-large requests close
// the connection. The socket file is removed on shutdown and destruction.
#pragma once

#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <system_error>

#include "control/device_control.h"

namespace wgp::control {

inline constexpr const char* kDefaultSocketDirectory = "/var/run/wireguard";
// Longest accepted line; real lines are under 200 bytes.
inline constexpr size_t kMaxUapiLine = 4096;
// Largest accepted set request; generous enough for thousands of peers.
inline constexpr size_t kMaxUapiRequest = 16 * 1024 * 1024;
// Connections served at once; further ones are closed on accept.
inline constexpr size_t kMaxUapiSessions = 256;

// Where control sockets live: $WGPUNCH_RUN_DIR when set (an unprivileged
// user cannot create sockets in the root-owned default; `wg` only looks in
// the default, `wgpunch status` looks where this says), else the default.
std::filesystem::path socket_directory_from_environment();

// The socket path for `interface_name` under `directory`.
std::filesystem::path uapi_socket_path(const std::filesystem::path& directory,
                                       const std::string& interface_name);

// "interface NAME is already running: SOCKET answers; stop it, or name this
// one otherwise with --interface NAME": the one line for a second start.
std::string already_running_message(const std::string& interface_name,
                                    const std::filesystem::path& socket);

class UapiServer {
 public:
  // Creates `directory` (0755) if missing and listens on <directory>/<name>.sock,
  // created under umask 077 (owner only). A stale socket file left by a dead
  // process is replaced; if another process answers on it, throws
  // std::runtime_error("interface NAME is already running ..."). Other
  // failures throw std::system_error naming the path. `device` must outlive
  // the server.
  UapiServer(boost::asio::io_context& io, std::string interface_name, DeviceControl& device,
             std::optional<std::filesystem::path> directory = std::nullopt);
  // Same as shutdown().
  ~UapiServer();
  UapiServer(const UapiServer&) = delete;
  UapiServer& operator=(const UapiServer&) = delete;

  const std::filesystem::path& socket_path() const;

  // Gives the socket file to `uid`/`gid` (for `up --user`: the user keeps
  // access after dropping root). Call before dropping privileges.
  std::error_code chown_socket(uid_t uid, gid_t gid);

  // Called once (on the io_context thread) when the socket file is deleted
  // or replaced by someone else: wireguard-go shuts the interface down then.
  void on_socket_deleted(std::function<void()> callback);

  // Stops accepting, closes every connection, and removes the socket file
  // (only if it is still ours). Idempotent.
  void shutdown();

  // Connections currently open (for tests and status).
  size_t session_count() const;

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace wgp::control
