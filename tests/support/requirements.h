// What a unit test needs from the machine, checked before it is used: root,
// a tool, a property such as who may open /dev/net/tun. Without it the test
// skips with a message that starts "SKIP:" (scripts/test lists those above
// its summary line).
//
// Root and the tools scripts/test installs are not machine properties:
// scripts/test, run as root, sets WGPUNCH_TESTS_STRICT=1, and then a test
// that would skip for want of either fails instead, so a broken setup can
// never pass as a green run. Properties of the machine itself (the mode of
// /dev/net/tun, a kernel feature) always skip, naming what is missing.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <string_view>

namespace wgp::testing {

inline bool tests_are_strict() {
  const char* v = std::getenv("WGPUNCH_TESTS_STRICT");
  return v && std::string_view(v) == "1";
}

inline bool tool_installed(const std::string& command) {
  return std::system(("command -v " + command + " >/dev/null 2>&1").c_str()) == 0;
}

}  // namespace wgp::testing

// Skips the test (or fails it under WGPUNCH_TESTS_STRICT) unless running as root.
#define WGP_REQUIRE_ROOT(why)                                                        \
  do {                                                                               \
    if (::geteuid() != 0) {                                                          \
      if (::wgp::testing::tests_are_strict()) GTEST_FAIL() << "needs root: " << why; \
      GTEST_SKIP() << "SKIP: needs root: " << why;                                   \
    }                                                                                \
  } while (0)

// Skips the test (or fails it under WGPUNCH_TESTS_STRICT) unless `command` is on PATH.
#define WGP_REQUIRE_TOOL(command)                                                            \
  do {                                                                                       \
    if (!::wgp::testing::tool_installed(command)) {                                          \
      if (::wgp::testing::tests_are_strict())                                                \
        GTEST_FAIL() << command << " is not installed (scripts/test installs it)";           \
      GTEST_SKIP() << "SKIP: " << command << " is not installed (scripts/test installs it)"; \
    }                                                                                        \
  } while (0)

// Skips the test (or fails it under WGPUNCH_TESTS_STRICT) because a privilege
// it needs is missing although the test may run as root: root without
// CAP_SYS_ADMIN (a container, `capsh --drop=cap_sys_admin`) cannot unshare.
#define WGP_REQUIRE_SETUP_FAILED(why)                            \
  do {                                                           \
    if (::wgp::testing::tests_are_strict()) GTEST_FAIL() << why; \
    GTEST_SKIP() << "SKIP: " << why;                             \
  } while (0)

// Skips the test because the machine lacks a property; never strict.
#define WGP_SKIP_MACHINE(why) GTEST_SKIP() << "SKIP: " << why
