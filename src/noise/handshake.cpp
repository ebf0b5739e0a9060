// WireGuard's handshake messages (PROTOCOL.md §2, §3.1–3.2) on top of the
// generic IKpsk2 bodies in ikpsk2.cpp: headers and indices, the replay and
// flood rules, the state machine and the session split.
#include "noise/handshake.h"

#include <algorithm>

#include "crypto/x25519.h"

namespace wgp::noise {
namespace {

constexpr size_t kInitiationBodySize = kInitiationMac1Offset - kInitiationEphemeralOffset;
constexpr size_t kResponseBodySize = kResponseMac1Offset - kResponseEphemeralOffset;
static_assert(kInitiationBodySize == ikpsk2::kMessage1Overhead + sizeof(Tai64n));
static_assert(kResponseBodySize == ikpsk2::kMessage2Overhead);

ByteView ascii(std::string_view s) {
  return ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

// HASH(label ‖ key): the mac1 and cookie keys of §3.4–3.5.
Hash labelled_key(std::string_view label, const PublicKey& key) {
  Hash out;
  blake2s(out, {ascii(label), key});
  return out;
}

uint32_t message_type(ByteView msg) { return load_le32(msg.data()); }

}  // namespace

LocalIdentity LocalIdentity::from_private_key(const PrivateKey& key) {
  LocalIdentity id;
  // All zero means "no key" (UAPI private_key=000…); check before clamping,
  // which would set bit 254.
  if (key.is_zero()) return id;
  id.private_key = key.clone();
  clamp_private_key(id.private_key);
  id.public_key = derive_public_key(id.private_key);
  id.mac1_key = labelled_key(kLabelMac1, id.public_key);
  id.cookie_key = labelled_key(kLabelCookie, id.public_key);
  id.has_private_key = true;
  return id;
}

PeerKeys::PeerKeys(const PublicKey& peer_public, const LocalIdentity& local)
    : public_key(peer_public),
      mac1_key(labelled_key(kLabelMac1, peer_public)),
      cookie_key(labelled_key(kLabelCookie, peer_public)) {
  rebind(local);
}

void PeerKeys::rebind(const LocalIdentity& local) {
  // A low-order peer key gives an all-zero DH: such a peer can never handshake.
  static_static_valid =
      local.has_private_key && x25519(static_static, local.private_key, public_key);
  if (!static_static_valid) static_static.wipe();
}

void Handshake::clear() {
  state = HandshakeState::kZeroed;
  chain_key.wipe();
  hash.wipe();
  ephemeral_private.wipe();
  remote_ephemeral.fill(0);
  local_index = 0;
  remote_index = 0;
}

HandshakeError create_initiation(Handshake& hs, const LocalIdentity& local, const PeerKeys& peer,
                                 uint32_t sender_index, const Tai64n& timestamp,
                                 const PrivateKey& ephemeral,
                                 std::span<uint8_t, kInitiationSize> out) {
  std::fill(out.begin(), out.end(), 0);
  store_le32(out.data(), uint32_t(MessageType::kInitiation));
  store_le32(out.data() + kInitiationSenderOffset, sender_index);
  HandshakeError err =
      ikpsk2::write_message1(hs, ascii(kIdentifier), local, peer, ephemeral, timestamp,
                             out.subspan(kInitiationEphemeralOffset, kInitiationBodySize));
  if (err != HandshakeError::kNone) return err;
  hs.state = HandshakeState::kInitiationCreated;
  hs.local_index = sender_index;
  hs.remote_index = 0;
  hs.remote_ephemeral.fill(0);
  return HandshakeError::kNone;
}

std::optional<InitiationStart> begin_consume_initiation(
    const LocalIdentity& local, std::span<const uint8_t, kInitiationSize> msg) {
  if (message_type(msg) != uint32_t(MessageType::kInitiation)) return std::nullopt;
  return ikpsk2::read_message1_static(ascii(kIdentifier), local,
                                      msg.subspan(kInitiationEphemeralOffset, kInitiationBodySize));
}

HandshakeError finish_consume_initiation(Handshake& hs, const PeerKeys& peer,
                                         InitiationStart&& start,
                                         std::span<const uint8_t, kInitiationSize> msg,
                                         Instant now) {
  Tai64n timestamp;
  // ss, {t}
  HandshakeError err = ikpsk2::read_message1_payload(
      start, peer, msg.subspan(kInitiationEphemeralOffset, kInitiationBodySize), timestamp);
  if (err != HandshakeError::kNone) return err;

  // §2.2 step 6, only once the timestamp is authentic: a replayed initiation
  // carries an old timestamp; a flood is many fresh ones in quick succession.
  if (!tai64n_after(timestamp, hs.latest_timestamp)) return HandshakeError::kReplay;
  if (hs.last_initiation_consumed && now - *hs.last_initiation_consumed < kInitiationFloodWindow)
    return HandshakeError::kFlood;

  // Commit. This also abandons any initiation of ours in flight to this peer.
  hs.state = HandshakeState::kInitiationConsumed;
  hs.chain_key = std::move(start.chain_key);
  hs.hash = std::move(start.hash);
  hs.ephemeral_private.wipe();
  std::copy_n(msg.begin() + kInitiationEphemeralOffset, kKeySize, hs.remote_ephemeral.begin());
  hs.remote_index = load_le32(msg.data() + kInitiationSenderOffset);
  hs.latest_timestamp = timestamp;
  hs.last_initiation_consumed = now;
  return HandshakeError::kNone;
}

HandshakeError create_response(Handshake& hs, const PeerKeys& peer, uint32_t sender_index,
                               const PrivateKey& ephemeral, std::span<uint8_t, kResponseSize> out,
                               SessionKeys& keys) {
  if (hs.state != HandshakeState::kInitiationConsumed) return HandshakeError::kWrongState;
  std::fill(out.begin(), out.end(), 0);
  store_le32(out.data(), uint32_t(MessageType::kResponse));
  store_le32(out.data() + kResponseSenderOffset, sender_index);
  store_le32(out.data() + kResponseReceiverOffset, hs.remote_index);
  // e, ee, se, psk, {}
  HandshakeError err = ikpsk2::write_message2(
      hs, peer, ephemeral, {}, out.subspan(kResponseEphemeralOffset, kResponseBodySize));
  if (err != HandshakeError::kNone) return err;

  // §2.5: the responder receives with T1 and sends with T2.
  ikpsk2::split(hs.chain_key, keys.receive, keys.send);
  keys.local_index = sender_index;
  keys.remote_index = hs.remote_index;
  keys.we_initiated = false;

  hs.state = HandshakeState::kResponseCreated;
  hs.local_index = sender_index;
  hs.chain_key.wipe();
  hs.hash.wipe();
  hs.ephemeral_private.wipe();
  hs.remote_ephemeral.fill(0);
  return HandshakeError::kNone;
}

HandshakeError consume_response(Handshake& hs, const LocalIdentity& local, const PeerKeys& peer,
                                std::span<const uint8_t, kResponseSize> msg, SessionKeys& keys) {
  if (hs.state != HandshakeState::kInitiationCreated ||
      message_type(msg) != uint32_t(MessageType::kResponse) ||
      load_le32(msg.data() + kResponseReceiverOffset) != hs.local_index)
    return HandshakeError::kWrongState;
  Secret<32> chain_key, hash;
  // e, ee, se, psk, {}
  HandshakeError err = ikpsk2::read_message2(
      hs, local, peer, msg.subspan(kResponseEphemeralOffset, kResponseBodySize), {}, chain_key,
      hash);
  if (err != HandshakeError::kNone) return err;

  // §2.5: the initiator sends with T1 and receives with T2.
  ikpsk2::split(chain_key, keys.send, keys.receive);
  keys.local_index = hs.local_index;
  keys.remote_index = load_le32(msg.data() + kResponseSenderOffset);
  keys.we_initiated = true;
  hs.clear();  // keeps the replay memory
  return HandshakeError::kNone;
}

}  // namespace wgp::noise
