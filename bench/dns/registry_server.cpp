// bench_dns_server: the helper behind bench/dns and bench/memory.
//
//   bench_dns_server serve --port P [--peers N] [--zone Z] [--seconds S]
//       wgp::dnssd::Responder publishing N synthetic peers on 127.0.0.1:P,
//       one thread, batches of 64 datagrams through UdpSocket/DatagramBatch
//       (recvmmsg/sendmmsg), as the node's socket path does. Runs until
//       SIGINT/SIGTERM or S seconds (default 600), then prints the count of
//       queries answered on stderr.
//   bench_dns_server zonefile [--peers N] [--zone Z]
//       The same records as a zone file for Knot DNS, on stdout.
//   bench_dns_server queries [--peers N] [--zone Z] [--keys FILE]
//       A dnsperf query file: per peer its SRV and its A, and the service PTR
//       once every 50 lines. With --keys, the peers are the public keys of
//       FILE (as `keys` writes it) instead of the synthetic ones (bench/zone.sh).
//   bench_dns_server keys N
//       N fresh key pairs, "private public" in base64 per line (a 10,000-peer
//       config in a second instead of 20,000 `wg` processes).
//   bench_dns_server handshakes --to IP:PORT --server-key KEY --keys FILE ...
//       One handshake initiation per key of FILE to a running node
//       (handshake_driver.h), for bench/memory.sh.
//
// What `serve` measures is the responder and the socket path, not the
// WireGuard handshakes that make a real registry learn its peers: the peers
// are put in the table directly (bench/common/synthetic.h).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <string_view>

#include "common/synthetic.h"
#include "crypto/random.h"
#include "dns/handshake_driver.h"
#include "dnssd/responder.h"
#include "net/udp_socket.h"

namespace {

std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop = true; }

struct Options {
  uint16_t port = 0;
  uint32_t peers = 1000;
  std::string zone = "bench.example.";
  int seconds = 600;
  std::string keys_file;  // queries: real peers' keys instead of synthetic ones
};

[[noreturn]] void usage() {
  std::cerr << "usage: bench_dns_server serve --port P [--peers N] [--zone Z] [--seconds S]\n"
               "       bench_dns_server zonefile|queries [--peers N] [--zone Z] [--keys FILE]\n"
               "       bench_dns_server keys N\n"
               "       bench_dns_server handshakes --to IP:PORT --server-key KEY --keys FILE\n";
  std::exit(2);
}

Options parse(int argc, char** argv, int first) {
  Options o;
  for (int i = first; i < argc; ++i) {
    std::string_view a = argv[i];
    if (i + 1 >= argc) usage();
    const char* v = argv[++i];
    if (a == "--port") {
      o.port = uint16_t(std::atoi(v));
    } else if (a == "--peers") {
      o.peers = uint32_t(std::atol(v));
    } else if (a == "--zone") {
      o.zone = wgp::bench::absolute_zone(v);
    } else if (a == "--seconds") {
      o.seconds = std::atoi(v);
    } else if (a == "--keys") {
      o.keys_file = v;
    } else {
      usage();
    }
  }
  return o;
}

// A UDP socket on 127.0.0.1:port only (never a wildcard address).
wgp::UdpSocket loopback_socket(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "socket");
  wgp::UniqueFd owned(fd);
  int size = 8 << 20;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0)
    throw std::system_error(errno, std::generic_category(),
                            "bind 127.0.0.1:" + std::to_string(port));
  return wgp::UdpSocket::from_fd(std::move(owned));
}

int serve(const Options& o) {
  if (o.port == 0) usage();
  wgp::dnssd::Responder responder(o.zone);
  responder.set_peers(wgp::bench::synthetic_peers(o.peers));
  responder.set_serial(1);  // as in the zone file below
  wgp::UdpSocket sock = loopback_socket(o.port);
  wgp::DatagramBatch rx(64, 2048);
  wgp::DatagramBatch tx(64, 65535);
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::cerr << "bench_dns_server: " << o.peers << " peers in " << o.zone
            << " on 127.0.0.1:" << o.port << "\n";

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(o.seconds);
  uint64_t dropped = 0;
  while (!g_stop && std::chrono::steady_clock::now() < deadline) {
    pollfd p{sock.fd(), POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    for (int round = 0; round < 64; ++round) {  // drain, bounded, then re-check the clock
      int n = sock.receive(rx);
      if (n <= 0) break;
      size_t out = 0;
      for (int i = 0; i < n; ++i) {
        if (rx.truncated(size_t(i))) continue;
        auto r =
            responder.answer(rx.data(size_t(i)), wgp::dnssd::QueryAccess::kAllowed, tx.buffer(out));
        if (r.length == 0) continue;
        tx.set_length(out, r.length);
        tx.endpoint(out) = rx.endpoint(size_t(i));
        ++out;
      }
      // A short count only happens with the send buffer full; UDP: drop the rest.
      int s = out ? sock.send(tx, out) : 0;
      dropped += out - (s > 0 ? size_t(s) : 0);
    }
  }
  std::cerr << "bench_dns_server: answered " << responder.queries_answered() << " queries, "
            << dropped << " answers dropped at a full send buffer\n";
  return 0;
}

// Knot DNS zone-file text of a name: '=' must be escaped there.
std::string zone_escape(const std::string& name) {
  std::string out;
  for (char c : name) {
    if (c == '=') out += '\\';
    out += c;
  }
  return out;
}

int zonefile(const Options& o) {
  const std::string z = o.zone;
  std::printf("$ORIGIN %s\n$TTL 0\n", z.c_str());
  // The SOA and NS the responder invents (responder_zone.h); a serial of 1.
  std::printf("@ SOA %s hostmaster.%s 1 60 10 86400 0\n", z.c_str(), z.c_str());
  std::printf("@ NS %s\n", z.c_str());
  auto peers = wgp::bench::synthetic_peers(o.peers);
  const std::string service = wgp::bench::service_name(z);
  for (const auto& p : peers) {
    const std::string inst = zone_escape(wgp::bench::instance_name(p.key, z));
    const std::string host = zone_escape(wgp::bench::host_name(p.key, z));
    const std::string addr = p.endpoint.address.to_string();
    std::printf("%s PTR %s\n", service.c_str(), inst.c_str());
    std::printf("%s SRV 0 0 %u %s\n", inst.c_str(), unsigned(p.endpoint.port), host.c_str());
    std::printf("%s A %s\n", inst.c_str(), addr.c_str());
    std::printf("%s A %s\n", host.c_str(), addr.c_str());
  }
  return 0;
}

// The public keys (second column) of a `keys` file.
std::vector<wgp::dnssd::PublishedPeer> peers_from_keys(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::vector<wgp::dnssd::PublishedPeer> peers;
  std::string priv, pub;
  while (in >> priv >> pub) {
    auto key = wgp::public_key_from_base64(pub);
    if (!key) throw std::runtime_error(path + ": not a key file");
    peers.push_back({*key, {}});
  }
  return peers;
}

int queries(const Options& o) {
  auto peers = o.keys_file.empty() ? wgp::bench::synthetic_peers(o.peers)
                                   : peers_from_keys(o.keys_file);
  const std::string service = wgp::bench::service_name(o.zone);
  size_t line = 0;
  auto emit = [&](const std::string& name, const char* type) {
    std::printf("%s %s\n", name.c_str(), type);
    if (++line % 50 == 0) std::printf("%s PTR\n", service.c_str());
  };
  for (const auto& p : peers) {
    emit(wgp::bench::instance_name(p.key, o.zone), "SRV");
    emit(wgp::bench::host_name(p.key, o.zone), "A");
  }
  return 0;
}

int keys(int argc, char** argv) {
  if (argc != 3) usage();
  long n = std::atol(argv[2]);
  if (n <= 0 || n > 1000000) usage();
  wgp::SystemRandom rng;
  std::string out;
  for (long i = 0; i < n; ++i) {
    wgp::PrivateKey priv = wgp::generate_private_key(rng);
    out += wgp::key_to_base64(priv.span());
    out += ' ';
    out += wgp::key_to_base64(wgp::derive_public_key(priv));
    out += '\n';
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) usage();
  std::string_view cmd = argv[1];
  try {
    if (cmd == "serve") return serve(parse(argc, argv, 2));
    if (cmd == "zonefile") return zonefile(parse(argc, argv, 2));
    if (cmd == "queries") return queries(parse(argc, argv, 2));
    if (cmd == "keys") return keys(argc, argv);
    if (cmd == "handshakes") return wgp::bench::drive_handshakes(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "bench_dns_server: " << e.what() << "\n";
    return 1;
  }
  usage();
}
