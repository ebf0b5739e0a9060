#include "node/privileges.h"

#include <grp.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <stdexcept>
#include <system_error>

namespace wgp {

UserIds lookup_user(const std::string& user) {
  passwd* pw = getpwnam(user.c_str());
  if (!pw) {
    uid_t uid = 0;
    auto [end, ec] = std::from_chars(user.data(), user.data() + user.size(), uid);
    if (ec == std::errc() && end == user.data() + user.size()) pw = getpwuid(uid);
  }
  if (!pw) throw std::runtime_error("--user " + user + ": no such user");
  return {pw->pw_uid, pw->pw_gid};
}

void drop_privileges(const UserIds& ids) {
  auto check = [](int rc, const char* what) {
    if (rc != 0) throw std::system_error(errno, std::generic_category(), what);
  };
  passwd* pw = getpwuid(ids.uid);
  if (pw)
    check(initgroups(pw->pw_name, ids.gid), "drop privileges: initgroups");
  else
    check(setgroups(0, nullptr), "drop privileges: setgroups");
  // Empty the bounding set while we still may (CAP_SETPCAP): no capability
  // can come back even through a file capability.
  for (int cap = 0; cap <= 63; ++cap)
    if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1)
      check(prctl(PR_CAPBSET_DROP, cap, 0, 0, 0), "drop privileges: bounding set");
  check(setresgid(ids.gid, ids.gid, ids.gid), "drop privileges: setresgid");
  check(setresuid(ids.uid, ids.uid, ids.uid), "drop privileges: setresuid");
  check(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "drop privileges: no_new_privs");
  // Paranoia: a kernel or seccomp quirk that let setresuid succeed partially
  // must not leave us able to get root back.
  if (ids.uid != 0 && setuid(0) == 0)
    throw std::runtime_error("drop privileges: could regain root after dropping it");
}

}  // namespace wgp
