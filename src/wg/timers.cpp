#include "wg/timers.h"

namespace wgp {

using namespace noise;

Duration PeerTimers::jitter(Random& rng) {
  // Uniform in [0, 334) ms, like wg-go's RekeyTimeoutJitterMaxMs; spreads
  // the handshakes of many peers that started together.
  return std::chrono::milliseconds(rng.u32() % kRekeyTimeoutJitterMax.count());
}

void PeerTimers::on_data_sent(Instant now, Random& rng) {
  last_data_sent_ = now;
  if (!awaiting_reply_since_) awaiting_reply_since_ = now;
  // No reply to our data within 15 s means the session may be dead.
  if (!pending(PeerTimer::kNewHandshake))
    arm(PeerTimer::kNewHandshake, now + kKeepaliveTimeout + kRekeyTimeout + jitter(rng));
}

void PeerTimers::on_data_received(Instant now) {
  // Acknowledge data with a keepalive unless we send something sooner.
  if (!pending(PeerTimer::kSendKeepalive))
    arm(PeerTimer::kSendKeepalive, now + kKeepaliveTimeout);
  else
    need_another_keepalive = true;
}

void PeerTimers::on_any_authenticated_packet_sent() { disarm(PeerTimer::kSendKeepalive); }

void PeerTimers::on_any_authenticated_packet_received() {
  disarm(PeerTimer::kNewHandshake);
  awaiting_reply_since_.reset();
}

void PeerTimers::on_any_authenticated_packet_traversal(Instant now) {
  if (persistent_keepalive_)
    arm(PeerTimer::kPersistentKeepalive, now + std::chrono::seconds(persistent_keepalive_));
}

void PeerTimers::on_handshake_initiated(Instant now, Random& rng) {
  if (!awaiting_reply_since_) awaiting_reply_since_ = now;
  arm(PeerTimer::kRetransmitHandshake, now + kRekeyTimeout + jitter(rng));
}

void PeerTimers::on_handshake_complete() {
  disarm(PeerTimer::kRetransmitHandshake);
  handshake_attempts = 0;
  sent_last_minute_handshake = false;
}

void PeerTimers::on_session_derived(Instant now) {
  arm(PeerTimer::kZeroKeyMaterial, now + kZeroKeyMaterialAfter);
}

void PeerTimers::disarm_all() {
  for (auto& d : deadline_) d.reset();
}

std::optional<Instant> PeerTimers::next_deadline() const {
  std::optional<Instant> next;
  for (const auto& d : deadline_)
    if (d && (!next || *d < *next)) next = d;
  return next;
}

std::optional<PeerTimer> PeerTimers::take_expired(Instant now) {
  for (size_t i = 0; i < size_t(PeerTimer::kCount); ++i) {
    if (deadline_[i] && *deadline_[i] <= now) {
      deadline_[i].reset();
      return PeerTimer(i);
    }
  }
  return std::nullopt;
}

}  // namespace wgp
