// Which network namespace a node runs in. Control sockets of every
// namespace share one directory (/var/run/wireguard is not per namespace),
// so a client that must act in its own namespace (`wgpunch ping`) compares
// the node's namespace, which the node reports in its status
// (kNetworkNamespaceField), with its own.
#pragma once

#include <string>

#include "control/device_control.h"

namespace wgp::control {

// readlink(/proc/self/ns/net): "net:[4026531840]"; "" when unreadable.
std::string current_network_namespace();

// Whether `device` runs in the namespace `ours` (current_network_namespace()),
// for an interface named with -I: only what it says counts (a node that says
// nothing, or an unknown `ours`, counts as ours).
bool in_network_namespace(const DeviceSnapshot& device, const std::string& ours);

// Whether `device` says it runs in `ours` (kOurs) or in another namespace
// (kOther). One that says nothing (an older wgpunch, wireguard-go) is kOther
// when no network interface of its name exists here, else kUnknown: believed
// only when no interface says it is ours.
enum class NamespaceMatch { kOurs, kUnknown, kOther };
NamespaceMatch network_namespace_match(const DeviceSnapshot& device, const std::string& ours);

}  // namespace wgp::control
