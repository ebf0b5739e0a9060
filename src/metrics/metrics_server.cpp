// One connection per Session: read a request (Beast's parser, header-limited),
// answer it, and keep the connection while the client asks for keep-alive.
// Sessions own themselves through shared_ptr in their pending handlers, and
// share Shared with the server so stop() can close them and a handler that
// runs after the server is gone finds `stopped` set.
#include "metrics/metrics_server.h"

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstring>
#include <optional>
#include <set>
#include <system_error>

#include "metrics/exposition.h"

namespace wgp::metrics {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

namespace {

class Session;

}  // namespace

struct MetricsServer::Shared {
  Render render;
  bool stopped = false;
  std::set<Session*> sessions;
  // The last exposition and when it was made (see kRenderCache).
  std::string rendered;
  std::optional<std::chrono::steady_clock::time_point> rendered_at;

  const std::string& exposition() {
    auto now = std::chrono::steady_clock::now();
    if (!rendered_at || now - *rendered_at >= kRenderCache) {
      rendered = render();
      rendered_at = now;
    }
    return rendered;
  }
  size_t sessions_from(const boost::asio::ip::address& client) const;
};

namespace {

// What to answer `req` with (no I/O): the exposition at /metrics, a pointer
// to it at /, 404 elsewhere, 405 for methods other than GET and HEAD.
http::response<http::string_body> answer(const http::request<http::empty_body>& req,
                                         MetricsServer::Shared& shared) {
  http::response<http::string_body> res;
  res.version(req.version());
  res.keep_alive(req.keep_alive());
  res.set(http::field::server, "wgpunch");
  res.set(http::field::content_type, "text/plain; charset=utf-8");
  std::string_view target(req.target().data(), req.target().size());
  target = target.substr(0, target.find('?'));
  if (req.method() != http::verb::get && req.method() != http::verb::head) {
    res.result(http::status::method_not_allowed);
    res.set(http::field::allow, "GET, HEAD");
    res.body() = "only GET and HEAD\n";
  } else if (target == "/metrics") {
    res.result(http::status::ok);
    res.set(http::field::content_type, std::string(kContentType));
    res.body() = shared.exposition();
  } else if (target == "/") {
    res.result(http::status::ok);
    res.body() = "wgpunch: Prometheus metrics at /metrics\n";
  } else {
    res.result(http::status::not_found);
    res.body() = "not found; metrics are at /metrics\n";
  }
  res.prepare_payload();  // Content-Length of the body, also for HEAD
  if (req.method() == http::verb::head) res.body().clear();
  return res;
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, boost::asio::ip::address client,
          std::shared_ptr<MetricsServer::Shared> shared)
      : stream_(std::move(socket)), client_(client), shared_(std::move(shared)) {
    shared_->sessions.insert(this);
  }
  ~Session() { shared_->sessions.erase(this); }
  const boost::asio::ip::address& client() const { return client_; }

  void read() {
    parser_.emplace();
    parser_->header_limit(MetricsServer::kMaxHeaderBytes);
    parser_->body_limit(0);  // a scrape has no body
    stream_.expires_after(MetricsServer::kIoTimeout);
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->on_read(ec); });
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

 private:
  void on_read(beast::error_code ec) {
    if (ec || shared_->stopped) return close();  // includes the timeout and oversize requests
    response_ = answer(parser_->get(), *shared_);
    stream_.expires_after(MetricsServer::kIoTimeout);
    http::async_write(
        stream_, response_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->on_write(ec); });
  }

  void on_write(beast::error_code ec) {
    if (ec || shared_->stopped || !response_.keep_alive()) return close();
    read();
  }

  beast::tcp_stream stream_;
  boost::asio::ip::address client_;
  beast::flat_buffer buffer_{MetricsServer::kMaxHeaderBytes};
  std::optional<http::request_parser<http::empty_body>> parser_;
  http::response<http::string_body> response_;
  std::shared_ptr<MetricsServer::Shared> shared_;
};

}  // namespace

size_t MetricsServer::Shared::sessions_from(const boost::asio::ip::address& client) const {
  size_t n = 0;
  for (const Session* s : sessions) n += s->client() == client;
  return n;
}

namespace {

tcp::endpoint to_tcp(const Endpoint& e) {
  sockaddr_storage ss{};
  socklen_t len = e.to_sockaddr(ss);
  tcp::endpoint out;
  std::memcpy(out.data(), &ss, len);
  out.resize(len);
  return out;
}

}  // namespace

MetricsServer::MetricsServer(boost::asio::io_context& io, const Endpoint& at, Render render)
    : acceptor_(io), retry_(io), shared_(std::make_shared<Shared>()) {
  shared_->render = std::move(render);
  tcp::endpoint ep = to_tcp(at);
  auto check = [&](boost::system::error_code ec, const char* what) {
    if (ec) throw std::system_error(ec, std::string(what) + " " + at.to_string());
  };
  boost::system::error_code ec;
  check(acceptor_.open(ep.protocol(), ec), "open");
  check(acceptor_.set_option(tcp::acceptor::reuse_address(true), ec), "SO_REUSEADDR");
  if (ep.protocol() == tcp::v6())
    check(acceptor_.set_option(boost::asio::ip::v6_only(true), ec), "IPV6_V6ONLY");
  check(acceptor_.bind(ep, ec), "bind");
  check(acceptor_.listen(boost::asio::socket_base::max_listen_connections, ec), "listen");
  accept();
}

MetricsServer::~MetricsServer() { stop(); }

Endpoint MetricsServer::local_endpoint() const {
  tcp::endpoint ep = acceptor_.local_endpoint();
  return Endpoint::from_sockaddr(ep.data());
}

void MetricsServer::stop() {
  if (shared_->stopped) return;
  shared_->stopped = true;
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  retry_.cancel();
  // Closing cancels their pending operations; each handler then finds
  // `stopped` (or an error) and lets its session go.
  for (Session* s : std::set<Session*>(shared_->sessions)) s->close();
}

void MetricsServer::accept() {
  acceptor_.async_accept(
      [this, shared = shared_](boost::system::error_code ec, tcp::socket socket) {
        if (shared->stopped) return;  // `this` may be gone: touch nothing else
        if (ec) {
          // Out of descriptors or memory: try again shortly rather than spin.
          retry_.expires_after(std::chrono::milliseconds(100));
          retry_.async_wait([this, shared](boost::system::error_code) {
            if (!shared->stopped) accept();
          });
          return;
        }
        boost::system::error_code peer_ec;
        auto client = socket.remote_endpoint(peer_ec).address();
        if (!peer_ec && shared->sessions.size() < kMaxConnections &&
            shared->sessions_from(client) < kMaxConnectionsPerClient)
          std::make_shared<Session>(std::move(socket), client, shared)->read();
        // else: the socket closes as it goes out of scope; a scraper retries
        accept();
      });
}

}  // namespace wgp::metrics
