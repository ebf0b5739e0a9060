// The device the WireGuard fuzz target attacks, shared with the program that
// writes its seed corpus (make_seeds.cpp) so seeds and target agree byte for
// byte.
//
// The device is Bob of PROTOCOL.md §6.3 (responder) with Alice as its one
// peer. Its randomness is scripted: the first 36 bytes it draws are 0x22
// (the receiver index 0x22222222 and, as in §6.3, Epriv_r = 32 x 0x22), then a
// fixed xorshift stream. So when §6.3 message 1 arrives, Bob derives exactly
// the transcript's session keys, and the transcript's keepalive and data
// message decrypt once their receiver index is rewritten to 0x22222222 (the
// index is not authenticated). That puts the real transport decrypt, replay
// window and inner-packet checks within reach of a mutating fuzzer.
//
// Input format (all multi-byte numbers little-endian):
//   byte 0: mode = byte % 4; bit 2: Bob first initiates a handshake to Alice
//           (so responses and cookie replies find an index); bit 3: a flood of
//           129 responses with a valid mac1 first puts Bob under load, so
//           handshake messages get cookie replies (PROTOCOL.md §3.5).
//     kRaw:    records [len:2][ctl:1][len bytes]: each is one datagram.
//     kTyped:  records [sel:1][ctl:1][n:1][body]: type 1 + sel % 4, exact size
//              (148, 92, 64; type 4 is 32 + n bytes), body zero-padded; sel
//              bit 4 points the receiver index at 0x22222222; ctl bit 7 gives
//              types 1 and 2 valid macs as Alice would (mac1, and mac2 once
//              Bob sent a cookie: a cookie reply is consumed and the message
//              sent again with mac2, as a real initiator does).
//     kInner:  the harness delivers §6.3 message 1 first, then each record
//              [len:2][ctl:1][len bytes] is a plaintext that the harness seals
//              with T_send_i (counter = record number; ctl bit 7: replay the
//              previous counter) and delivers as transport data.
//     kRawV6:  as kRaw (the sources below differ per record anyway).
//   ctl: bits 0-3 advance the clock (table kSteps) before the datagram;
//        bits 4-5 pick the source endpoint; bit 6 runs the timers after it.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "crypto/aead.h"
#include "crypto/blake2s.h"
#include "crypto/keys.h"
#include "noise/cookie.h"
#include "noise/wire.h"
#include "util/bytes.h"
#include "wg/device.h"

namespace wgp::fuzz {

using namespace std::chrono_literals;

// §6.3: Bob's private key, Alice's public key, the initiator's sending key.
inline constexpr char kBobPrivateHex[] =
    "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";
inline constexpr char kAlicePublicHex[] =
    "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
inline constexpr char kTSendIHex[] =
    "35592ddce740c40650069356f4a3d91e834bf0980df0aabc3052c9be8189b883";
inline constexpr char kMessage1Hex[] =
    "01000000"
    "44332211"
    "7b4e909bbe7ffe44c465a220037d608ee35897d31ef972f07f74892cb0f73f13"
    "ec3f8bbe944e0c99daaae8f27b8b12f1c67e00c86b77d0eeb515d0b423a739cda3c6afd3e0110c93bb54eb8484ada1"
    "23"
    "2962bac03df010b803013f7bcc2ea6fbe47e2f0de44f69d716bf91ea"
    "7e9eb0f0886f35f472cff21dfc79fdb1"
    "00000000000000000000000000000000";
inline constexpr uint32_t kBobIndex = 0x22222222;

enum Mode : uint8_t { kRaw = 0, kTyped = 1, kInner = 2, kRawV6 = 3 };
inline constexpr uint8_t kBobInitiates = 0x04;
inline constexpr uint8_t kFlood = 0x08;
inline constexpr size_t kMaxRecords = 48;

inline std::vector<uint8_t> hex_bytes(const char* hex) {
  auto v = from_hex(hex);
  if (!v) std::abort();
  return *v;
}

// 0x22 for the first 36 bytes, then xorshift64*: deterministic per input.
class ScriptedRandom final : public Random {
 public:
  void fill(std::span<uint8_t> out) override {
    for (auto& b : out) {
      if (scripted_left_ > 0) {
        --scripted_left_;
        b = 0x22;
        continue;
      }
      state_ ^= state_ >> 12;
      state_ ^= state_ << 25;
      state_ ^= state_ >> 27;
      b = uint8_t((state_ * 0x2545F4914F6CDD1DULL) >> 56);
    }
  }

 private:
  size_t scripted_left_ = 36;
  uint64_t state_ = 0x9E3779B97F4A7C15ULL;
};

class Harness final : public DeviceOutput {
 public:
  explicit Harness(bool keep_datagrams = false) : keep_(keep_datagrams), device_(rng_, *this) {
    auto priv = hex_bytes(kBobPrivateHex);
    device_.set_private_key(PrivateKey(std::span<const uint8_t, 32>(priv.data(), 32)));
    auto pub = hex_bytes(kAlicePublicHex);
    PublicKey alice;
    std::memcpy(alice.data(), pub.data(), 32);
    alice_ = device_.add_peer(alice);
    if (!alice_) std::abort();
    device_.allowed_ips().insert(*IpPrefix::parse("10.0.0.1/32"), alice_);
    device_.allowed_ips().insert(*IpPrefix::parse("fd00::1/128"), alice_);
    device_.set_endpoint(*alice_, source(0), EndpointSource::kConfig);
    alice_macs_.set_keys(device_.identity().mac1_key, device_.identity().cookie_key);
    now_.mono = Instant(1000s);
    now_.wall = WallTime(1700000100s);  // after the §6.3 initiation's TAI64N
  }

  void send_datagram(const Endpoint&, ByteView d) override {
    ++datagrams_sent;
    last_sent_.assign(d.begin(), d.end());
    if (keep_) sent.emplace_back(d.begin(), d.end());
  }
  void write_tun(ByteView p) override {
    ++tun_writes;
    if (p.empty()) std::abort();  // a zero-length packet must never reach the TUN
  }

  static Endpoint source(uint8_t which) {
    static const char* kSources[] = {"192.0.2.1:51820", "198.51.100.7:4242", "[2001:db8::1]:51820",
                                     "[::ffff:192.0.2.1]:1"};
    return *Endpoint::parse(kSources[which & 3]);
  }

  void advance(uint8_t ctl) {
    static constexpr Duration kSteps[16] = {0s,  1ms, 10ms, 20ms, 100ms, 1s,   5s,   10s,
                                            15s, 25s, 90s,  120s, 125s,  180s, 540s, 600s};
    now_.mono += kSteps[ctl & 0x0f];
    now_.wall += kSteps[ctl & 0x0f];
  }

  // One datagram from the source `ctl` picks, then timers if asked.
  std::optional<DropReason> deliver(ByteView datagram, uint8_t ctl) {
    advance(ctl);
    auto r = device_.receive_datagram(datagram, source(uint8_t(ctl >> 4)), now_);
    if (ctl & 0x40) device_.run_timers(now_);
    return r;
  }

  void bob_initiates() { device_.initiate_handshake(*alice_, now_); }

  // A type-1/2 message with the macs Alice would add for Bob. When Bob is
  // under load and answers with a cookie reply, Alice takes the cookie and
  // sends the message again with mac2, as a real initiator would.
  std::optional<DropReason> deliver_with_macs(MutableByteView msg, uint8_t ctl) {
    alice_macs_.add_macs(msg, now_.mono);
    auto r = deliver(msg, ctl);
    if (r != DropReason::kCookieSent || last_sent_.size() != noise::kCookieReplySize) return r;
    if (!alice_macs_.consume_reply(std::span<const uint8_t, noise::kCookieReplySize>(
                                       last_sent_.data(), noise::kCookieReplySize),
                                   now_.mono))
      std::abort();  // Bob's own cookie reply must open
    alice_macs_.add_macs(msg, now_.mono);
    return deliver(msg, uint8_t(ctl & 0xf0));  // no further clock step
  }

  // Bob under load: 129 responses with a valid mac1 (counted before the
  // index lookup, so no Diffie-Hellman is spent on them).
  void flood() {
    std::array<uint8_t, noise::kResponseSize> msg{};
    store_le32(msg.data(), uint32_t(noise::MessageType::kResponse));
    for (int i = 0; i < 129; ++i) {
      store_le32(msg.data() + noise::kResponseSenderOffset, uint32_t(i));
      alice_macs_.add_macs(msg, now_.mono);
      (void)device_.receive_datagram(msg, source(3), now_);
    }
    if (!device_.under_load(now_.mono)) std::abort();  // the flood must work
  }

  // Transport data from Alice to Bob: `plain` sealed with T_send_i.
  std::vector<uint8_t> seal_from_alice(ByteView plain, uint64_t counter) {
    static const auto key_bytes = hex_bytes(kTSendIHex);
    static const AeadKey key(Secret<32>(std::span<const uint8_t, 32>(key_bytes.data(), 32)));
    std::vector<uint8_t> msg(noise::kTransportHeaderSize + plain.size() + noise::kTagSize);
    store_le32(msg.data(), uint32_t(noise::MessageType::kTransport));
    store_le32(msg.data() + noise::kTransportReceiverOffset, kBobIndex);
    store_le64(msg.data() + noise::kTransportCounterOffset, counter);
    if (!key.seal(counter, plain, {}, MutableByteView(msg).subspan(noise::kTransportHeaderSize)))
      std::abort();
    return msg;
  }

  Device& device() { return device_; }
  Peer& alice() { return *alice_; }
  Now now() const { return now_; }

  size_t datagrams_sent = 0;
  size_t tun_writes = 0;
  std::vector<std::vector<uint8_t>> sent;  // only with keep_datagrams

 private:
  bool keep_;
  std::vector<uint8_t> last_sent_;
  noise::CookieGenerator alice_macs_;  // the macs Alice adds to what she sends Bob
  ScriptedRandom rng_;
  Device device_;
  Peer* alice_ = nullptr;
  Now now_{};
};

// Reads the input as the format above describes and drives `h` with it.
class InputReader {
 public:
  InputReader(const uint8_t* data, size_t size) : p_(data), left_(size) {}
  bool empty() const { return left_ == 0; }
  uint8_t byte() {
    if (!left_) return 0;
    --left_;
    return *p_++;
  }
  uint16_t le16() {
    uint16_t lo = byte();
    return uint16_t(lo | byte() << 8);
  }
  // Up to `n` bytes (fewer at the end of the input).
  ByteView take(size_t n) {
    n = std::min(n, left_);
    ByteView v(p_, n);
    p_ += n;
    left_ -= n;
    return v;
  }

 private:
  const uint8_t* p_;
  size_t left_;
};

inline void run_wireguard_input(Harness& h, const uint8_t* data, size_t size) {
  InputReader in(data, size);
  uint8_t head = in.byte();
  if (head & kBobInitiates) h.bob_initiates();
  if (head & kFlood) h.flood();
  Mode mode = Mode(head % 4);
  if (mode == kInner) {
    auto m1 = hex_bytes(kMessage1Hex);
    (void)h.deliver(m1, 0);
  }
  uint64_t counter = 0;
  for (size_t n = 0; n < kMaxRecords && !in.empty(); ++n) {
    if (mode == kTyped) {
      uint8_t sel = in.byte(), ctl = in.byte(), extra = in.byte();
      static constexpr size_t kSizes[4] = {noise::kInitiationSize, noise::kResponseSize,
                                           noise::kCookieReplySize, noise::kTransportMinSize};
      uint32_t type = 1 + sel % 4;
      size_t len = kSizes[sel % 4] + (type == 4 ? extra : 0);
      std::vector<uint8_t> msg(len, 0);
      ByteView body = in.take(len - 4);
      std::memcpy(msg.data() + 4, body.data(), body.size());
      store_le32(msg.data(), type);
      if ((sel & 0x10) && type != 1) store_le32(msg.data() + (type == 2 ? 8 : 4), kBobIndex);
      if ((ctl & 0x80) && type <= 2)
        (void)h.deliver_with_macs(msg, ctl);
      else
        (void)h.deliver(msg, ctl);
    } else if (mode == kInner) {
      uint16_t len = in.le16();
      uint8_t ctl = in.byte();
      ByteView plain = in.take(len);
      if ((ctl & 0x80) && counter > 0) --counter;
      (void)h.deliver(h.seal_from_alice(plain, counter++), ctl);
    } else {
      uint16_t len = in.le16();
      uint8_t ctl = in.byte();
      (void)h.deliver(in.take(len), ctl);
    }
  }
  // Let every timer run out once: retransmits, keepalives, key zeroing.
  for (int i = 0; i < 4; ++i) {
    h.advance(0x0f);
    h.device().run_timers(h.now());
  }
}

}  // namespace wgp::fuzz
