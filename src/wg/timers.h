// The per-peer timers of WireGuard (PROTOCOL.md §5.3), as deadlines rather
// than callbacks. Protocol events arrive through the kernel-named hooks
// (on_data_sent, on_handshake_initiated, ...), which only arm and disarm;
// the device asks next_deadline() and calls take_expired() when time comes,
// then performs the action each expired timer stands for.
#pragma once

#include <optional>

#include "crypto/random.h"
#include "noise/wire.h"
#include "util/time.h"

namespace wgp {

enum class PeerTimer : uint8_t {
  kRetransmitHandshake,
  kSendKeepalive,
  kNewHandshake,
  kZeroKeyMaterial,
  kPersistentKeepalive,
  // Not the kernel's: a prompt new initiation after two crossed (see
  // Device::receive_response).
  kRestartCrossedHandshake,
  kCount,
};

class PeerTimers {
 public:
  // Event hooks, named as in the kernel's timers.c.
  void on_data_sent(Instant now, Random& rng);
  void on_data_received(Instant now);
  void on_any_authenticated_packet_sent();
  void on_any_authenticated_packet_received();
  void on_any_authenticated_packet_traversal(Instant now);
  void on_handshake_initiated(Instant now, Random& rng);
  void on_handshake_complete();
  void on_session_derived(Instant now);

  // Persistent keepalive interval in seconds, 0 = off.
  void set_persistent_keepalive(uint16_t seconds) { persistent_keepalive_ = seconds; }
  uint16_t persistent_keepalive() const { return persistent_keepalive_; }

  bool pending(PeerTimer t) const { return deadline_[size_t(t)].has_value(); }
  void arm(PeerTimer t, Instant when) {
    deadline_[size_t(t)] = when;
    if (bound_ && (!*bound_ || when < **bound_)) *bound_ = when;
  }
  // A deadline the owner keeps as a lower bound of every peer's timers, so it
  // can answer "when is the next timer" without visiting every peer: each
  // arm() lowers it; disarming leaves it early, which costs at most one
  // wake-up with nothing to do (the owner then recomputes it exactly).
  void report_deadlines_to(std::optional<Instant>* bound) { bound_ = bound; }
  void disarm(PeerTimer t) { deadline_[size_t(t)].reset(); }
  void disarm_all();
  std::optional<Instant> next_deadline() const;
  // Disarms and returns one timer whose deadline is ≤ now, if any.
  std::optional<PeerTimer> take_expired(Instant now);

  // Since when a reply is awaited: the first data packet or handshake
  // initiation sent after the last authenticated packet received (nullopt:
  // none awaited). Idle is not silent; sent and unanswered is (status: is
  // the path alive?).
  std::optional<Instant> awaiting_reply_since() const { return awaiting_reply_since_; }
  // When data (not a keepalive) last went to the peer: is the tunnel in use?
  std::optional<Instant> last_data_sent() const { return last_data_sent_; }

  // Handshake attempts since the last non-retry trigger.
  int handshake_attempts = 0;
  // The send_keepalive timer fired while data kept arriving: send one more.
  bool need_another_keepalive = false;
  // The receive-side "last minute" rekey was already asked for.
  bool sent_last_minute_handshake = false;

 private:
  static Duration jitter(Random& rng);
  std::optional<Instant> deadline_[size_t(PeerTimer::kCount)];
  std::optional<Instant>* bound_ = nullptr;
  std::optional<Instant> awaiting_reply_since_;
  std::optional<Instant> last_data_sent_;
  uint16_t persistent_keepalive_ = 0;
};

}  // namespace wgp
