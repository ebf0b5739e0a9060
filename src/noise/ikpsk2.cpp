// The generic Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s message bodies
// (PROTOCOL.md §2), shared by WireGuard's messages (handshake.cpp) and the
// Noise test vectors. Every chaining key, hash, cipher key and DH result is a
// Secret, and the caller's state is written only once a message fully
// authenticated, so a forged or corrupted message changes nothing. aead_seal
// fails only on wrong buffer sizes (asserted), reported as kWrongState misuse.
#include <cassert>

#include "crypto/aead.h"
#include "crypto/x25519.h"
#include "noise/handshake.h"

namespace wgp::noise::ikpsk2 {
namespace {

ByteView ascii(std::string_view s) {
  return ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

// Noise MixHash: H = HASH(H ‖ data).
void mix_hash(Secret<32>& h, ByteView data) { blake2s(h.span(), {h.span(), data}); }
// Noise MixKey without a cipher key: C = KDF1(C, data).
void mix_key(Secret<32>& c, ByteView data) { kdf1(c, c.span(), data); }
// Noise MixKey: (C, k) = KDF2(C, data).
void mix_key(Secret<32>& c, Secret<32>& k, ByteView data) { kdf2(c, k, c.span(), data); }

PublicKey load_key(ByteView from) {
  PublicKey k;
  std::copy(from.begin(), from.begin() + kKeySize, k.begin());
  return k;
}

// C0 = HASH(CONSTRUCTION) never changes; compute it once.
const Secret<32>& initial_chain_key() {
  static const Secret<32> c0 = [] {
    Secret<32> c;
    blake2s(c.span(), {ascii(kConstruction)});
    return c;
  }();
  return c0;
}

}  // namespace

void initialize(Secret<32>& chain_key, Secret<32>& hash, ByteView prologue,
                const PublicKey& responder_static) {
  chain_key = initial_chain_key().clone();
  blake2s(hash.span(), {chain_key.span(), prologue});  // H0 = HASH(C0 ‖ prologue)
  mix_hash(hash, responder_static);                    // pre-message: <- s
}

HandshakeError write_message1(Handshake& hs, ByteView prologue, const LocalIdentity& local,
                              const PeerKeys& peer, const PrivateKey& ephemeral, ByteView payload,
                              MutableByteView out) {
  assert(out.size() == payload.size() + kMessage1Overhead);
  if (!local.has_private_key || !peer.static_static_valid) return HandshakeError::kNoIdentity;
  Secret<32> c, h, k, dh;
  initialize(c, h, prologue, peer.public_key);

  // e
  const PublicKey e_pub = derive_public_key(ephemeral);
  std::copy(e_pub.begin(), e_pub.end(), out.begin());
  mix_key(c, e_pub);  // psk mode: every e also mixes into the chaining key
  mix_hash(h, e_pub);

  // es
  if (!x25519(dh, ephemeral, peer.public_key)) return HandshakeError::kBadDh;
  mix_key(c, k, dh.span());

  // s
  MutableByteView enc_static = out.subspan(kKeySize, kKeySize + kTagSize);
  if (!aead_seal(k, 0, local.public_key, h.span(), enc_static)) return HandshakeError::kWrongState;
  mix_hash(h, enc_static);

  // ss (precomputed static-static DH, checked non-zero when it was made)
  mix_key(c, k, peer.static_static.span());

  // {payload}: {t} (TAI64N) in WireGuard
  MutableByteView enc_payload = out.subspan(2 * kKeySize + kTagSize);
  if (!aead_seal(k, 0, payload, h.span(), enc_payload)) return HandshakeError::kWrongState;
  mix_hash(h, enc_payload);

  hs.chain_key = std::move(c);
  hs.hash = std::move(h);
  hs.ephemeral_private = ephemeral.clone();
  return HandshakeError::kNone;
}

std::optional<InitiationStart> read_message1_static(ByteView prologue, const LocalIdentity& local,
                                                    ByteView body) {
  if (!local.has_private_key || body.size() < kMessage1Overhead) return std::nullopt;
  InitiationStart start;
  Secret<32> k, dh;
  initialize(start.chain_key, start.hash, prologue, local.public_key);

  // e
  const PublicKey e_pub = load_key(body);
  mix_hash(start.hash, e_pub);
  mix_key(start.chain_key, e_pub);

  // es
  if (!x25519(dh, local.private_key, e_pub)) return std::nullopt;
  mix_key(start.chain_key, k, dh.span());

  // s
  ByteView enc_static = body.subspan(kKeySize, kKeySize + kTagSize);
  if (!aead_open(k, 0, enc_static, start.hash.span(), start.initiator_public)) return std::nullopt;
  mix_hash(start.hash, enc_static);
  return start;
}

HandshakeError read_message1_payload(InitiationStart& start, const PeerKeys& peer, ByteView body,
                                     MutableByteView payload_out) {
  assert(body.size() >= kMessage1Overhead);
  assert(payload_out.size() == body.size() - kMessage1Overhead);
  // static_static is DH(our private, peer.public_key): only valid for this initiator.
  if (peer.public_key != start.initiator_public) return HandshakeError::kWrongState;
  if (!peer.static_static_valid) return HandshakeError::kNoIdentity;
  Secret<32> c = start.chain_key.clone(), h = start.hash.clone(), k;

  // ss
  mix_key(c, k, peer.static_static.span());

  // {payload}: {t} (TAI64N) in WireGuard
  ByteView enc_payload = body.subspan(2 * kKeySize + kTagSize);
  if (!aead_open(k, 0, enc_payload, h.span(), payload_out)) return HandshakeError::kDecryptFailed;
  mix_hash(h, enc_payload);

  start.chain_key = std::move(c);
  start.hash = std::move(h);
  return HandshakeError::kNone;
}

HandshakeError write_message2(Handshake& hs, const PeerKeys& peer, const PrivateKey& ephemeral,
                              ByteView payload, MutableByteView out) {
  assert(out.size() == payload.size() + kMessage2Overhead);
  Secret<32> c = hs.chain_key.clone(), h = hs.hash.clone(), k, tau, dh;

  // e
  const PublicKey e_pub = derive_public_key(ephemeral);
  std::copy(e_pub.begin(), e_pub.end(), out.begin());
  mix_key(c, e_pub);
  mix_hash(h, e_pub);

  // ee
  if (!x25519(dh, ephemeral, hs.remote_ephemeral)) return HandshakeError::kBadDh;
  mix_key(c, dh.span());

  // se
  if (!x25519(dh, ephemeral, peer.public_key)) return HandshakeError::kBadDh;
  mix_key(c, dh.span());

  // psk: (C, τ, k) = KDF3(C, Q); H = HASH(H ‖ τ)
  kdf3(c, tau, k, c.span(), peer.preshared_key.span());
  mix_hash(h, tau.span());

  // {payload} (ε in WireGuard: the tag alone)
  MutableByteView enc_payload = out.subspan(kKeySize);
  if (!aead_seal(k, 0, payload, h.span(), enc_payload)) return HandshakeError::kWrongState;
  mix_hash(h, enc_payload);

  hs.chain_key = std::move(c);
  hs.hash = std::move(h);
  return HandshakeError::kNone;
}

HandshakeError read_message2(const Handshake& hs, const LocalIdentity& local, const PeerKeys& peer,
                             ByteView body, MutableByteView payload_out, Secret<32>& chain_key,
                             Secret<32>& hash) {
  assert(body.size() >= kMessage2Overhead);
  assert(payload_out.size() == body.size() - kMessage2Overhead);
  if (!local.has_private_key) return HandshakeError::kNoIdentity;
  Secret<32> c = hs.chain_key.clone(), h = hs.hash.clone(), k, tau, dh;

  // e
  const PublicKey e_pub = load_key(body);
  mix_hash(h, e_pub);
  mix_key(c, e_pub);

  // ee
  if (!x25519(dh, hs.ephemeral_private, e_pub)) return HandshakeError::kBadDh;
  mix_key(c, dh.span());

  // se
  if (!x25519(dh, local.private_key, e_pub)) return HandshakeError::kBadDh;
  mix_key(c, dh.span());

  // psk
  kdf3(c, tau, k, c.span(), peer.preshared_key.span());
  mix_hash(h, tau.span());

  // {payload}: {} (ε) in WireGuard
  ByteView enc_payload = body.subspan(kKeySize);
  if (!aead_open(k, 0, enc_payload, h.span(), payload_out)) return HandshakeError::kDecryptFailed;
  mix_hash(h, enc_payload);

  chain_key = std::move(c);
  hash = std::move(h);
  return HandshakeError::kNone;
}

void split(const Secret<32>& chain_key, Secret<32>& t1, Secret<32>& t2) {
  kdf2(t1, t2, chain_key.span(), {});
}

}  // namespace wgp::noise::ikpsk2
