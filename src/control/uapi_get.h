// The reply to a UAPI `get=1` request (PROTOCOL.md §7.2–7.3): a DeviceSnapshot
// written as `key=value` lines in exactly wireguard-go's order, which is the
// order the stock `wg` parser expects (device keys before the first
// public_key, or `wg` takes them for peer keys and drops them).
#pragma once

#include <string>
#include <string_view>

#include "control/device_control.h"

namespace wgp::control {

// Extra fields travel as UAPI keys `wgpunch_<key>`: `wg` ignores keys it does
// not know, and the prefix keeps them from ever colliding with a real key.
inline constexpr std::string_view kExtraKeyPrefix = "wgpunch_";

// Appends the full get reply for `device` to `out`: device keys, peer blocks,
// then "errno=0\n\n". private_key is emitted (hex) only when set, listen_port
// and fwmark only when non-zero, endpoint only when known; preshared_key is
// always emitted (zeros when none). Extra keys are sanitized (see
// sanitize_extra_key / sanitize_extra_value) so one bad field cannot break
// the line protocol.
void format_get_reply(const DeviceSnapshot& device, std::string& out);
std::string format_get_reply(const DeviceSnapshot& device);

// Letters (lower-cased), digits and '_' survive; every other byte becomes '_'.
std::string sanitize_extra_key(std::string_view key);
// Newlines and other control bytes become ' ' (a value must stay on its line).
std::string sanitize_extra_value(std::string_view value);

}  // namespace wgp::control
