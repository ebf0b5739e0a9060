// Device, send path: route TUN packets to peers by destination, encrypt with
// the current session or stage them and start a handshake; build handshake
// messages (PROTOCOL.md §2.1, §2.3, §4.1, §5.2).
#include <algorithm>
#include <cstring>

#include "crypto/tai64n.h"
#include "crypto/x25519.h"
#include "wg/device.h"
#include "wg/ip_packet.h"

namespace wgp {

using namespace noise;

std::optional<DropReason> Device::send_packet(ByteView packet, Now now) {
  auto ip = parse_ip_header(packet);
  if (!ip) return drop(DropReason::kBadInnerPacket), DropReason::kBadInnerPacket;
  Peer* peer = allowed_ips_.lookup(ip->destination);
  if (!peer) return drop(DropReason::kNoRoute), DropReason::kNoRoute;
  if (observer_ && !has_usable_session(*peer, now.mono) &&
      observer_->on_session_wanted(*peer, now)) {
    stage(*peer, packet);  // sent when the handshake discovery starts completes
    return std::nullopt;
  }
  if (!peer->endpoint && peer->candidates.empty())
    return drop(DropReason::kNoEndpoint), DropReason::kNoEndpoint;
  // Without a usable session the packet waits for the handshake it starts.
  send_to_peer(*peer, packet, now);
  return std::nullopt;
}

void Device::send_to_peer(Peer& peer, ByteView packet, Now now) {
  if (!peer.staged.empty() || !encrypt_and_send(peer, packet, now)) {
    stage(peer, packet);
    send_initiation(peer, false, now);
    return;
  }
  peer.timers.on_data_sent(now.mono, rng_);
  keep_key_fresh_after_send(peer, now);
}

void Device::send_keepalive(Peer& peer, Now now) {
  if (!peer.staged.empty()) {
    flush_staged(peer, now);  // data is as good as a keepalive
    return;
  }
  if (!encrypt_and_send(peer, {}, now)) send_initiation(peer, false, now);
}

// Zero bytes to add so the message hides the exact packet length (§4.1 step 4,
// the kernel's calculate_skb_padding): up to a multiple of 16, but never past
// the MTU, so a full-size packet still fits the path.
size_t Device::padding_for(size_t length) const {
  auto align16 = [](size_t n) { return (n + kPaddingMultiple - 1) & ~(kPaddingMultiple - 1); };
  if (!mtu_) return align16(length) - length;
  size_t last_unit = length > mtu_ ? length % mtu_ : length;
  return std::min(mtu_, align16(last_unit)) - last_unit;
}

bool Device::encrypt_and_send(Peer& peer, ByteView payload, Now now) {
  Keypair* kp = peer.keypairs.current();
  if (!kp || !kp->usable_for_sending(now.mono) || !peer.endpoint) return false;

  const size_t padding = padding_for(payload.size());
  const size_t total = kTransportHeaderSize + payload.size() + padding + kTagSize;
  // Encrypt straight into the output batch when it lends us room.
  MutableByteView out = out_.reserve_datagram(*peer.endpoint, total);
  const bool lent = !out.empty();
  if (!lent) {
    if (total > tx_scratch_.size()) return false;
    out = MutableByteView(tx_scratch_.data(), total);
  }

  uint64_t counter = kp->send_counter++;
  store_le32(out.data(), uint32_t(MessageType::kTransport));
  store_le32(out.data() + kTransportReceiverOffset, kp->remote_index);
  store_le64(out.data() + kTransportCounterOffset, counter);
  MutableByteView body = out.subspan(kTransportHeaderSize);
  if (lent && seal_queue_) {
    // Sealed later, with the rest of the batch, possibly on another core.
    if (!payload.empty()) std::memcpy(body.data(), payload.data(), payload.size());
    // The padding (at most 15 bytes) as one 16-byte store: the tag's room follows it.
    static constexpr uint8_t kZeros[kTagSize] = {};
    static_assert(kPaddingMultiple <= kTagSize);
    std::memcpy(body.data() + payload.size(), kZeros, kTagSize);
    seal_queue_->push_back({&kp->send_key, counter, body, payload.size() + padding, out});
  } else if (!kp->send_key.seal_padded(counter, payload, padding, body)) {
    if (lent) out_.cancel_datagram();
    drop(DropReason::kSealFailed);
    return false;
  }

  peer.tx_bytes += total;
  if (!lent) out_.send_datagram(*peer.endpoint, out);
  peer.timers.on_any_authenticated_packet_sent();
  peer.timers.on_any_authenticated_packet_traversal(now.mono);
  return true;
}

void Device::stage(Peer& peer, ByteView packet) {
  if (peer.staged.size() >= kMaxStagedPackets) {
    peer.staged.pop_front();  // the oldest is the least useful
    drop(DropReason::kStagedOverflow);
  }
  peer.staged.emplace_back(packet.begin(), packet.end());
}

void Device::flush_staged(Peer& peer, Now now) {
  bool sent_data = false;
  while (!peer.staged.empty()) {
    if (!encrypt_and_send(peer, peer.staged.front(), now)) {
      send_initiation(peer, false, now);
      return;
    }
    peer.staged.pop_front();
    sent_data = true;
  }
  if (sent_data) {
    peer.timers.on_data_sent(now.mono, rng_);
    keep_key_fresh_after_send(peer, now);
  }
}

void Device::keep_key_fresh_after_send(Peer& peer, Now now) {
  // §5.2 send side: on message count both sides rekey; on age only the
  // initiator, so the two do not start handshakes at the same moment.
  const Keypair* kp = peer.keypairs.current();
  if (kp && kp->can_send &&
      (kp->send_counter > kRekeyAfterMessages ||
       (kp->we_initiated && kp->age(now.mono) > kRekeyAfterTime)))
    send_initiation(peer, false, now);
}

void Device::transmit(Peer& peer, ByteView datagram) {
  peer.tx_bytes += datagram.size();
  out_.send_datagram(*peer.endpoint, datagram);
}

void Device::transmit_initiation(Peer& peer, ByteView datagram, Instant now,
                                 std::span<const Endpoint> probes, bool probes_only) {
  // Each address once (a probe may be a relay's, or the endpoint).
  std::vector<Endpoint> to;
  auto add = [&](const Endpoint& e) {
    if (std::find(to.begin(), to.end(), e) == to.end()) to.push_back(e);
  };
  if (!probes_only) {
    if (peer.endpoint) add(*peer.endpoint);
    // A relay (a peer of ours) carries the retries too; a direct candidate
    // only ever gets its probe (try_candidates), so nobody can point our
    // retries at an address of their choosing.
    for (const Peer::Candidate& c : peer.candidates)
      if (c.relay && now - c.tried < kRekeyAttemptTime) add(c.address);
  }
  for (const Endpoint& e : probes) add(e);
  for (const Endpoint& e : to) {
    peer.tx_bytes += datagram.size();
    out_.send_datagram(e, datagram);
  }
  if (to.empty()) drop(DropReason::kNoEndpoint);
}

void Device::send_initiation(Peer& peer, bool is_retry, Now now) {
  if (!is_retry) peer.timers.handshake_attempts = 0;
  // One initiation per REKEY_TIMEOUT, counted from any handshake message sent.
  if (peer.last_sent_handshake && now.mono - *peer.last_sent_handshake < kRekeyTimeout) return;
  send_initiation_now(peer, now);
}

void Device::send_initiation_now(Peer& peer, Now now, std::span<const Endpoint> probes,
                                 bool probes_only) {
  if (!identity_.has_private_key || !peer.keys.static_static_valid) return;
  peer.last_sent_handshake = now.mono;

  if (peer.handshake.state == HandshakeState::kInitiationCreated && peer.handshake.local_index)
    indices_.release(peer.handshake.local_index);
  release_crossed_index(peer);  // this initiation replaces the crossed one
  peer.timers.disarm(PeerTimer::kRestartCrossedHandshake);
  uint32_t index = indices_.allocate(&peer, rng_);
  PrivateKey ephemeral = generate_private_key(rng_);
  std::array<uint8_t, kInitiationSize> msg{};
  if (create_initiation(peer.handshake, identity_, peer.keys, index, tai64n(now.wall), ephemeral,
                        msg) != HandshakeError::kNone) {
    indices_.release(index);
    return;
  }
  peer.cookies.add_macs(msg, now.mono);
  peer.initiation = msg;

  peer.timers.on_any_authenticated_packet_traversal(now.mono);
  peer.timers.on_any_authenticated_packet_sent();
  transmit_initiation(peer, msg, now.mono, probes, probes_only);
  peer.timers.on_handshake_initiated(now.mono, rng_);
}

void Device::send_response(Peer& peer, Now now) {
  peer.last_sent_handshake = now.mono;
  uint32_t index = indices_.allocate(&peer, rng_);
  PrivateKey ephemeral = generate_private_key(rng_);
  std::array<uint8_t, kResponseSize> msg{};
  SessionKeys keys;
  if (create_response(peer.handshake, peer.keys, index, ephemeral, msg, keys) !=
      HandshakeError::kNone) {
    indices_.release(index);
    return;
  }
  peer.cookies.add_macs(msg, now.mono);

  auto kp = std::make_unique<Keypair>(keys, now.mono);
  indices_.bind_keypair(index, kp.get());
  peer.keypairs.install_as_responder(std::move(kp), indices_);
  peer.handshake.clear();  // its index now belongs to the keypair
  peer.timers.on_session_derived(now.mono);

  peer.timers.on_any_authenticated_packet_traversal(now.mono);
  peer.timers.on_any_authenticated_packet_sent();
  transmit(peer, msg);
}

}  // namespace wgp
