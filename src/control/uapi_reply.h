// The client side of UAPI `get`: turns a get reply (the text format_get_reply
// writes, or wireguard-go's) back into a DeviceSnapshot. Parsing follows the
// stock `wg` tool: every line is `key=value`, device keys count only before
// the first public_key, unknown keys are skipped, and the reply must end with
// `errno=0` (a non-zero errno is the server's error, not a snapshot).
// `wgpunch_<key>` lines become ExtraFields of the device or of the current peer.
#pragma once

#include <string>
#include <string_view>

#include "control/device_control.h"

namespace wgp::control {

struct GetReplyResult {
  bool ok = false;
  int server_errno = 0;  // the errno= value when the server reported failure
  std::string error;     // why parsing failed (never contains key material)
};

// Parses `reply` (up to and including the blank line, or to its end) into
// `out` (interface_name is left untouched). On failure `out` is unspecified.
GetReplyResult parse_get_reply(std::string_view reply, DeviceSnapshot& out);

// The errno of a set reply ("errno=N\n\n"); nullopt if it is malformed.
std::optional<int> parse_errno_reply(std::string_view reply);

}  // namespace wgp::control
