#include "dns/handshake_driver.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "crypto/random.h"
#include "crypto/tai64n.h"
#include "crypto/x25519.h"
#include "net/ip.h"
#include "noise/cookie.h"
#include "noise/handshake.h"
#include "util/unique_fd.h"

namespace wgp::bench {
namespace {

struct DriverOptions {
  std::string to, server_key, keys, bind = "0.0.0.0";
  int rate = 600;
  int sockets = 64;
};

[[noreturn]] void driver_usage() {
  std::cerr << "usage: bench_dns_server handshakes --to IP:PORT --server-key BASE64 --keys FILE\n"
               "                                   [--bind IP] [--rate N] [--sockets N]\n";
  std::exit(2);
}

DriverOptions parse_driver(int argc, char** argv) {
  DriverOptions o;
  for (int i = 2; i < argc; ++i) {
    std::string_view a = argv[i];
    if (i + 1 >= argc) driver_usage();
    std::string v = argv[++i];
    if (a == "--to")
      o.to = v;
    else if (a == "--server-key")
      o.server_key = v;
    else if (a == "--keys")
      o.keys = v;
    else if (a == "--bind")
      o.bind = v;
    else if (a == "--rate")
      o.rate = std::atoi(v.c_str());
    else if (a == "--sockets")
      o.sockets = std::atoi(v.c_str());
    else
      driver_usage();
  }
  if (o.to.empty() || o.server_key.empty() || o.keys.empty() || o.rate <= 0 || o.sockets <= 0 ||
      o.sockets > 1000)
    driver_usage();
  return o;
}

// An IPv4 UDP socket bound to `bind`:0 (a fresh port per socket, so the
// registry sees several distinct endpoints).
UniqueFd open_socket(const IpAddress& bind) {
  UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) throw std::runtime_error("socket failed");
  sockaddr_storage ss{};
  socklen_t len = Endpoint{bind, 0}.to_sockaddr(ss);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0)
    throw std::runtime_error("bind " + bind.to_string() + " failed");
  return fd;
}

}  // namespace

int drive_handshakes(int argc, char** argv) {
  DriverOptions o = parse_driver(argc, argv);
  auto to = Endpoint::parse(o.to);
  auto server = public_key_from_base64(o.server_key);
  auto bind = IpAddress::parse(o.bind);
  if (!to || !to->address.is_v4() || !server || !bind || !bind->is_v4()) driver_usage();

  std::vector<PrivateKey> keys;
  {
    std::ifstream in(o.keys);
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string priv;
      fields >> priv;
      auto k = secret_key_from_base64(priv);
      if (!k) throw std::runtime_error("bad key line in " + o.keys);
      keys.push_back(std::move(*k));
    }
  }
  std::vector<UniqueFd> socks;
  for (int i = 0; i < o.sockets; ++i) socks.push_back(open_socket(*bind));
  sockaddr_storage dst{};
  socklen_t dst_len = to->to_sockaddr(dst);

  SystemRandom rng;
  // One initiation per peer, kept so that a cookie reply can be answered the way a real peer
  // does: the same initiation again with mac2 (a registry under load, as on a busy 2-core CI
  // machine, answers the first with a cookie; that is WireGuard working, not a failure).
  struct Pending {
    noise::CookieGenerator gen;
    std::array<uint8_t, noise::kInitiationSize> msg{};
    int cookie_rounds = 0;
    bool answered = false;
  };
  constexpr int kMaxCookieRounds = 3;
  std::vector<Pending> pending(keys.size());
  size_t responses = 0, cookies = 0, other = 0, send_errors = 0;
  auto send = [&](size_t i) {
    pending[i].gen.add_macs(pending[i].msg, BootClock::now());
    if (::sendto(socks[i % socks.size()].get(), pending[i].msg.data(), pending[i].msg.size(), 0,
                 reinterpret_cast<sockaddr*>(&dst), dst_len) != ssize_t(pending[i].msg.size()))
      ++send_errors;
  };
  // Our sender index for peer i is i + 1; the reply's receiver index names the peer.
  auto peer_of = [&](const uint8_t* msg) -> Pending* {
    uint32_t receiver =
        uint32_t(msg[4]) | uint32_t(msg[5]) << 8 | uint32_t(msg[6]) << 16 | uint32_t(msg[7]) << 24;
    if (receiver == 0 || receiver > pending.size()) return nullptr;
    return &pending[receiver - 1];
  };
  // Reads whatever has arrived on every socket (non-blocking).
  auto drain = [&] {
    std::array<uint8_t, 256> buf;
    for (auto& s : socks) {
      for (;;) {
        ssize_t n = ::recv(s.get(), buf.data(), buf.size(), 0);
        if (n <= 0) break;
        Pending* p = n >= 8 ? peer_of(buf.data()) : nullptr;
        if (p && n == ssize_t(noise::kResponseSize) && buf[0] == 2 && !p->answered) {
          p->answered = true;
          ++responses;
        } else if (p && n == ssize_t(noise::kCookieReplySize) && buf[0] == 3) {
          ++cookies;
          std::span<const uint8_t, noise::kCookieReplySize> reply(buf.data(),
                                                                  noise::kCookieReplySize);
          if (!p->answered && p->cookie_rounds < kMaxCookieRounds &&
              p->gen.consume_reply(reply, BootClock::now())) {
            ++p->cookie_rounds;
            send(size_t(p - pending.data()));
          }
        } else {
          ++other;
        }
      }
    }
  };

  const auto start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < keys.size(); ++i) {
    auto id = noise::LocalIdentity::from_private_key(keys[i]);
    noise::PeerKeys peer(*server, id);
    noise::Handshake hs;
    pending[i].gen.set_keys(peer.mac1_key, peer.cookie_key);
    if (noise::create_initiation(
            hs, id, peer, uint32_t(i + 1), tai64n(std::chrono::system_clock::now()),
            generate_private_key(rng), pending[i].msg) != noise::HandshakeError::kNone)
      throw std::runtime_error("create_initiation failed for key " + std::to_string(i));
    send(i);
    if (i % 32 == 31) {
      drain();
      auto due = start + std::chrono::microseconds(int64_t(i + 1) * 1000000 / o.rate);
      std::this_thread::sleep_until(due);
    }
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (responses < keys.size() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    drain();
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "initiations %zu responses %zu cookie_replies %zu other %zu send_errors %zu "
      "seconds %.1f\n",
      keys.size(), responses, cookies, other, send_errors, secs);
  return responses == keys.size() ? 0 : 1;
}

}  // namespace wgp::bench
