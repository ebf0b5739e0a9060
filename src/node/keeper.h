// The keeper of `up --user USER` (wgpunch(8), PRIVILEGES).
//
// Once the node runs as USER it cannot remove its control socket from the
// root-owned socket directory, and under systemd a root that lacks CAP_KILL
// (the unit's bounding set applies to ExecReload= too) cannot signal it. So
// `up --user` forks before it sets anything up: the child becomes the node
// (sets up as root, then drops to USER with no capability, as before) and the
// parent stays behind as its keeper. The keeper keeps uid 0, the owner of the
// socket directory, so plain owner permissions let it unlink there, and
// nothing else: every capability set and the bounding set empty,
// no_new_privs, no descriptor but stdio and one socketpair to the node. It
//   - forwards SIGHUP, SIGTERM and SIGINT to the node as one byte each over
//     the socketpair (a signal to another uid would need CAP_KILL);
//   - relays the node's sd_notify messages, only the fields a node may send
//     (service::relayable_notify), so they come from the unit's main PID;
//   - waits for the node, removes the control socket if it is still the file
//     the node created, and exits with the node's exit status.
// The node gets SIGTERM when the keeper dies (node/keeper_link.h).
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string_view>
#include <variant>

#include "node/keeper_link.h"
#include "service/sd_notify.h"
#include "util/unique_fd.h"

namespace wgp {

// Node -> keeper: one datagram each, an sd_notify message to relay or this
// word, sent once when the control socket exists (it has no '=', so it is
// never an sd_notify line). Keeper -> node: one byte, a signal number.
inline constexpr std::string_view kSocketCreatedMessage = "SOCKET_CREATED";

class Keeper {
 public:
  // `channel`: the keeper's end of the socketpair; `node`: the child's pid;
  // `socket_path`: the control socket to remove at the end; `notifier`: where
  // relayed messages go.
  Keeper(UniqueFd channel, pid_t node, std::filesystem::path socket_path,
         service::Notifier notifier);

  // Forwards and relays until the node has exited (SIGHUP, SIGTERM, SIGINT
  // and SIGCHLD stay blocked from here on), removes the socket when the node
  // said it created it and the path is still that file, and returns the code
  // to exit with: exit_code_of(the node's wait status).
  int keep();

 private:
  void forward(int signal) const;
  void receive();
  void remove_socket() const;

  UniqueFd channel_;
  pid_t node_;
  std::filesystem::path socket_path_;
  service::Notifier notifier_;
  bool socket_known_ = false;
  dev_t socket_device_ = 0;
  ino_t socket_inode_ = 0;
};

// Forks for `up --user`. In the child (the node) returns its KeeperLink, with
// parent-death SIGTERM armed. In the parent: closes every descriptor but stdio
// and the channel, connects to NOTIFY_SOCKET, sheds its capabilities, and
// returns the Keeper; the caller drops what it holds (the config and its key)
// and ends with keep(). Throws std::system_error (in the parent when it could
// not shed a capability: the child fails the same way at its own drop).
std::variant<Keeper, KeeperLink> fork_keeper(const std::filesystem::path& socket_path);

// Empties the bounding, ambient, inheritable, permitted and effective
// capability sets and sets no_new_privs, keeping the uid. Emptying the
// bounding set needs CAP_SETPCAP. Throws std::system_error.
void shed_capabilities();

// What a parent that waited for a child exits with: the child's exit code,
// or 128 + the number of the signal that killed it (as a shell reports it).
int exit_code_of(int wait_status);

}  // namespace wgp
