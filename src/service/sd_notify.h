// systemd's readiness protocol (sd_notify(3)) without libsystemd: one
// datagram of "KEY=VALUE" lines to the AF_UNIX socket named by the
// NOTIFY_SOCKET environment variable. wgpunch@.service is Type=notify: the
// node says READY=1 once the interface is up, RELOADING=1 then READY=1
// around a SIGHUP reload, and STOPPING=1 when it begins to shut down.
// Building messages and parsing the address are pure (unit-tested); only
// Notifier::send does I/O.
#pragma once

#include <sys/socket.h>
#include <sys/un.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "util/unique_fd.h"

namespace wgp::service {

// "READY=1\nSTATUS=<status>\n". `status` is one line for `systemctl status`;
// newlines in it become spaces (a newline would start a new assignment).
std::string ready_message(std::string_view status);
// "RELOADING=1\nMONOTONIC_USEC=<now>\nSTATUS=reloading\n" (systemd >= 253
// wants the CLOCK_MONOTONIC time of the reload request; older ones ignore it).
std::string reloading_message(std::chrono::microseconds monotonic_now);
// "STOPPING=1\nSTATUS=<status>\n".
std::string stopping_message(std::string_view status);

// The socket address NOTIFY_SOCKET names: an absolute path, or "@name" for
// the abstract namespace. nullopt for anything else (empty, relative, too
// long, a vsock address), which means "no systemd to tell".
struct NotifyAddress {
  sockaddr_un address{};
  socklen_t length = 0;
};
std::optional<NotifyAddress> parse_notify_socket(std::string_view value);

// The lines of `message` that a relay (the keeper of `up --user`, see
// node/keeper.h) passes on from the unprivileged node to the service manager:
// READY, RELOADING, STOPPING, STATUS and MONOTONIC_USEC. Anything else, such as
// MAINPID= or FDSTORE=, which would let the node speak for its keeper, is
// dropped. Empty when no line is left.
std::string relayable_notify(std::string_view message);

// Sends messages to the service manager, if there is one.
class Notifier {
 public:
  // From NOTIFY_SOCKET; a Notifier that sends nothing when it is unset or
  // unusable (no socket listening there). The socket is opened and connected
  // now, so sending needs no privilege later.
  static Notifier from_environment();
  // Sends on `fd`, a datagram socket already connected to whoever relays
  // the messages (the keeper's end of a socketpair).
  static Notifier from_connected(UniqueFd fd);

  bool enabled() const { return bool(fd_); }
  // One datagram; failures are ignored (the manager may be gone) but
  // reported by the return value for tests.
  bool send(std::string_view message) const;

 private:
  UniqueFd fd_;  // connected to the manager's socket
};

}  // namespace wgp::service
