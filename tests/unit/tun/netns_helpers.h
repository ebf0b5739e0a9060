// Helpers for the TUN and rtnetlink tests: each test process moves itself
// into a private network namespace (unshare(CLONE_NEWNET)) before touching a
// link, so nothing it creates is visible outside and everything vanishes when
// the process exits, also on failure. Without CAP_SYS_ADMIN the tests skip.
#pragma once

#include <arpa/inet.h>
#include <sched.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "net/ip.h"
#include "support/requirements.h"

namespace wgp::testing {

// Enters a fresh network namespace once per process. Returns false when not
// permitted (not root, or root without CAP_SYS_ADMIN), in which case the
// caller must not run: it would touch the host's links.
inline bool enter_private_netns() {
  static const int result = [] { return ::unshare(CLONE_NEWNET) == 0 ? 0 : errno; }();
  return result == 0;
}

// Skips (fails under WGPUNCH_TESTS_STRICT) unless the process is in a
// private network namespace: never runs in the host's, also as root.
#define REQUIRE_PRIVATE_NETNS()                                 \
  do {                                                          \
    if (!::wgp::testing::enter_private_netns())                 \
      WGP_REQUIRE_SETUP_FAILED(                                 \
          "needs a private network namespace (root with "       \
          "CAP_SYS_ADMIN): unshare(CLONE_NEWNET) was refused"); \
  } while (0)

// Runs a shell command inside the test's namespace (children inherit it) and
// returns its standard output; exit status in *status when given.
inline std::string run(const std::string& command, int* status = nullptr) {
  std::string out;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), pipe)) > 0) out.append(buf, n);
  int rc = ::pclose(pipe);
  if (status) *status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  return out;
}

// IpAddress built with inet_pton: the tun module's tests do not link ip.cpp.
inline IpAddress address(const char* text) {
  IpAddress a;
  if (std::strchr(text, ':')) {
    a.family = IpAddress::Family::kV6;
    ::inet_pton(AF_INET6, text, a.bytes.data());
  } else {
    a.family = IpAddress::Family::kV4;
    ::inet_pton(AF_INET, text, a.bytes.data());
  }
  return a;
}

inline IpPrefix prefix(const char* text, uint8_t length) { return IpPrefix{address(text), length}; }

inline InterfaceAddress iface_address(const char* text, uint8_t length) {
  return InterfaceAddress{address(text), length};
}

}  // namespace wgp::testing
