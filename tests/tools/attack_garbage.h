// `wgp_attack garbage`: datagrams a node on the open internet must drop
// without harm, one kind after another (round robin), each kind counted:
// random bytes, runts, every message type at a wrong size, non-zero reserved
// bytes, unknown types, right-size messages with random contents (bad mac1,
// unknown receiver index), and malformed DNS for the port's second protocol
// (a compression pointer loop, a truncated question, counts that lie, an
// over-long label and name, a response, a broken OPT record). With --pubkey,
// also initiations and responses with a VALID mac1 and garbage inside, which
// get past the mac check and must fail in the handshake itself.
#pragma once

#include <optional>
#include <vector>

#include "attack_common.h"
#include "crypto/blake2s.h"
#include "crypto/keys.h"
#include "crypto/random.h"

namespace wgp::attack {

class GarbageMaker {
 public:
  static constexpr const char* kKinds[] = {"random",
                                           "runt",
                                           "wrong_size",
                                           "reserved_bits",
                                           "unknown_type",
                                           "bad_mac1",
                                           "unknown_index",
                                           "dns_pointer_loop",
                                           "dns_truncated_question",
                                           "dns_counts_lie",
                                           "dns_long_label",
                                           "dns_long_name",
                                           "dns_response",
                                           "dns_bad_opt",
                                           "valid_mac1_initiation",
                                           "valid_mac1_response"};
  static constexpr size_t kKindCount = std::size(kKinds);
  // First byte of the DNS kinds' query IDs: kDnsIdTag + kind.
  static constexpr uint8_t kDnsIdTag = 0x80;
  static constexpr size_t kFirstDnsKind = 7, kLastDnsKind = 13;

  explicit GarbageMaker(std::optional<PublicKey> target) {
    if (target) {
      static constexpr std::string_view kLabelMac1 = "mac1----";
      blake2s(mac1_key_,
              {ByteView(reinterpret_cast<const uint8_t*>(kLabelMac1.data()), kLabelMac1.size()),
               ByteView(*target)});
      have_key_ = true;
    }
  }

  // Kinds that can be made (the valid-mac1 ones need --pubkey).
  size_t usable_kinds() const { return have_key_ ? kKindCount : kKindCount - 2; }

  // Fills `out` with one datagram of kind `k` (< usable_kinds()).
  void make(size_t k, std::vector<uint8_t>& out) {
    out.clear();
    kind_ = k;
    switch (k) {
      case 0:
        random_bytes(1 + rng_.u32() % 1472, out);
        if ((out[0] & 0xf0) == kDnsIdTag) out[0] &= 0x7f;  // keep the DNS kinds' IDs unique
        break;
      case 1:
        random_bytes(1 + rng_.u32() % 3, out);
        break;
      case 2:
        wrong_size(out);
        break;
      case 3:  // a right-size initiation whose reserved bytes are not zero
        random_bytes(148, out);
        out[0] = 1;
        out[1 + rng_.u32() % 3] |= 1;
        break;
      case 4:
        random_bytes(32 + rng_.u32() % 200, out);
        store_le32(out.data(), 5 + rng_.u32() % 123);  // 5..127: clear of kDnsIdTag
        break;
      case 5: {
        static constexpr size_t kSizes[] = {148, 92};
        size_t type = 1 + rng_.u32() % 2;
        random_bytes(kSizes[type - 1], out);
        store_le32(out.data(), uint32_t(type));
        break;
      }
      case 6: {  // cookie reply or data for an index nobody handed out
        bool cookie = rng_.u32() % 2;
        random_bytes(cookie ? 64 : 32 + rng_.u32() % 1400, out);
        store_le32(out.data(), cookie ? 3 : 4);
        break;
      }
      case 7:
        dns(out, {0xc0, 0x0c}, 1);
        break;  // name = pointer to itself
      case 8:
        dns(out, {3, 'w', 'w', 'w', 7, 'e', 'x'}, 1);
        break;  // question cut short
      case 9:
        dns(out, {0, 0, 1, 0, 1}, 40);
        break;    // 40 questions, one present
      case 10: {  // label of 64 (> 63)
        std::vector<uint8_t> q{64};
        q.insert(q.end(), 64, 'a');
        q.insert(q.end(), {0, 0, 12, 0, 1});
        dns(out, q, 1);
        break;
      }
      case 11: {  // 5 labels of 63: a 320-byte name (> 255)
        std::vector<uint8_t> q;
        for (int i = 0; i < 5; ++i) {
          q.push_back(63);
          q.insert(q.end(), 63, 'b');
        }
        q.insert(q.end(), {0, 0, 12, 0, 1});
        dns(out, q, 1);
        break;
      }
      case 12:  // QR=1: a response must never be answered (no reflection)
        dns(out, {0, 0, 12, 0, 1}, 1);
        out[2] |= 0x80;
        break;
      case 13:  // ARCOUNT 1, an OPT RR cut after its type
        dns(out, {0, 0, 12, 0, 1, 0, 0, 41}, 1);
        out[11] = 1;
        break;
      case 14:
        valid_mac1(148, 1, 116, out);
        break;
      case 15:
        valid_mac1(92, 2, 60, out);
        break;
    }
  }

 private:
  void random_bytes(size_t n, std::vector<uint8_t>& out) {
    out.resize(n);
    rng_.fill(out);
  }

  void wrong_size(std::vector<uint8_t>& out) {
    static constexpr std::pair<uint32_t, size_t> kCases[] = {
        {1, 147}, {1, 149}, {1, 4}, {2, 91}, {2, 93}, {3, 63}, {3, 65}, {4, 31}, {4, 4}};
    auto [type, size] = kCases[next_wrong_++ % std::size(kCases)];
    random_bytes(size, out);
    store_le32(out.data(), type);
  }

  // A query header (ID = kDnsIdTag + kind, random low byte: never a
  // WireGuard type, and answers can be told apart by kind; RD set; QDCOUNT =
  // qdcount) followed by `body`.
  void dns(std::vector<uint8_t>& out, std::vector<uint8_t> body, uint16_t qdcount) {
    out.assign(12, 0);
    out[0] = uint8_t(kDnsIdTag + kind_);
    out[1] = uint8_t(rng_.u32());
    out[2] = 0x01;
    store_be16(&out[4], qdcount);
    out.insert(out.end(), body.begin(), body.end());
  }

  void valid_mac1(size_t size, uint32_t type, size_t mac1_at, std::vector<uint8_t>& out) {
    random_bytes(size, out);
    store_le32(out.data(), type);
    Mac mac1 = mac16(mac1_key_, {ByteView(out).first(mac1_at)});
    std::copy(mac1.begin(), mac1.end(), out.begin() + long(mac1_at));
    std::fill(out.begin() + long(mac1_at + kMacSize), out.end(), 0);  // no mac2
  }

  SystemRandom rng_;
  Hash mac1_key_{};
  bool have_key_ = false;
  size_t next_wrong_ = 0;
  size_t kind_ = 0;
};

// Sends `count` datagrams (kinds in turn) at `rate` a second, then listens 1 s.
// The default rate keeps the valid-mac1 kinds (2 in 16) below the target's
// "under load" threshold, so they reach the handshake instead of a cookie.
inline void run_garbage(UdpSocket& sock, const Endpoint& target, uint64_t count, double rate,
                        std::optional<PublicKey> pubkey) {
  GarbageMaker maker(pubkey);
  DatagramBatch batch(64, 2048);
  ReplyCounts counts;
  std::vector<uint64_t> per_kind(GarbageMaker::kKindCount, 0);
  std::vector<uint8_t> d;
  uint64_t sent = 0, errors = 0, sent_bytes = 0;
  // Answers to each DNS kind, told by the query ID B must echo.
  std::vector<uint64_t> answered(GarbageMaker::kKindCount, 0);
  auto on_reply = [&](ByteView r) {
    if (r.size() < 12 || (r[2] & 0x80) == 0) return;  // not a DNS response
    size_t k = size_t(r[0]) - GarbageMaker::kDnsIdTag;
    if (r[0] >= GarbageMaker::kDnsIdTag && k >= GarbageMaker::kFirstDnsKind &&
        k <= GarbageMaker::kLastDnsKind)
      ++answered[k];
  };
  Instant start = BootClock::now();
  for (uint64_t i = 0; i < count && i < kMaxPackets; ++i) {
    size_t k = i % maker.usable_kinds();
    maker.make(k, d);
    if (send_one(sock, target, d)) {
      ++sent;
      ++per_kind[k];
      sent_bytes += d.size();
    } else {
      ++errors;
    }
    if (i % 16 == 15) {
      drain(sock, batch, counts, on_reply);
      auto due = start + std::chrono::microseconds(int64_t(double(i + 1) * 1e6 / rate));
      std::this_thread::sleep_until(std::chrono::steady_clock::now() + (due - BootClock::now()));
    }
  }
  listen_for(sock, batch, counts, 1000, on_reply);
  for (size_t k = 0; k < maker.usable_kinds(); ++k) {
    std::printf("kind_%s=%llu", GarbageMaker::kKinds[k], (unsigned long long)per_kind[k]);
    if (k >= GarbageMaker::kFirstDnsKind && k <= GarbageMaker::kLastDnsKind)
      std::printf(" answered_%s=%llu", GarbageMaker::kKinds[k], (unsigned long long)answered[k]);
    std::printf("\n");
  }
  std::printf("sent=%llu sent_bytes=%llu send_errors=%llu ", (unsigned long long)sent,
              (unsigned long long)sent_bytes, (unsigned long long)errors);
  print_replies(counts);
}

}  // namespace wgp::attack
