// `wgpunch status --json`: the same facts as the text form, as one JSON
// object for scripts, built with nlohmann-json. It never contains a private
// or preshared key, only whether a preshared key is set.
#pragma once

#include <ostream>
#include <vector>

#include "control/device_control.h"

namespace wgp::control {

// All interfaces as one JSON object (the schema: wgpunch(8), STATUS IN JSON):
// {"interfaces":[{"name","public_key","listen_port","fwmark","extra":{},
//   "peers":[{"public_key","has_preshared_key","endpoint","allowed_ips",
//   "latest_handshake","rx_bytes","tx_bytes","persistent_keepalive","path",
//   "relay_via","path_alive","no_reply_for","extra":{}}]}]}
// Keys are base64; moments are Unix seconds or null; absent values are null;
// the extra fields are typed by control/status_fields.h.
void print_status_json(const std::vector<DeviceSnapshot>& devices, std::ostream& out);

}  // namespace wgp::control
