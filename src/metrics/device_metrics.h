// What a running node exposes to Prometheus, built from the same snapshot
// `wg show` and `wgpunch status` read (Node::snapshot): per-peer traffic,
// last handshake, path and endpoint source; drops by reason; data-path
// errors; the registry's and discovery's counters; build information.
//
// Labels carry nothing private: public keys, the interface name, reasons and
// states. Endpoint addresses (where peers are) and any key material never
// appear.
#pragma once

#include <string_view>
#include <vector>

#include "control/device_control.h"
#include "metrics/exposition.h"

namespace wgp::metrics {

// The metric families of `snapshot`, for format_exposition. `version` is the
// build's version (wgpunch_build_info).
std::vector<Family> device_metrics(const DeviceSnapshot& snapshot, std::string_view version);

}  // namespace wgp::metrics
