// DNS over TCP inside the tunnel (DESIGN.md §4): the registry's answers
// whole, up to the 65,535 bytes a DNS message can hold (a PTR list of about
// 900 peers; beyond that TC is set here too), for what does not fit a UDP
// answer under the tunnel MTU. A UDP answer with TC makes dig and other
// stub resolvers retry here, at the same address and port.
//
// TCP is the kernel's: the server listens on each of the registry's tunnel
// addresses, port 53, bound to the TUN device (SO_BINDTODEVICE), so only
// packets that came through the tunnel — decrypted and source-checked by
// cryptokey routing — reach it. It is opened as root, before privileges
// are dropped (port 53 is privileged). Framing is RFC 1035 §4.2.2 (a
// two-byte length before each message); several queries may follow on one
// connection (RFC 7766), answered in order.
//
// The same server carries the registry's zone transfers to its secondaries
// (discovery/zone_publisher.h): then it listens on the wildcard addresses at
// the ListenPort number, not bound to the TUN, admits only the listed
// secondaries' addresses (anyone else's connection is closed before a byte
// is read), and one query may have many messages for answer (an AXFR).
//
// Budgets: kMaxConnections at once, of which one party (a peer, however
// many tunnel addresses it has; a secondary) holds kMaxPerParty at most; a
// connection silent for kIdleTimeout is closed, and an answer being written
// must make progress (a chunk) within it, so a 3 MB transfer to a slow
// secondary goes on while a stalled one ends; an accept that fails (out of
// descriptors) is retried after a pause, not at once.
#pragma once

// clang-format off
#include <utility>  // before Asio: Boost 1.74 awaitable.hpp needs std::exchange
#include <boost/asio.hpp>
// clang-format on
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "net/ip.h"
#include "util/bytes.h"
#include "util/time.h"

namespace wgp {

class DnsTcpServer {
 public:
  // The answer to one query; empty: close the connection without one.
  using Answer = std::function<ByteView(ByteView query)>;
  // The answer to one query from `peer` as the bytes to write: one or more
  // messages, each after its two-byte length; none: close the connection.
  using Stream =
      std::function<void(ByteView query, const IpAddress& peer, std::vector<uint8_t>& framed)>;
  // Whether a connection from `peer` is served; null: every one.
  using Admit = std::function<bool(const IpAddress& peer)>;
  // Who is behind an address, for the per-party share (the peer whose
  // allowed IPs hold it, say); null: each address is a party of its own.
  using Party = std::function<std::string(const IpAddress& peer)>;

  // Connections served at once (more are closed on accept), of which one
  // party may hold kMaxPerParty; how long one may stay silent, or an answer
  // take to move by kWriteChunk; the pause after a failed accept.
  static constexpr size_t kMaxConnections = 64;
  static constexpr size_t kMaxPerParty = 4;
  static constexpr auto kIdleTimeout = std::chrono::seconds(10);
  static constexpr size_t kWriteChunk = 64 * 1024;
  static constexpr auto kAcceptRetry = std::chrono::milliseconds(100);

  // Listens on each address, port `port`, bound to `device` (empty: no
  // binding, for tests on loopback). Addresses that cannot be bound are
  // skipped and named in warnings(); the server may end up listening on none.
  DnsTcpServer(boost::asio::io_context& io, const std::vector<IpAddress>& addresses, uint16_t port,
               const std::string& device, Answer answer);
  // The general form: connections filtered by `admit`, answers by `stream`.
  DnsTcpServer(boost::asio::io_context& io, const std::vector<IpAddress>& addresses, uint16_t port,
               const std::string& device, Admit admit, Stream stream);
  ~DnsTcpServer();
  DnsTcpServer(const DnsTcpServer&) = delete;
  DnsTcpServer& operator=(const DnsTcpServer&) = delete;

  // Who is behind an address (see Party).
  void set_party(Party party) { party_ = std::move(party); }
  // For tests: how long a connection may stall (default kIdleTimeout).
  void set_idle_timeout(std::chrono::milliseconds t) { idle_timeout_ = t; }

  const std::vector<std::string>& warnings() const { return warnings_; }
  size_t listening() const { return acceptors_.size(); }
  size_t connections() const;
  uint64_t accept_errors() const { return accept_errors_; }
  uint64_t refused_over_share() const { return refused_over_share_; }
  // The port of the first listener (for tests that bind port 0).
  uint16_t port() const;
  // Closes every listener and connection.
  void shutdown();

 private:
  class Session;
  void accept(size_t acceptor);

  std::string party_of(const IpAddress& peer) const;

  boost::asio::io_context& io_;
  Admit admit_;
  Stream stream_;
  Party party_;
  std::chrono::milliseconds idle_timeout_ = kIdleTimeout;
  std::vector<std::unique_ptr<boost::asio::ip::tcp::acceptor>> acceptors_;
  std::vector<std::unique_ptr<boost::asio::steady_timer>> retry_;  // one per acceptor
  std::vector<std::weak_ptr<Session>> sessions_;
  std::vector<std::string> warnings_;
  uint64_t accept_errors_ = 0;
  uint64_t refused_over_share_ = 0;
};

}  // namespace wgp
