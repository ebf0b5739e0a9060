// The HTTP endpoint Prometheus scrapes (`[Interface] MetricsListen`):
// GET /metrics answers the exposition that `render` returns, on the node's
// own event loop (so the snapshot is taken on the thread that owns the
// device). HTTP parsing is Boost.Beast's; this file only decides what to
// answer and bounds what a client may cost: a few connections at a time (and
// fewer from any one address), a small request header, a deadline on every
// read and write, and one rendering a second at most: rendering walks every
// peer on the thread that carries the data path, so scrapes within a second
// of the last get its text again.
#pragma once

// clang-format off
#include <utility>  // before Asio: Boost 1.74 awaitable.hpp needs std::exchange
#include <boost/asio.hpp>
// clang-format on
#include <functional>
#include <memory>
#include <string>

#include "net/ip.h"

namespace wgp::metrics {

class MetricsServer {
 public:
  // Returns the exposition text; called on the io_context's thread, once per
  // scrape.
  using Render = std::function<std::string()>;

  // Listens on `at` at once (so a port below 1024 can be bound before
  // privileges are dropped). Throws std::system_error naming the address.
  MetricsServer(boost::asio::io_context& io, const Endpoint& at, Render render);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // The bound address (the port the kernel chose when `at` asked for 0).
  Endpoint local_endpoint() const;
  // Stops accepting and closes every connection; idempotent.
  void stop();

  // Limits, public for tests.
  static constexpr size_t kMaxConnections = 8;
  static constexpr size_t kMaxConnectionsPerClient = 2;  // per remote address
  static constexpr std::chrono::seconds kRenderCache{1};
  static constexpr size_t kMaxHeaderBytes = 8192;
  static constexpr std::chrono::seconds kIoTimeout{10};

  struct Shared;  // what connections share with the server (outlives it)

 private:
  void accept();

  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_;  // after a failed accept
  std::shared_ptr<Shared> shared_;
};

}  // namespace wgp::metrics
