// Carries out a ReloadPlan on a running device through DeviceControl, the
// same face `wg set` uses, in the order that keeps the device consistent:
// removals first (their AllowedIPs become free), the interface's key, port
// and fwmark, peers added or changed, and keepalives last (turning one on
// sends a packet, which needs the rest in place).
#pragma once

#include <string>
#include <vector>

#include "control/device_control.h"
#include "service/reload_plan.h"

namespace wgp::service {

// Applies `plan` to `device`. A step the kernel refuses (a port in use, a
// fwmark without CAP_NET_ADMIN) is skipped and reported; the rest still
// applies. Returns one line per such failure (never key material).
std::vector<std::string> apply_reload(const ReloadPlan& plan, DeviceControl& device);

// "2 added, 1 removed, 3 changed" (the counts of `plan`), or "no change".
std::string summarize(const ReloadPlan& plan);

}  // namespace wgp::service
