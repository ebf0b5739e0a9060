// Dropping root for `up --user USER` (DESIGN.md §2): once the TUN device,
// routes and sockets exist, the node needs no privilege to keep running.
#pragma once

#include <sys/types.h>

#include <string>

namespace wgp {

struct UserIds {
  uid_t uid;
  gid_t gid;
};

// Looks USER up (name or numeric uid). Throws std::runtime_error naming it.
UserIds lookup_user(const std::string& user);
// Switches to the user and its groups for good; with a non-zero uid this
// also clears every capability, and no_new_privs keeps them from coming back
// through exec. Throws std::system_error on any failure (we must not go on
// half-privileged).
void drop_privileges(const UserIds& ids);

}  // namespace wgp
