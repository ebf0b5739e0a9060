// A NAT in front of one simulated host, as Linux's masquerade behaves (the
// §8 topology of DESIGN.md): the host keeps its outside address and port
// (port-preserving), and what comes from outside passes only when the host
// sent to exactly that remote lately (a port-restricted cone). Without an
// input filter ("plain"), a packet that comes from a remote before the host
// sent there leaves an entry behind, and while it lives (30 s after the last
// such packet) the host's own packets to that remote leave from another
// port, which the remote's NAT does not know: they are lost. A hop-limited
// datagram (Datagram::hops) opens the NAT and goes no further.
#pragma once

#include <chrono>
#include <map>

#include "net/ip.h"
#include "util/time.h"

namespace wgp::testing {

class SimNat {
 public:
  explicit SimNat(bool input_filter = true) : input_filter_(input_filter) {}

  // The host sends to `to`: false when the packet leaves from another port
  // (a stale entry took ours), so no NAT out there will take it.
  bool outbound(const Endpoint& to, Instant now);
  // From `from` to the host: true when it passes.
  bool inbound(const Endpoint& from, Instant now);
  // Forget every mapping (the NAT rebooted, or remapped its port).
  void flush() {
    flows_.clear();
    early_.clear();
  }

  // Linux's nf_conntrack_udp_timeout and _timeout_stream.
  static constexpr auto kUnreplied = std::chrono::seconds(30);
  static constexpr auto kReplied = std::chrono::seconds(120);

 private:
  // The host's own flow towards one remote.
  struct Flow {
    bool moved = false;    // it left from another port (a stale entry held ours)
    bool replied = false;  // traffic went both ways
    Instant last{};
  };
  bool alive(const Flow& f, Instant now) const {
    return now - f.last < (f.replied ? kReplied : kUnreplied);
  }
  void expire(const Endpoint& remote, Instant now);

  bool input_filter_;
  std::map<Endpoint, Flow> flows_;
  // Remotes whose packets came before the host sent them anything (plain
  // NAT): when the last one came.
  std::map<Endpoint, Instant> early_;
};

}  // namespace wgp::testing
