// The node's side of its keeper (node/keeper.h): the one socketpair end the
// child of `up --user` holds. Signals the keeper forwards arrive on it as one
// byte each; sd_notify messages and the word that the control socket exists
// go out on it.
#pragma once

#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <functional>

#include "service/sd_notify.h"
#include "util/unique_fd.h"

namespace wgp {

class KeeperLink {
 public:
  KeeperLink(UniqueFd channel, pid_t keeper);

  // Asks the kernel for SIGTERM when the keeper dies (PR_SET_PDEATHSIG), and
  // throws std::runtime_error if it is gone already. A change of credentials
  // clears that request, so call it again after dropping privileges.
  void watch_keeper() const;

  // Tells the keeper that the control socket exists now; it removes that
  // very file once the node has exited.
  void socket_created() const;

  // A Notifier whose messages the keeper relays to the service manager.
  service::Notifier notifier() const;

  // Calls on_signal(signal) on the io_context's thread for every signal the
  // keeper forwards (SIGHUP, SIGTERM, SIGINT), and on_signal(0) once if the
  // keeper goes away.
  void listen(boost::asio::io_context& io, std::function<void(int)> on_signal) const;

  pid_t keeper_pid() const { return keeper_; }

 private:
  UniqueFd channel_;
  pid_t keeper_;
};

}  // namespace wgp
