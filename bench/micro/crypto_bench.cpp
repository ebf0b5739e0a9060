// Primitive costs behind the data path and the handshake: ChaCha20-Poly1305
// seal/open of MTU-sized packets in batches (as the device moves them),
// X25519 from both candidate libraries (DESIGN.md §1: keep the faster), and
// BLAKE2s as the handshake and mac1 use it.
#include <benchmark/benchmark.h>
#include <openssl/curve25519.h>
#include <sodium.h>

#include <array>
#include <vector>

#include "crypto/aead.h"
#include "crypto/blake2s.h"
#include "crypto/random.h"
#include "crypto/x25519.h"

namespace wgp {
namespace {

constexpr size_t kPacket = 1420;  // the tunnel MTU: a full inner packet
constexpr size_t kBatch = 64;

Secret<32> random_secret() {
  Secret<32> s;
  SystemRandom().fill(s.span());
  return s;
}

// One batch of 64 packets sealed with consecutive counters, out of place
// (the device writes ciphertext after the 16-byte transport header).
void BM_SealBatch(benchmark::State& state) {
  AeadKey key(random_secret());
  std::vector<uint8_t> plain(kBatch * kPacket, 0xab);
  std::vector<uint8_t> sealed(kBatch * (kPacket + kAeadTagSize));
  uint64_t counter = 0;
  for (auto _ : state) {
    for (size_t i = 0; i < kBatch; ++i) {
      bool ok =
          key.seal(counter++, ByteView(&plain[i * kPacket], kPacket), {},
                   MutableByteView(&sealed[i * (kPacket + kAeadTagSize)], kPacket + kAeadTagSize));
      if (!ok) state.SkipWithError("seal failed");
    }
    benchmark::DoNotOptimize(sealed.data());
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * kBatch * kPacket);
  state.SetItemsProcessed(int64_t(state.iterations()) * kBatch);
}
BENCHMARK(BM_SealBatch);

// Opening a batch of 64 authentic packets (counters 0..63).
void BM_OpenBatch(benchmark::State& state) {
  Secret<32> secret = random_secret();
  AeadKey key(secret);
  std::vector<uint8_t> plain(kBatch * kPacket, 0xcd);
  std::vector<uint8_t> sealed(kBatch * (kPacket + kAeadTagSize));
  for (size_t i = 0; i < kBatch; ++i) {
    if (!key.seal(i, ByteView(&plain[i * kPacket], kPacket), {},
                  MutableByteView(&sealed[i * (kPacket + kAeadTagSize)], kPacket + kAeadTagSize)))
      state.SkipWithError("seal failed");
  }
  for (auto _ : state) {
    for (size_t i = 0; i < kBatch; ++i) {
      bool ok = key.open(i, ByteView(&sealed[i * (kPacket + kAeadTagSize)], kPacket + kAeadTagSize),
                         {}, MutableByteView(&plain[i * kPacket], kPacket));
      if (!ok) state.SkipWithError("open failed");
    }
    benchmark::DoNotOptimize(plain.data());
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * kBatch * kPacket);
  state.SetItemsProcessed(int64_t(state.iterations()) * kBatch);
}
BENCHMARK(BM_OpenBatch);

// The same batch through libsodium's ChaCha20-Poly1305 (IETF, 96-bit nonce as
// WireGuard's): for choosing the AEAD backend, as DESIGN.md asks for X25519.
void BM_SealBatch_Libsodium(benchmark::State& state) {
  ensure_sodium_initialized();
  Secret<32> key = random_secret();
  std::vector<uint8_t> plain(kBatch * kPacket, 0xab);
  std::vector<uint8_t> sealed(kBatch * (kPacket + kAeadTagSize));
  std::array<uint8_t, 12> nonce{};
  uint64_t counter = 0;
  for (auto _ : state) {
    for (size_t i = 0; i < kBatch; ++i) {
      store_le64(nonce.data() + 4, counter++);
      unsigned long long len = 0;
      crypto_aead_chacha20poly1305_ietf_encrypt(&sealed[i * (kPacket + kAeadTagSize)], &len,
                                                &plain[i * kPacket], kPacket, nullptr, 0, nullptr,
                                                nonce.data(), key.data());
    }
    benchmark::DoNotOptimize(sealed.data());
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * kBatch * kPacket);
  state.SetItemsProcessed(int64_t(state.iterations()) * kBatch);
}
BENCHMARK(BM_SealBatch_Libsodium);

struct DhInputs {
  std::array<uint8_t, 32> priv{};
  std::array<uint8_t, 32> pub{};
  DhInputs() {
    ensure_sodium_initialized();
    std::array<uint8_t, 32> other{};
    randombytes_buf(priv.data(), priv.size());
    randombytes_buf(other.data(), other.size());
    crypto_scalarmult_curve25519_base(pub.data(), other.data());
  }
};

void BM_X25519_Libsodium(benchmark::State& state) {
  DhInputs in;
  std::array<uint8_t, 32> out{};
  for (auto _ : state) {
    if (crypto_scalarmult_curve25519(out.data(), in.priv.data(), in.pub.data()) != 0)
      state.SkipWithError("low-order result");
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_X25519_Libsodium);

void BM_X25519_BoringSSL(benchmark::State& state) {
  DhInputs in;
  std::array<uint8_t, 32> out{};
  for (auto _ : state) {
    if (X25519(out.data(), in.priv.data(), in.pub.data()) != 1)
      state.SkipWithError("low-order result");
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_X25519_BoringSSL);

// Public key from private key (fixed-base multiplication): every ephemeral.
void BM_X25519Base_Libsodium(benchmark::State& state) {
  DhInputs in;
  std::array<uint8_t, 32> out{};
  for (auto _ : state) {
    crypto_scalarmult_curve25519_base(out.data(), in.priv.data());
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_X25519Base_Libsodium);

void BM_X25519Base_BoringSSL(benchmark::State& state) {
  DhInputs in;
  std::array<uint8_t, 32> out{};
  for (auto _ : state) {
    X25519_public_from_private(out.data(), in.priv.data());
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_X25519Base_BoringSSL);

// wgp::x25519 as the handshake calls it (libsodium today).
void BM_X25519_Wgp(benchmark::State& state) {
  SystemRandom rng;
  PrivateKey priv = generate_private_key(rng);
  PublicKey pub = derive_public_key(generate_private_key(rng));
  Secret<32> shared;
  for (auto _ : state) {
    if (!x25519(shared, priv, pub)) state.SkipWithError("low-order result");
    benchmark::DoNotOptimize(shared.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_X25519_Wgp);

void BM_Blake2s64(benchmark::State& state) {
  std::array<uint8_t, 64> input{};
  input.fill(0x5a);
  Hash out;
  for (auto _ : state) {
    blake2s(out, {ByteView(input)});
    benchmark::DoNotOptimize(out.data());
    input[0] = out[0];  // a dependency chain, so calls cannot overlap
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * 64);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Blake2s64);

// mac1 of an initiation: keyed BLAKE2s-128 over its first 116 bytes.
void BM_Mac1(benchmark::State& state) {
  std::array<uint8_t, 116> msg{};
  Hash key{};
  key.fill(0x11);
  for (auto _ : state) {
    Mac m = mac16(key, {ByteView(msg)});
    benchmark::DoNotOptimize(m.data());
    msg[0] = m[0];
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Mac1);

// KDF2 (two HMAC-BLAKE2s rounds plus the extract): several per handshake.
void BM_Kdf2(benchmark::State& state) {
  Secret<32> key = random_secret();
  std::array<uint8_t, 32> input{};
  Secret<32> t1, t2;
  for (auto _ : state) {
    kdf2(t1, t2, ByteView(key.span()), ByteView(input));
    benchmark::DoNotOptimize(t1.data());
    input[0] = t2.data()[0];
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Kdf2);

}  // namespace
}  // namespace wgp
