// `wgpunch status` as text: what `wg show IFACE` prints (wireguard-tools
// src/show.c, without colours), each section followed by wgpunch's extra
// fields ("  public endpoint: ..."). Never shows a private or preshared key:
// both are printed as "(hidden)", as wg does by default.
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "control/device_control.h"

namespace wgp::control {

// "1 minute, 5 seconds" as wg's pretty_time (years of 365 days, days, hours,
// minutes, seconds; zero units left out; empty for 0).
std::string pretty_duration(uint64_t seconds);
// A moment extra's value (device_control.h): seconds since the epoch, 0 for
// never; nullopt when it is not a non-negative decimal number.
std::optional<int64_t> parse_unix_seconds(std::string_view text);
// "1.23 MiB" as wg's bytes(): "N B" below 1 KiB, else two decimals of
// KiB/MiB/GiB/TiB.
std::string pretty_bytes(uint64_t bytes);

// The order `wg show` lists peers in: latest handshake newest first, peers
// that never completed one last; ties keep the device's order.
std::vector<const PeerSnapshot*> peers_in_show_order(const DeviceSnapshot& device);

// One interface as `wg show` prints it; `now` is the wall clock that
// "latest handshake: ... ago" is measured against.
void print_status_text(const DeviceSnapshot& device, WallTime now, std::ostream& out);

}  // namespace wgp::control
