// What a reload (SIGHUP, `systemctl reload wgpunch@IFACE`) changes, worked
// out without touching anything: the new config file against the running
// device, as `wg syncconf` does, so peers whose lines did not change keep
// their sessions. Pure; apply_reload (reload_apply.h) carries a plan out.
//
// The rules (also in wgpunch(8), RELOADING):
//  - Peers: the file is the truth. A peer in the file and not running is
//    added; a running peer not in the file (also one added with `wg set`)
//    is removed. For the others, PresharedKey, AllowedIPs and
//    PersistentKeepalive are set where they differ from the running values;
//    an Endpoint line is applied when it is new or changed in the file (a
//    peer that roamed away from an unchanged Endpoint keeps where it is).
//    None of these ends a session.
//  - PrivateKey: applied in place, as `wg set IFACE private-key` does: every
//    session ends, and peers must know the new public key to handshake again.
//  - ListenPort: rebinds the UDP socket to the new port (sessions survive;
//    peers learn the new port from the next packet). Removing the line keeps
//    the current port. FwMark: set in place (needs CAP_NET_ADMIN).
//  - Address, MTU, routes, MetricsListen, [Registry] and [Discovery]: not
//    changed by a reload; a note names each setting that needs a restart,
//    at every reload until one happens (the Reloader keeps the running
//    values as the ones to compare with, not the file's). New AllowedIPs
//    outside the routes made at start get a note too (no route is added).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "control/device_control.h"

namespace wgp::service {

// One peer to add or change; fields left empty are not touched.
struct PeerUpdate {
  PublicKey public_key{};
  bool is_new = false;
  std::optional<PresharedKey> preshared_key;  // all zero = none
  std::optional<Endpoint> endpoint;
  std::optional<std::vector<IpPrefix>> allowed_ips;  // replaces the peer's list
  std::optional<uint16_t> persistent_keepalive;      // 0 = off
};

struct ReloadPlan {
  std::optional<PrivateKey> private_key;  // to set (differs from the running key)
  std::optional<uint16_t> listen_port;    // to rebind to
  std::optional<uint32_t> fwmark;         // to set; 0 = off
  std::vector<PublicKey> removed_peers;
  std::vector<PeerUpdate> peers;  // added and changed peers, in file order
  // What the reload leaves alone and the operator should know: one line each,
  // never key material (public keys in base64 at most).
  std::vector<std::string> notes;

  size_t added() const;
  size_t changed() const { return peers.size() - added(); }
  bool empty() const;
};

// `previous`: the config the node was started (or last reloaded) with;
// `next`: the file just read; `running`: the device now; `routed`: the
// prefixes that have a route into the interface (the interface's address
// subnets and the AllowedIPs routed at start).
ReloadPlan plan_reload(const Config& previous, const Config& next, const DeviceSnapshot& running,
                       const std::vector<IpPrefix>& routed);

// The settings of `file` that differ from `running` and that only a restart
// applies, one name each ("Address", "MTU", "MetricsListen",
// "[Registry] TransferKey", "[Discovery]", ...), never a value.
std::vector<std::string> restart_needed(const Config& running, const Config& file);

// `file` as it runs after a reload of it on a node that was running
// `running`: the file's settings but those restart_needed() names.
Config applied_config(const Config& running, Config file);

// The prefixes `up` routes into the interface for `config` (address subnets
// and every AllowedIPs but /0, which `up` never routes): the `routed`
// argument of plan_reload for a node started with `config`.
std::vector<IpPrefix> routed_prefixes(const Config& config);

}  // namespace wgp::service
