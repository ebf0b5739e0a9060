// Keeping one port mapping at the default gateway ([Interface] PortMapping,
// DESIGN.md §9): an external UDP port that the gateway forwards to our
// ListenPort, so that peers reach us directly through a NAT that would
// otherwise defeat hole punching (a symmetric one).
//
// The protocols are tried in order, each with a few quick tries, and the
// first that grants a mapping keeps it:
//   PCP (RFC 6887)     MAP request to gateway:5351      sends at 0, 0.25, 0.75 s; gives up at 1.75
//   s NAT-PMP (RFC 6886) the same port, version 0          sends at 0, 0.25, 0.75 s; gives up
//   at 1.75 s UPnP IGD           unicast M-SEARCH to gateway:1900  sends at 0, 1 s; gives up at 3
//   s, or
//                      8 s after the device answered (description, AddPortMapping)
// A gateway on the LAN answers within milliseconds, so these tries are far
// shorter than the RFCs' retransmission schedules (PCP starts at 3 s and
// never stops): they bound what a gateway that says nothing costs. A port
// that is closed (ICMP unreachable) ends PCP and NAT-PMP at once. When none
// grants one, the reasons are kept for `status`, and the next attempt waits
// for a network change (at least kRestartGap after the last) or
// kRetryAfterFailure.
//
// A mapping is renewed with the same protocol (PCP: the same nonce) at half
// its lifetime; a renewal that fails is retried at half of what is left
// while at least kMinRenewalRetry is; at its end the mapping is gone and the
// search starts over. A new gateway or a new local address drops the
// mapping (the old gateway may be gone) and starts over; a new ListenPort
// deletes the old mapping and starts over; stop() deletes it.
//
// Pure: the I/O (node/port_mapping.h) feeds it the gateway, the replies and
// `now`, carries out the requests it takes, and re-arms one timer from
// next_deadline(). It never asks anything but the gateway it was given.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "crypto/random.h"
#include "net/ip.h"
#include "portmap/pcp.h"
#include "util/time.h"

namespace wgp::portmap {

enum class Protocol : uint8_t { kNone, kPcp, kNatPmp, kUpnp };
// "none", "pcp", "nat-pmp", "upnp" (status values and metric labels).
std::string_view protocol_name(Protocol p);
// "PCP", "NAT-PMP", "UPnP" (log lines and reasons).
std::string_view protocol_title(Protocol p);

// Where to ask: the default route's next hop, and our address and prefix
// length on its link (the source of every request; the subnet bounds where
// a UPnP device may be).
struct Gateway {
  IpAddress address;
  InterfaceAddress local;
  bool operator==(const Gateway&) const = default;
};

struct Mapping {
  Protocol protocol = Protocol::kNone;
  Endpoint external;
  uint32_t lifetime = 0;  // seconds, as granted
  Instant expires{};
};

// What the I/O is to do.
struct Request {
  enum class Kind {
    kMap,     // ask `protocol` for a mapping (or to renew the current one)
    kCancel,  // forget whatever `protocol` has in flight: it is no longer asked
    kDelete,  // delete the mapping described (best effort; no reply expected)
  } kind = Kind::kMap;
  Protocol protocol = Protocol::kNone;
  Gateway gateway;
  uint16_t internal_port = 0;
  uint32_t lifetime = 0;            // requested, seconds (0 with kDelete)
  std::optional<Endpoint> current;  // the mapping being renewed or deleted
  PcpNonce nonce{};                 // PCP: one per mapping, kept for its renewals
  bool retry = false;               // the same request again (no answer yet)
};

// What the I/O learned from the protocol it was asked to use.
struct Reply {
  enum class Kind {
    kMapped,       // `external` for `lifetime` seconds
    kRefused,      // the gateway answered no (`detail` says why)
    kUnsupported,  // it does not speak this protocol (PCP: try NAT-PMP)
    kNoServer,     // nothing listens (ICMP port unreachable)
    kProgress,     // UPnP: the device answered, its mapping is under way
  } kind = Kind::kRefused;
  Endpoint external;
  uint32_t lifetime = 0;
  std::string detail;
};

class PortMapper {
 public:
  static constexpr uint32_t kDefaultLifetime = 7200;  // RFC 6886 §3.3's recommendation
  static constexpr auto kRetryAfterFailure = std::chrono::minutes(10);
  static constexpr auto kRestartGap = std::chrono::seconds(10);
  static constexpr auto kMinRenewalRetry = std::chrono::seconds(2);

  // `internal_port`: our ListenPort. `rng` draws the PCP nonces.
  PortMapper(Random& rng, uint16_t internal_port, uint32_t lifetime = kDefaultLifetime);

  // The default gateway now (after start and after each network change);
  // nullopt: there is none.
  void on_network(std::optional<Gateway> gateway, Instant now);
  void set_internal_port(uint16_t port, Instant now);
  // A reply from `from` (ignored unless `from` is being asked).
  void on_reply(Protocol from, const Reply& reply, Instant now);
  void run_timers(Instant now);
  std::optional<Instant> next_deadline() const;
  // Clean shutdown: a kDelete for the mapping, if any; then nothing more.
  void stop(Instant now);

  // The requests made since the last call, in order.
  std::vector<Request> take_requests() { return std::exchange(requests_, {}); }
  // True once after the mapped external endpoint (the candidate) changed.
  bool take_mapping_changed() { return std::exchange(mapping_changed_, false); }
  const std::optional<Mapping>& mapping() const { return mapping_; }
  const std::optional<Gateway>& gateway() const { return gateway_; }
  uint64_t renewals() const { return renewals_; }
  Protocol asking() const { return asking_; }
  // Why there is no mapping ("" while there is one): "asking", "no default
  // gateway", "PCP: no answer; NAT-PMP: no answer; UPnP: ...".
  std::string reason() const;

 private:
  void start(Protocol protocol, Instant now);
  void send(bool retry);
  void give_up(const std::string& why, Instant now);
  void cancel_asking();
  void set_mapping(std::optional<Mapping> mapping);
  void start_over(Instant now);

  Random& rng_;
  uint16_t internal_port_;
  uint32_t lifetime_;
  std::optional<Gateway> gateway_;
  bool stopped_ = false;

  Protocol asking_ = Protocol::kNone;  // kNone: not asking
  size_t tries_ = 0;                   // requests sent to asking_
  Instant asked_at_{};
  Instant give_up_at_{};
  std::optional<Instant> last_start_;  // of the last full search
  std::optional<Instant> retry_at_;    // the next search after a failure
  std::optional<Instant> renew_at_;
  PcpNonce nonce_{};

  std::optional<Mapping> mapping_;
  bool mapping_changed_ = false;
  // Why each protocol gave none in the last search, in order.
  std::vector<std::pair<Protocol, std::string>> reasons_;
  bool failed_ = false;  // the last search found none
  uint64_t renewals_ = 0;
  std::vector<Request> requests_;
};

}  // namespace wgp::portmap
