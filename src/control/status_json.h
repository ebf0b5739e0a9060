// `wgpunch status --json`: the same facts as the text form, as one JSON
// object for scripts. It never contains a private or preshared key, only
// whether a preshared key is set.
#pragma once

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "control/device_control.h"

namespace wgp::control {

// All interfaces as one JSON object:
// {"interfaces":[{"name","public_key","listen_port","fwmark","extra":{},
//   "peers":[{"public_key","has_preshared_key","endpoint","allowed_ips",
//   "latest_handshake","rx_bytes","tx_bytes","persistent_keepalive","extra"}]}]}
// Keys are base64; latest_handshake is Unix seconds or null; absent values are null.
void print_status_json(const std::vector<DeviceSnapshot>& devices, std::ostream& out);

// `text` as a JSON string literal (quotes included), escaping '"', '\\' and
// control characters; other bytes pass through (UTF-8 stays UTF-8).
std::string json_string(std::string_view text);

}  // namespace wgp::control
