// Fixed keys for control-plane tests: RFC 7748 §6.1's Alice and Bob, whose
// public keys are published, plus two arbitrary peer keys.
#pragma once

#include <string>

#include "crypto/keys.h"
#include "util/bytes.h"

namespace wgp::testing {

// Alice's private key is not clamped as published; UAPI set clamps it to kAlicePrivClamped.
inline const std::string kAlicePriv =
    "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
inline const std::string kAlicePrivClamped =
    "70076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c6a";
inline const std::string kAlicePub =
    "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
inline const std::string kAlicePub64 = "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=";
inline const std::string kBobPub =
    "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
inline const std::string kBobPub64 = "3p7bfXt9wbTTW2HC7OQ1Nz+DQ8hbeGdNrfx+FG+IK08=";
inline const std::string kPeer1 =
    "0101010101010101010101010101010101010101010101010101010101010101";
inline const std::string kPeer1B64 = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
inline const std::string kPeer2 =
    "0202020202020202020202020202020202020202020202020202020202020202";
inline const std::string kPeer2B64 = "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=";
inline const std::string kPsk = "a5c3e2f1a5c3e2f1a5c3e2f1a5c3e2f1a5c3e2f1a5c3e2f1a5c3e2f1a5c3e2f1";
inline const std::string kZeroKey(64, '0');

inline PublicKey pub(const std::string& hex) { return *from_hex_exact<kKeySize>(hex); }
inline Secret<kKeySize> secret(const std::string& hex) { return *secret_key_from_hex(hex); }
inline IpPrefix prefix(const char* text) { return *IpPrefix::parse(text); }
inline Endpoint endpoint(const char* text) { return *Endpoint::parse(text); }

}  // namespace wgp::testing
