// `wgp_attack flood`: handshake initiations with a VALID mac1 for the target,
// so each one that passes the load gate costs the responder a Diffie-Hellman
// (PROTOCOL.md §3.5). The static key is random (unknown to the target) unless
// --key gives one.
//
// Building an initiation costs us two X25519 operations, more than one core
// can do at 20,000 a second. So a pool of initiations, each with its own fresh
// ephemeral key, is built up front and cycled; every packet sent still gets a
// new sender index and therefore a new mac1, so no two packets are equal and
// the responder's work per packet is the same as for a fresh handshake.
//
// With --cookies yes the tool behaves like a spoofing-proof attacker: it opens
// the first cookie reply (XChaCha20-Poly1305 keyed by HASH("cookie--" ‖
// target public), AD = the mac1 it answers) and adds a valid mac2 from then
// on, so the target's per-source rate limiter has to stop it.
#pragma once

#include <cmath>
#include <unordered_map>
#include <vector>

#include "attack_common.h"
#include "crypto/aead.h"
#include "crypto/blake2s.h"
#include "crypto/keys.h"
#include "crypto/random.h"
#include "crypto/tai64n.h"
#include "crypto/x25519.h"
#include "noise/cookie.h"
#include "noise/handshake.h"

namespace wgp::attack {

class Flooder {
 public:
  Flooder(const PublicKey& target_public, const PrivateKey& static_private, size_t pool_size)
      : local_(noise::LocalIdentity::from_private_key(static_private)),
        peer_(target_public, local_) {
    build_pool(pool_size);
  }

  // Sends `rate` packets a second for `seconds` (both capped) to `target`,
  // then listens 0.5 s more; prints the counts.
  void run(UdpSocket& sock, const Endpoint& target, double rate, double seconds, bool use_cookies) {
    DatagramBatch batch(64, 2048);
    ReplyCounts counts;
    uint64_t sent = 0, send_errors = 0, cookies_opened = 0;
    uint64_t limit = std::min<uint64_t>(kMaxPackets, uint64_t(std::ceil(rate * seconds)));
    auto on_cookie = [&](ByteView reply) {
      if (use_cookies && reply.size() == noise::kCookieReplySize &&
          load_le32(reply.data()) == uint32_t(noise::MessageType::kCookieReply) &&
          open_cookie(reply))
        ++cookies_opened;
    };
    Instant start = BootClock::now();
    auto deadline = start + std::chrono::microseconds(int64_t(seconds * 1e6));
    std::array<uint8_t, noise::kInitiationSize> msg;
    while (sent < limit) {
      Instant now = BootClock::now();
      if (now >= deadline) break;
      double elapsed = std::chrono::duration<double>(now - start).count();
      uint64_t due = std::min<uint64_t>(limit, uint64_t(elapsed * rate) + 1);
      // Catch up in small bursts so replies are read between them.
      for (int burst = 0; sent < due && burst < 256; ++burst) {
        fill_packet(sent, use_cookies, msg);
        if (send_one(sock, target, msg)) {
          ++sent;
        } else {
          ++send_errors;
          ++sent;  // counted against the cap all the same: never spin forever
        }
      }
      drain(sock, batch, counts, on_cookie);
      if (sent >= due) std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
    listen_for(sock, batch, counts, 500, on_cookie);
    double took = std::chrono::duration<double>(BootClock::now() - start).count() - 0.5;
    std::printf("sent=%llu send_errors=%llu seconds=%.2f rate=%.0f pool=%zu cookies_opened=%llu ",
                (unsigned long long)sent, (unsigned long long)send_errors, took,
                took > 0 ? double(sent) / took : 0.0, pool_.size(),
                (unsigned long long)cookies_opened);
    print_replies(counts);
  }

 private:
  struct Prebuilt {
    std::array<uint8_t, noise::kInitiationSize> bytes;
  };

  void build_pool(size_t n) {
    SystemRandom rng;
    pool_.resize(n);
    for (size_t i = 0; i < n; ++i) {
      noise::Handshake hs;
      PrivateKey ephemeral = generate_private_key(rng);
      // One timestamp for all: the target does not know this key, and with
      // --key a known peer sees the first one and then replays, which is fine.
      auto err = noise::create_initiation(hs, local_, peer_, uint32_t(i),
                                          tai64n(std::chrono::system_clock::now()), ephemeral,
                                          pool_[i].bytes);
      if (err != noise::HandshakeError::kNone)
        throw std::runtime_error("create_initiation failed (low-order target key?)");
    }
  }

  // Packet number `seq`: pool entry seq % size with sender index `seq` + base,
  // mac1 for the target, mac2 from the cookie once we hold one.
  void fill_packet(uint64_t seq, bool use_cookies,
                   std::array<uint8_t, noise::kInitiationSize>& msg) {
    msg = pool_[seq % pool_.size()].bytes;
    uint32_t sender = index_base_ + uint32_t(seq);
    store_le32(&msg[noise::kInitiationSenderOffset], sender);
    Mac mac1 = mac16(peer_.mac1_key, {ByteView(msg).first(noise::kInitiationMac1Offset)});
    std::copy(mac1.begin(), mac1.end(), msg.begin() + noise::kInitiationMac1Offset);
    if (use_cookies && have_cookie_) {
      Mac mac2 = mac16(cookie_, {ByteView(msg).first(noise::kInitiationMac2Offset)});
      std::copy(mac2.begin(), mac2.end(), msg.begin() + noise::kInitiationMac2Offset);
    } else {
      std::fill(msg.begin() + noise::kInitiationMac2Offset, msg.end(), 0);
    }
  }

  // Opens a cookie reply to packet `receiver - index_base_`; true on success.
  bool open_cookie(ByteView reply) {
    uint32_t receiver = load_le32(&reply[noise::kCookieReplyReceiverOffset]);
    uint64_t seq = uint32_t(receiver - index_base_);
    std::array<uint8_t, noise::kInitiationSize> msg;
    fill_packet(seq, false, msg);  // mac1 only depends on bytes before it
    ByteView mac1(&msg[noise::kInitiationMac1Offset], kMacSize);
    Mac cookie;
    auto nonce = reply.subspan<noise::kCookieReplyNonceOffset, kXNonceSize>();
    if (!xaead_open(peer_.cookie_key, nonce,
                    reply.subspan(noise::kCookieReplyCookieOffset, kMacSize + kAeadTagSize), mac1,
                    cookie))
      return false;
    cookie_ = cookie;
    have_cookie_ = true;
    return true;
  }

  noise::LocalIdentity local_;
  noise::PeerKeys peer_;
  std::vector<Prebuilt> pool_;
  uint32_t index_base_ = 0x5a000000;
  Mac cookie_{};
  bool have_cookie_ = false;
};

}  // namespace wgp::attack
