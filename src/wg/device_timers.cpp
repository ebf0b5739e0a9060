// Device, timers: what each per-peer timer does when it expires
// (PROTOCOL.md §5.3, the kernel's timers.c).
#include "wg/device.h"

namespace wgp {

using namespace noise;

void Device::run_timers(Now now) {
  for (Peer& peer : peers_)
    while (auto timer = peer.timers.take_expired(now.mono)) on_timer(peer, *timer, now);
  // Timers handled above may have armed others (on this or another peer);
  // only a full pass afterwards gives the exact earliest deadline.
  std::optional<Instant> exact;
  for (const Peer& peer : peers_) {
    auto d = peer.timers.next_deadline();
    if (d && (!exact || *d < *exact)) exact = d;
  }
  deadline_bound_ = exact;
}

void Device::on_timer(Peer& peer, PeerTimer timer, Now now) {
  switch (timer) {
    case PeerTimer::kRetransmitHandshake:
      if (peer.timers.handshake_attempts > kMaxTimerHandshakes) {
        // Gave up after ~90 s: forget what waits and, later, the keys.
        peer.timers.disarm(PeerTimer::kSendKeepalive);
        peer.staged.clear();
        if (!peer.timers.pending(PeerTimer::kZeroKeyMaterial))
          peer.timers.arm(PeerTimer::kZeroKeyMaterial, now.mono + kZeroKeyMaterialAfter);
      } else {
        ++peer.timers.handshake_attempts;
        if (observer_) observer_->on_handshake_unanswered(peer, now);
        send_initiation(peer, true, now);
      }
      break;
    case PeerTimer::kSendKeepalive:
      send_keepalive(peer, now);
      if (peer.timers.need_another_keepalive) {
        peer.timers.need_another_keepalive = false;
        peer.timers.arm(PeerTimer::kSendKeepalive, now.mono + kKeepaliveTimeout);
      }
      break;
    case PeerTimer::kNewHandshake:
      // We sent data and heard nothing for 15 s: the session may be dead.
      send_initiation(peer, false, now);
      break;
    case PeerTimer::kZeroKeyMaterial:
      zero_key_material(peer);
      break;
    case PeerTimer::kRestartCrossedHandshake:
      if (!peer.keypairs.current() || !peer.keypairs.current()->usable_for_sending(now.mono))
        send_initiation_now(peer, now);
      break;
    case PeerTimer::kPersistentKeepalive:
      if (peer.timers.persistent_keepalive()) send_keepalive(peer, now);
      break;
    case PeerTimer::kCount:
      break;
  }
}

void Device::zero_key_material(Peer& peer) {
  peer.keypairs.clear(indices_);
  if (peer.handshake.state != HandshakeState::kZeroed && peer.handshake.local_index)
    indices_.release(peer.handshake.local_index);
  peer.handshake.clear();
  release_crossed_index(peer);
}

void Device::release_crossed_index(Peer& peer) {
  if (peer.crossed_index) indices_.release(peer.crossed_index);
  peer.crossed_index = 0;
}

}  // namespace wgp
