// The face a running device shows to its control plane: the UAPI server
// (`wg show`, `wg set`), `wgpunch status`, and the config loader. The device
// implements it; the UAPI parser and formatter only ever talk to it, so they
// can be tested against a plain in-memory implementation.
//
// All calls happen on the device's event-loop thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "crypto/keys.h"
#include "net/ip.h"
#include "util/time.h"

namespace wgp {

// Extra facts beyond what `wg` knows, shown by `wgpunch status` (and emitted
// as extra UAPI get keys that `wg` ignores). Keys are lower_snake_case, values
// have no newline. Later features (discovery) add their own here.
using ExtraFields = std::vector<std::pair<std::string, std::string>>;

// An extra whose key ends in this suffix is a moment: seconds since the Unix
// epoch, "0" for never (as the UAPI's last_handshake_time_sec). The status
// client names it without the suffix and prints "5 seconds ago" / "never"
// as text, a number / null as JSON: the server never formats a moment.
inline constexpr std::string_view kUnixTimeSuffix = "_unix";

// How packets reach a peer now (DESIGN.md §9): straight to its endpoint, via
// a relay, or not at all (no confirmed endpoint or no live session). Metrics
// show it; a relay path is for the relay to set when it exists.
enum class PeerPath : uint8_t { kNone, kDirect, kRelay };

constexpr std::string_view peer_path_name(PeerPath p) {
  switch (p) {
    case PeerPath::kNone:
      return "none";
    case PeerPath::kDirect:
      return "direct";
    case PeerPath::kRelay:
      return "relay";
  }
  return "none";
}

// The peer extra beside "path" that says the path went silent: seconds
// since what we sent was left unanswered (Device::silent_for). `status`
// shows "path: direct (no reply for 12 s)", JSON "path_alive": false.
inline constexpr std::string_view kPathNoReplyField = "path_no_reply_seconds";

// The device extra naming the node's network namespace as
// readlink(/proc/self/ns/net) prints it ("net:[4026531840]"): control
// sockets of every namespace share one directory, and `wgpunch ping` only
// picks an interface of its own namespace.
inline constexpr std::string_view kNetworkNamespaceField = "network_namespace";

struct PeerSnapshot {
  PublicKey public_key{};
  PresharedKey preshared_key;  // all zero = none
  std::optional<Endpoint> endpoint;
  std::optional<WallTime> last_handshake;  // nullopt = never
  uint64_t rx_bytes = 0;
  uint64_t tx_bytes = 0;
  uint16_t persistent_keepalive = 0;  // seconds, 0 = off
  std::vector<IpPrefix> allowed_ips;
  PeerPath path = PeerPath::kNone;
  ExtraFields extra;
};

struct DeviceSnapshot {
  std::string interface_name;
  std::optional<PrivateKey> private_key;  // nullopt = none set
  uint16_t listen_port = 0;               // the bound port, 0 = not bound
  uint32_t fwmark = 0;
  std::vector<PeerSnapshot> peers;
  // Every drop reason of the data path with its count, zeros included, in
  // DropReason order (extra shows only the non-zero ones): for metrics, whose
  // counters should exist from the first scrape.
  std::vector<std::pair<std::string, uint64_t>> drop_counts;
  ExtraFields extra;
};

class DeviceControl {
 public:
  virtual ~DeviceControl() = default;

  virtual DeviceSnapshot snapshot() const = 0;

  // An all-zero key removes the private key. Setting the same key is a no-op.
  virtual void set_private_key(const PrivateKey& key) = 0;
  // 0 = pick any free port. Error (e.g. address in use) leaves the old port.
  virtual std::error_code set_listen_port(uint16_t port) = 0;
  virtual std::error_code set_fwmark(uint32_t mark) = 0;

  virtual void remove_all_peers() = 0;
  virtual bool has_peer(const PublicKey& key) const = 0;
  // Creates the peer if absent (a peer with our own public key is ignored:
  // returns false). True when the peer exists afterwards.
  virtual bool add_peer(const PublicKey& key) = 0;
  virtual void remove_peer(const PublicKey& key) = 0;
  // The following are no-ops for an unknown peer.
  virtual void set_peer_preshared_key(const PublicKey& key, const PresharedKey& psk) = 0;
  virtual void set_peer_endpoint(const PublicKey& key, const Endpoint& endpoint) = 0;
  // The same for an Endpoint line of the config file (a reload), so that
  // status names the file as the endpoint's source.
  virtual void set_peer_config_endpoint(const PublicKey& key, const Endpoint& endpoint) {
    set_peer_endpoint(key, endpoint);
  }
  // 0 = off; turning it on sends a keepalive at once.
  virtual void set_peer_persistent_keepalive(const PublicKey& key, uint16_t seconds) = 0;
  virtual void clear_peer_allowed_ips(const PublicKey& key) = 0;
  virtual void add_peer_allowed_ip(const PublicKey& key, const IpPrefix& prefix) = 0;
  virtual void remove_peer_allowed_ip(const PublicKey& key, const IpPrefix& prefix) = 0;
  // The config file was applied again (a reload): what lives outside the
  // device takes its part too (a registry's Names, DESIGN.md §11).
  virtual void peers_reconfigured(const std::vector<std::pair<PublicKey, std::string>>& names) {
    (void)names;
  }
};

}  // namespace wgp
