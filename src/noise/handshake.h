// The Noise_IKpsk2 handshake of WireGuard (PROTOCOL.md §2): pure functions over
// a per-peer Handshake record. No clock, socket or randomness is read here:
// ephemeral keys, indices, the TAI64N timestamp and `now` come from the caller,
// so a test can replay the §6.3 transcript byte for byte.
//
// These functions fill everything of a message except mac1/mac2; the cookie
// layer (cookie.h) adds and checks those, and the device owns the index table.
#pragma once

#include <optional>
#include <span>
#include <string_view>

#include "crypto/blake2s.h"
#include "crypto/keys.h"
#include "crypto/tai64n.h"
#include "noise/wire.h"
#include "util/time.h"

namespace wgp::noise {

// Protocol strings (PROTOCOL.md §1): ASCII, no NUL.
inline constexpr std::string_view kConstruction = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s";
inline constexpr std::string_view kIdentifier = "WireGuard v1 zx2c4 Jason@zx2c4.com";
inline constexpr std::string_view kLabelMac1 = "mac1----";
inline constexpr std::string_view kLabelCookie = "cookie--";

// This node's static identity and the keys derived from it.
struct LocalIdentity {
  PrivateKey private_key;  // clamped
  PublicKey public_key{};
  Hash mac1_key{};    // HASH("mac1----" ‖ public_key): checks mac1 of messages sent to us
  Hash cookie_key{};  // HASH("cookie--" ‖ public_key): seals the cookie replies we send
  bool has_private_key = false;

  // Clamps `key` and derives the rest. An all-zero key means "no key".
  static LocalIdentity from_private_key(const PrivateKey& key);
};

// What the handshake needs to know about one peer.
struct PeerKeys {
  PublicKey public_key{};
  PresharedKey preshared_key;  // all zero when none is configured
  Secret<32> static_static;    // DH(local private, peer public), precomputed
  bool static_static_valid = false;  // false: no local key, or a low-order peer key
  Hash mac1_key{};    // HASH("mac1----" ‖ peer public): to add mac1 to messages we send
  Hash cookie_key{};  // HASH("cookie--" ‖ peer public): to open the peer's cookie replies

  PeerKeys() = default;
  PeerKeys(const PublicKey& peer_public, const LocalIdentity& local);
  // Recomputes static_static after the local private key changed.
  void rebind(const LocalIdentity& local);
};

enum class HandshakeState : uint8_t {
  kZeroed,
  kInitiationCreated,
  kInitiationConsumed,
  kResponseCreated,
  kResponseConsumed,
};

// Per-peer handshake record.
struct Handshake {
  HandshakeState state = HandshakeState::kZeroed;
  Secret<32> chain_key;
  Secret<32> hash;
  PrivateKey ephemeral_private;
  PublicKey remote_ephemeral{};
  uint32_t local_index = 0;   // as on the wire (LE32 of the 4 bytes)
  uint32_t remote_index = 0;
  // Replay and flood memory; survives clear().
  Tai64n latest_timestamp{};
  std::optional<Instant> last_initiation_consumed;

  // Wipes the in-flight state (keys, hash, indices); keeps the replay memory.
  void clear();
};

// Keys of a new session (Noise Split, §2.5).
struct SessionKeys {
  Secret<32> send;
  Secret<32> receive;
  uint32_t local_index = 0;
  uint32_t remote_index = 0;
  bool we_initiated = false;
};

enum class HandshakeError : uint8_t {
  kNone,
  kNoIdentity,      // no local private key, or static_static invalid
  kDecryptFailed,   // an AEAD did not authenticate
  kBadDh,           // a DH result was all zero
  kReplay,          // timestamp not newer than the latest accepted
  kFlood,           // initiation within 20 ms of the previous one
  kWrongState,      // e.g. a response for no initiation of ours
};

// §2.1. Writes bytes [0, 116) of `out`; mac1/mac2 are left zero. `ephemeral`
// must be a clamped fresh private key. On success state = kInitiationCreated.
[[nodiscard]] HandshakeError create_initiation(Handshake& hs, const LocalIdentity& local,
                                               const PeerKeys& peer, uint32_t sender_index,
                                               const Tai64n& timestamp,
                                               const PrivateKey& ephemeral,
                                               std::span<uint8_t, kInitiationSize> out);

// §2.2 steps 1–3: decrypts the initiator's static key so the caller can find
// the peer. Does not check macs (the cookie layer does that first).
struct InitiationStart {
  PublicKey initiator_public{};
  Secret<32> chain_key;
  Secret<32> hash;
};
[[nodiscard]] std::optional<InitiationStart> begin_consume_initiation(
    const LocalIdentity& local, std::span<const uint8_t, kInitiationSize> msg);

// §2.2 steps 5–7 for the peer found: on success stores the state in `hs`
// (state = kInitiationConsumed, remote index, remote ephemeral, replay memory).
// On any error `hs` is unchanged.
[[nodiscard]] HandshakeError finish_consume_initiation(Handshake& hs, const PeerKeys& peer,
                                                       InitiationStart&& start,
                                                       std::span<const uint8_t, kInitiationSize> msg,
                                                       Instant now);

// §2.3. Requires kInitiationConsumed. Writes bytes [0, 60) of `out` and the
// responder's session keys into `keys` (§2.5); afterwards
// state = kResponseCreated and the chaining key, hash and ephemeral are wiped.
[[nodiscard]] HandshakeError create_response(Handshake& hs, const PeerKeys& peer,
                                             uint32_t sender_index, const PrivateKey& ephemeral,
                                             std::span<uint8_t, kResponseSize> out,
                                             SessionKeys& keys);

// §2.4. Requires kInitiationCreated and msg's receiver index == hs.local_index
// (the caller looked it up). On success fills `keys` (initiator's) and wipes
// the handshake; on error `hs` is unchanged.
[[nodiscard]] HandshakeError consume_response(Handshake& hs, const LocalIdentity& local,
                                              const PeerKeys& peer,
                                              std::span<const uint8_t, kResponseSize> msg,
                                              SessionKeys& keys);

// The generic Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s message bodies, with the
// prologue and the payloads as parameters. The WireGuard functions above are
// these with prologue = IDENTIFIER, payload 1 = TAI64N and payload 2 = ε; the
// Noise "cacophony" vector (PROTOCOL.md §6.2) drives them directly. Bodies:
// message 1 = e ‖ enc(s) ‖ enc(payload), message 2 = e ‖ enc(payload), which
// are bytes [8, 116) of a type-1 and [12, 60) of a type-2 message.
namespace ikpsk2 {

constexpr size_t kMessage1Overhead = kKeySize + (kKeySize + kTagSize) + kTagSize;  // 96
constexpr size_t kMessage2Overhead = kKeySize + kTagSize;                          // 48

// Noise InitializeSymmetric + MixHash(prologue) + MixHash(responder static):
// C = HASH(CONSTRUCTION); H = HASH(HASH(C ‖ prologue) ‖ responder_static).
void initialize(Secret<32>& chain_key, Secret<32>& hash, ByteView prologue,
                const PublicKey& responder_static);

// Initiator, tokens e, es, s, ss, {payload}. out.size() must be payload.size()
// + 96. On success stores C, H and a copy of `ephemeral` in `hs` (nothing
// else); on error `hs` is untouched. Needs local.has_private_key and
// peer.static_static_valid.
[[nodiscard]] HandshakeError write_message1(Handshake& hs, ByteView prologue,
                                            const LocalIdentity& local, const PeerKeys& peer,
                                            const PrivateKey& ephemeral, ByteView payload,
                                            MutableByteView out);

// Responder, tokens e, es, s: the first half of reading message 1.
// body.size() must be at least 96; nullopt when the static key does not decrypt.
[[nodiscard]] std::optional<InitiationStart> read_message1_static(ByteView prologue,
                                                                  const LocalIdentity& local,
                                                                  ByteView body);

// Responder, tokens ss, {payload}: payload_out.size() must be body.size() - 96.
// On success advances start.chain_key/hash; on error they are untouched.
[[nodiscard]] HandshakeError read_message1_payload(InitiationStart& start, const PeerKeys& peer,
                                                   ByteView body, MutableByteView payload_out);

// Responder, tokens e, ee, se, psk, {payload}, continuing from hs.chain_key,
// hs.hash and hs.remote_ephemeral. out.size() must be payload.size() + 48.
// On success advances hs.chain_key/hash (state and indices untouched).
[[nodiscard]] HandshakeError write_message2(Handshake& hs, const PeerKeys& peer,
                                            const PrivateKey& ephemeral, ByteView payload,
                                            MutableByteView out);

// Initiator, tokens e, ee, se, psk, {payload}, continuing from `hs` (which is
// not modified). payload_out.size() must be body.size() - 48. On success the
// new chaining key and hash are written to chain_key/hash.
[[nodiscard]] HandshakeError read_message2(const Handshake& hs, const LocalIdentity& local,
                                           const PeerKeys& peer, ByteView body,
                                           MutableByteView payload_out, Secret<32>& chain_key,
                                           Secret<32>& hash);

// Noise Split: (T1, T2) = KDF2(C, ε). The initiator sends with T1.
void split(const Secret<32>& chain_key, Secret<32>& t1, Secret<32>& t2);

}  // namespace ikpsk2

}  // namespace wgp::noise
