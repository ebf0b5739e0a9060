// Device, receive path: demultiplex WireGuard messages by type and size,
// run the cookie/load gate in front of the handshake, consume handshakes and
// decrypt transport data (PROTOCOL.md §2.2, §2.4, §3.5, §4.2).
#include <algorithm>
#include <cstring>

#include "wg/device.h"
#include "wg/ip_packet.h"

namespace wgp {

using namespace noise;

namespace {

// Above this many handshake messages in one 125 ms window (1024 a second,
// a few milliseconds of DH each) we are "under load" and demand cookies.
constexpr uint32_t kHandshakesPerLoadWindow = 128;
constexpr auto kLoadWindow = std::chrono::milliseconds(125);
// After crossed initiations: past the peer's 20 ms flood window, and past
// one step (2^24 ns) of the TAI64N timestamp, so the new one is newer.
constexpr auto kCrossedRestartDelay = std::chrono::milliseconds(25);

}  // namespace

std::optional<DropReason> Device::receive_datagram(ByteView msg, const Endpoint& from, Now now,
                                                   const OpenJob* opened) {
  if (msg.size() < 4) return drop(DropReason::kMalformed), DropReason::kMalformed;
  if (relay_) {
    std::optional<DropReason> dropped;
    if (relay_datagram(msg, from, now, dropped)) return dropped;
  }
  // Bytes 1..3 are reserved and must be zero: read the four as one LE32.
  switch (load_le32(msg.data())) {
    case uint32_t(MessageType::kInitiation):
      if (msg.size() == kInitiationSize) return receive_initiation(msg, from, now);
      break;
    case uint32_t(MessageType::kResponse):
      if (msg.size() == kResponseSize) return receive_response(msg, from, now);
      break;
    case uint32_t(MessageType::kCookieReply):
      if (msg.size() == kCookieReplySize) return receive_cookie_reply(msg, now);
      break;
    case uint32_t(MessageType::kTransport):
      // Not always a multiple of 16: padding stops at the MTU.
      if (msg.size() >= kTransportMinSize) return receive_transport(msg, from, now, opened);
      break;
  }
  drop(DropReason::kMalformed);
  return DropReason::kMalformed;
}

std::optional<DropReason> Device::check_handshake_load(ByteView msg, uint32_t sender_index,
                                                       const Endpoint& from, Now now) {
  if (!cookie_checker_.check_mac1(msg)) return DropReason::kBadMac1;
  if (!note_handshake(now.mono)) return std::nullopt;

  std::array<uint8_t, 18> source;
  size_t source_len = from.cookie_input(source);
  ByteView source_view(source.data(), source_len);
  if (!cookie_checker_.check_mac2(msg, source_view, now.mono, rng_)) {
    std::array<uint8_t, kCookieReplySize> reply;
    cookie_checker_.make_reply(msg, sender_index, source_view, now.mono, rng_, reply);
    out_.send_datagram(from, reply);
    return DropReason::kCookieSent;
  }
  if (!ratelimiter_.allow(from.address, now.mono)) return DropReason::kRateLimited;
  return std::nullopt;
}

bool Device::note_handshake(Instant now) {
  if (now - load_window_start_ > kLoadWindow) {
    load_window_start_ = now;
    handshakes_in_window_ = 0;
  }
  if (++handshakes_in_window_ > kHandshakesPerLoadWindow)
    under_load_until_ = now + kUnderLoadStickiness;
  return under_load(now);
}

std::optional<DropReason> Device::receive_initiation(ByteView msg, const Endpoint& from, Now now) {
  auto fail = [&](DropReason r) { return drop(r), std::optional<DropReason>(r); };
  if (!identity_.has_private_key) return fail(DropReason::kHandshakeFailed);
  if (auto r = check_handshake_load(msg, load_le32(&msg[kInitiationSenderOffset]), from, now))
    return fail(*r);

  auto wire = msg.first<kInitiationSize>();
  auto start = begin_consume_initiation(identity_, wire);
  if (!start) return fail(DropReason::kHandshakeFailed);
  Peer* peer = find_peer_mut(start->initiator_public);
  if (!peer) return fail(DropReason::kUnknownPeer);

  uint32_t old_index = peer->handshake.local_index;
  HandshakeState old_state = peer->handshake.state;
  switch (
      finish_consume_initiation(peer->handshake, peer->keys, std::move(*start), wire, now.mono)) {
    case HandshakeError::kNone:
      break;
    case HandshakeError::kReplay:
    case HandshakeError::kFlood:
      return fail(DropReason::kReplayedHandshake);
    default:
      return fail(DropReason::kHandshakeFailed);
  }
  // Our own initiation still in flight is superseded: both sides initiated
  // at once. Its index stays ours a while, so that the peer's response to it
  // is recognised (receive_response) instead of waiting out REKEY_TIMEOUT.
  if (old_state == HandshakeState::kInitiationCreated && old_index) {
    release_crossed_index(*peer);
    peer->crossed_index = old_index;
  }

  on_authenticated_receive(*peer, from, msg.size(), now);
  send_response(*peer, now);
  return std::nullopt;
}

std::optional<DropReason> Device::receive_response(ByteView msg, const Endpoint& from, Now now) {
  auto fail = [&](DropReason r) { return drop(r), std::optional<DropReason>(r); };
  if (!identity_.has_private_key) return fail(DropReason::kHandshakeFailed);
  if (auto r = check_handshake_load(msg, load_le32(&msg[kResponseSenderOffset]), from, now))
    return fail(*r);

  const uint32_t receiver = load_le32(&msg[kResponseReceiverOffset]);
  const IndexTable::Entry* entry = indices_.find(receiver);
  if (!entry || entry->keypair) return fail(DropReason::kUnknownIndex);
  Peer& peer = *entry->peer;
  if (receiver == peer.crossed_index) {
    // Initiations crossed: each side answered the other's and can no longer
    // complete its own, so both sit on an unconfirmed responder session. The
    // side with the lesser public key starts over promptly; the other waits
    // for that initiation (if both restarted, they could cross again).
    // Promptly, not at once: the peer takes one initiation per 20 ms from us
    // (PROTOCOL.md §3.5 flood check), and it just took one.
    release_crossed_index(peer);
    if (identity_.public_key < peer.public_key())
      peer.timers.arm(PeerTimer::kRestartCrossedHandshake, now.mono + kCrossedRestartDelay);
    return fail(DropReason::kCrossedHandshake);
  }

  SessionKeys keys;
  if (consume_response(peer.handshake, identity_, peer.keys, msg.first<kResponseSize>(), keys) !=
      HandshakeError::kNone)
    return fail(DropReason::kHandshakeFailed);

  auto kp = std::make_unique<Keypair>(keys, now.mono);
  indices_.bind_keypair(kp->local_index, kp.get());
  peer.keypairs.install_as_initiator(std::move(kp), indices_);
  peer.handshake.clear();  // its index now belongs to the keypair
  release_crossed_index(peer);
  peer.timers.disarm(PeerTimer::kRestartCrossedHandshake);

  peer.timers.on_session_derived(now.mono);
  peer.timers.on_handshake_complete();
  peer.last_handshake = now.wall;
  on_authenticated_receive(peer, from, msg.size(), now);
  if (observer_) observer_->on_handshake_complete(peer, now);
  // Key confirmation for the responder: data if we have any, else a keepalive.
  if (peer.staged.empty())
    send_keepalive(peer, now);
  else
    flush_staged(peer, now);
  return std::nullopt;
}

std::optional<DropReason> Device::receive_cookie_reply(ByteView msg, Now now) {
  const IndexTable::Entry* entry = indices_.find(load_le32(&msg[kCookieReplyReceiverOffset]));
  if (!entry) return drop(DropReason::kUnknownIndex), DropReason::kUnknownIndex;
  // Cookie replies are not authenticated packets: no endpoint or timer change.
  if (!entry->peer->cookies.consume_reply(msg.first<kCookieReplySize>(), now.mono))
    return drop(DropReason::kBadCookie), DropReason::kBadCookie;
  return std::nullopt;
}

bool Device::prepare_open(ByteView msg, MutableByteView plaintext, Now now, OpenJob& job) const {
  if (msg.size() < kTransportMinSize || load_le32(msg.data()) != uint32_t(MessageType::kTransport))
    return false;
  const IndexTable::Entry* entry = indices_.find(load_le32(&msg[kTransportReceiverOffset]));
  if (!entry || !entry->keypair || !entry->keypair->usable_for_receiving(now.mono)) return false;
  ByteView ciphertext = msg.subspan(kTransportHeaderSize);
  if (plaintext.size() < ciphertext.size() - kTagSize) return false;
  job.key = &entry->keypair->receive_key;
  job.counter = load_le64(&msg[kTransportCounterOffset]);
  job.ciphertext = ciphertext;
  job.plaintext = plaintext.first(ciphertext.size() - kTagSize);
  job.keypair_serial = entry->keypair->serial;
  job.authentic = false;
  return true;
}

std::optional<DropReason> Device::receive_transport(ByteView msg, const Endpoint& from, Now now,
                                                    const OpenJob* opened) {
  auto fail = [&](DropReason r) { return drop(r), std::optional<DropReason>(r); };
  const IndexTable::Entry* entry = indices_.find(load_le32(&msg[kTransportReceiverOffset]));
  if (!entry || !entry->keypair) return fail(DropReason::kUnknownIndex);
  Peer& peer = *entry->peer;
  Keypair& kp = *entry->keypair;
  if (!kp.usable_for_receiving(now.mono)) return fail(DropReason::kExpiredKeypair);

  uint64_t counter = load_le64(&msg[kTransportCounterOffset]);
  MutableByteView plain;
  if (opened && opened->keypair_serial == kp.serial && opened->counter == counter) {
    // Decrypted ahead, on some thread, by the keypair the index still names.
    if (!opened->authentic) return fail(DropReason::kDecryptFailed);
    plain = opened->plaintext;
  } else {
    ByteView ciphertext = msg.subspan(kTransportHeaderSize);
    plain = MutableByteView(rx_scratch_.data(), ciphertext.size() - kTagSize);
    if (!kp.receive_key.open(counter, ciphertext, {}, plain))
      return fail(DropReason::kDecryptFailed);
  }
  // Authenticate first; only then may the counter touch the replay window.
  if (!kp.replay.check_and_update(counter)) return fail(DropReason::kReplayedData);

  // The endpoint first: what this packet releases goes where it came from
  // (the kernel's receive.c and wireguard-go do the same).
  on_authenticated_receive(peer, from, msg.size(), now);
  if (peer.keypairs.promote_next(&kp, indices_)) {
    // The initiator used the session: the responder's handshake is complete.
    release_crossed_index(peer);
    peer.timers.disarm(PeerTimer::kRestartCrossedHandshake);
    peer.timers.on_handshake_complete();
    peer.last_handshake = now.wall;
    flush_staged(peer, now);
    if (observer_) observer_->on_handshake_complete(peer, now);
  }

  // Receive-side rekey (§5.2): the initiator renews a session near its end
  // even when it only receives.
  const Keypair* current = peer.keypairs.current();
  if (current && current->we_initiated && !peer.timers.sent_last_minute_handshake &&
      current->age(now.mono) > kRejectAfterTime - kKeepaliveTimeout - kRekeyTimeout) {
    peer.timers.sent_last_minute_handshake = true;
    send_initiation(peer, false, now);
  }

  if (plain.empty()) return std::nullopt;  // keepalive
  peer.timers.on_data_received(now.mono);

  auto ip = parse_ip_header(plain);
  if (!ip) return fail(DropReason::kBadInnerPacket);
  // Cryptokey routing: the inner source must be an address this peer owns.
  if (allowed_ips_.lookup(ip->source) != &peer) return fail(DropReason::kSourceNotAllowed);
  ByteView packet = plain.first(ip->total_length);
  if (observer_ && observer_->intercept_inner_packet(peer, packet, now)) return std::nullopt;
  out_.write_tun(packet);
  return std::nullopt;
}

void Device::on_authenticated_receive(Peer& peer, const Endpoint& from, size_t bytes, Now now) {
  // Roaming (§4.6): follow the source of the latest authenticated packet.
  // A candidate proven this way is what discovery found, whether our probe
  // went there or the peer's came from an address discovery offered us
  // before ours left; the search is over.
  if (!peer.endpoint || *peer.endpoint != from) {
    bool candidate =
        std::any_of(peer.candidates.begin(), peer.candidates.end(),
                    [&](const Peer::Candidate& c) { return c.address == from; }) ||
        std::find(peer.offered.begin(), peer.offered.end(), from) != peer.offered.end();
    std::optional<PublicKey> relay_before = peer.relay_via;
    const bool moved = peer.endpoint && peer.endpoint_confirmed;
    move_endpoint(peer, from);
    peer.endpoint_source = candidate ? EndpointSource::kDiscovered : EndpointSource::kRoamed;
    peer.endpoint_confirmed = false;
    note_endpoint_change(peer);
    if (observer_ && relay_before != peer.relay_via) observer_->on_path_changed(peer, now);
    if (observer_ && moved) observer_->on_endpoint_moved(peer, now);
  }
  if (!peer.candidates.empty()) {
    peer.candidates.clear();
    note_endpoint_change(peer);
  }
  peer.last_authenticated_receive = now.mono;
  if (!peer.endpoint_confirmed) {
    peer.endpoint_confirmed = true;
    note_endpoint_change(peer);
  }
  peer.rx_bytes += bytes;
  peer.timers.on_any_authenticated_packet_received();
  peer.timers.on_any_authenticated_packet_traversal(now.mono);
}

}  // namespace wgp
