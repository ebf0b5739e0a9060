// Keys and helpers shared by the config tests. The interface key is Alice's
// from RFC 7748 §6.1; the peers' keys were made with `wg genkey | wg pubkey`.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "config/config.h"

namespace wgp::testing {

// RFC 7748 §6.1 Alice: private 77076d0a...2c2a, public 8520f009...4e6a.
inline const std::string kAlicePrivate = "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=";
inline const std::string kAlicePublic = "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=";
// RFC 7748 §6.1 Bob.
inline const std::string kBobPrivate = "XasIfmJKikt54X+Lg4AO5m87sSkmGLb9HC+LJ/+I4Os=";
inline const std::string kBobPublic = "3p7bfXt9wbTTW2HC7OQ1Nz+DQ8hbeGdNrfx+FG+IK08=";
inline const std::string kCarolPublic = "Vc1l4I6/ZUYfMYUdimjcH9WbXRPF/VTykjpWVkXtsU8=";
inline const std::string kDavePublic = "nJ4FiDh7T6NtfZyd8BUdy4JpQhQlKNvNkwx6++o3Blw=";
inline const std::string kPsk = "kKiDM0xG6aa4Rq8dJ2HBJmlGsc7KYX6FwGOwLCYRCFg=";

// A resolver for configs with numeric endpoints only: being called is a bug.
inline ResolveResult no_resolver(const std::string& host) {
  ADD_FAILURE() << "resolver called for " << host;
  return {{}, "unexpected"};
}

inline Config parse(const std::string& text, const Resolver& r = no_resolver) {
  return parse_config(text, "wg0.conf", r);
}

// what() of the ConfigError that `text` raises, or a marker when none.
inline std::string error_of(const std::string& text, const Resolver& r = no_resolver) {
  try {
    parse_config(text, "wg0.conf", r);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

// "[Interface]\nPrivateKey = Alice\n" followed by `rest`: lines of `rest`
// start at line 3.
inline std::string with_interface(const std::string& rest) {
  return "[Interface]\nPrivateKey = " + kAlicePrivate + "\n" + rest;
}

inline std::string b64(const PublicKey& k) { return key_to_base64(k); }

}  // namespace wgp::testing
