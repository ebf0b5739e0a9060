#include "node/dns_tcp_server.h"

#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cstring>

namespace wgp {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

IpAddress ip_of(const asio::ip::address& a) {
  if (a.is_v4()) return IpAddress::v4(a.to_v4().to_bytes().data());
  asio::ip::address_v6 v6 = a.to_v6();
  if (v6.is_v4_mapped()) return IpAddress::v4(v6.to_v4().to_bytes().data());
  return IpAddress::v6(v6.to_bytes().data());
}

}  // namespace

// One connection: read a length, the message, write the answer; again until
// the peer closes, goes silent for the idle timeout, makes no progress
// reading a chunk of the answer within it, or sends what we will not answer.
class DnsTcpServer::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::string party, const Stream& stream, Duration idle)
      : socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        party_(std::move(party)),
        stream_(stream),
        idle_(idle) {}

  void start(const IpAddress& peer) {
    peer_ = peer;
    read_length();
  }
  void close() {
    boost::system::error_code ignored;
    timer_.cancel();
    socket_.close(ignored);
  }
  const std::string& party() const { return party_; }

 private:
  void arm_timer() {
    timer_.expires_after(idle_);
    timer_.async_wait([self = shared_from_this()](auto ec) {
      if (!ec) self->close();
    });
  }
  void read_length() {
    arm_timer();
    asio::async_read(socket_, asio::buffer(length_), [self = shared_from_this()](auto ec, size_t) {
      if (ec) return self->close();
      size_t n = size_t(self->length_[0]) << 8 | self->length_[1];
      if (n < 12) return self->close();  // not even a DNS header
      self->query_.resize(n);
      self->read_query();
    });
  }
  void read_query() {
    asio::async_read(socket_, asio::buffer(query_), [self = shared_from_this()](auto ec, size_t) {
      if (ec) return self->close();
      self->reply_.clear();
      self->stream_(self->query_, self->peer_, self->reply_);
      if (self->reply_.empty()) return self->close();
      self->written_ = 0;
      self->write_reply();
    });
  }
  // The answer in chunks, each under a fresh deadline: a transfer of any
  // size goes on while the reader keeps up, and ends when it stalls.
  void write_reply() {
    if (written_ == reply_.size()) return read_length();
    arm_timer();
    size_t n = std::min(kWriteChunk, reply_.size() - written_);
    asio::async_write(socket_, asio::buffer(reply_.data() + written_, n),
                      [self = shared_from_this()](auto ec, size_t done) {
                        if (ec) return self->close();
                        self->written_ += done;
                        self->write_reply();
                      });
  }

  tcp::socket socket_;
  asio::steady_timer timer_;
  std::string party_;
  IpAddress peer_;
  const Stream& stream_;
  Duration idle_;
  std::array<uint8_t, 2> length_{};
  std::vector<uint8_t> query_;
  std::vector<uint8_t> reply_;
  size_t written_ = 0;
};

DnsTcpServer::DnsTcpServer(asio::io_context& io, const std::vector<IpAddress>& addresses,
                           uint16_t port, const std::string& device, Answer answer)
    : DnsTcpServer(io, addresses, port, device, nullptr,
                   [answer = std::move(answer)](ByteView query, const IpAddress&,
                                                std::vector<uint8_t>& framed) {
                     ByteView reply = answer(query);
                     if (reply.empty()) return;
                     framed.resize(2 + reply.size());
                     framed[0] = uint8_t(reply.size() >> 8);
                     framed[1] = uint8_t(reply.size());
                     std::memcpy(framed.data() + 2, reply.data(), reply.size());
                   }) {}

DnsTcpServer::DnsTcpServer(asio::io_context& io, const std::vector<IpAddress>& addresses,
                           uint16_t port, const std::string& device, Admit admit, Stream stream)
    : io_(io), admit_(std::move(admit)), stream_(std::move(stream)) {
  for (const IpAddress& a : addresses) {
    auto acceptor = std::make_unique<tcp::acceptor>(io);
    asio::ip::address address = a.is_v4()
                                    ? asio::ip::address(asio::ip::address_v4(std::array<uint8_t, 4>{
                                          a.bytes[0], a.bytes[1], a.bytes[2], a.bytes[3]}))
                                    : asio::ip::address(asio::ip::address_v6(a.bytes));
    tcp::endpoint endpoint(address, port);
    boost::system::error_code ec;
    auto fail = [&](const char* what) {
      warnings_.push_back(std::string("DNS over TCP on ") + address.to_string() + " port " +
                          std::to_string(port) + ": " + what + ": " + ec.message());
    };
    if (acceptor->open(endpoint.protocol(), ec)) {
      fail("socket");
      continue;
    }
    int one = 1;
    // The address may still be tentative (IPv6 DAD) when we start.
    if (a.is_v4())
      (void)::setsockopt(acceptor->native_handle(), IPPROTO_IP, IP_FREEBIND, &one, sizeof one);
    else
      (void)::setsockopt(acceptor->native_handle(), IPPROTO_IPV6, IPV6_FREEBIND, &one, sizeof one);
    acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
    // IPv6 only, so that the wildcard pair [::] and 0.0.0.0 can both be bound.
    if (!a.is_v4()) acceptor->set_option(asio::ip::v6_only(true), ec);
    // Only what arrived through the tunnel: the address alone would also
    // take connections from the host's other links.
    if (!device.empty() && ::setsockopt(acceptor->native_handle(), SOL_SOCKET, SO_BINDTODEVICE,
                                        device.c_str(), socklen_t(device.size())) != 0) {
      ec.assign(errno, boost::system::system_category());
      fail("bind to device");
      continue;
    }
    if (acceptor->bind(endpoint, ec)) {
      fail("bind");
      continue;
    }
    if (acceptor->listen(16, ec)) {
      fail("listen");
      continue;
    }
    acceptors_.push_back(std::move(acceptor));
    retry_.push_back(std::make_unique<asio::steady_timer>(io));
    accept(acceptors_.size() - 1);
  }
}

DnsTcpServer::~DnsTcpServer() { shutdown(); }

uint16_t DnsTcpServer::port() const {
  boost::system::error_code ec;
  return acceptors_.empty() ? 0 : acceptors_.front()->local_endpoint(ec).port();
}

size_t DnsTcpServer::connections() const {
  return size_t(std::count_if(sessions_.begin(), sessions_.end(),
                              [](const auto& w) { return !w.expired(); }));
}

std::string DnsTcpServer::party_of(const IpAddress& peer) const {
  return party_ ? party_(peer) : std::string(peer.view().begin(), peer.view().end());
}

void DnsTcpServer::accept(size_t i) {
  tcp::acceptor& acceptor = *acceptors_[i];
  acceptor.async_accept([this, i, &acceptor](auto ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
    if (ec) {
      // Out of descriptors (EMFILE) or memory: the connection waits in the
      // backlog; trying again at once would only spin.
      ++accept_errors_;
      retry_[i]->expires_after(kAcceptRetry);
      retry_[i]->async_wait([this, i](auto wait_ec) {
        if (!wait_ec && acceptors_[i]->is_open()) accept(i);
      });
      return;
    }
    std::erase_if(sessions_, [](const auto& w) { return w.expired(); });
    boost::system::error_code peer_ec;
    IpAddress peer = ip_of(socket.remote_endpoint(peer_ec).address());
    bool admitted = !peer_ec && (!admit_ || admit_(peer));
    if (admitted && sessions_.size() < kMaxConnections) {
      std::string party = party_of(peer);
      size_t held = size_t(std::count_if(sessions_.begin(), sessions_.end(), [&](const auto& w) {
        auto s = w.lock();
        return s && s->party() == party;
      }));
      if (held < kMaxPerParty) {
        auto session =
            std::make_shared<Session>(std::move(socket), std::move(party), stream_, idle_timeout_);
        sessions_.push_back(session);
        session->start(peer);
      } else {
        ++refused_over_share_;
      }
    }
    accept(i);
  });
}

void DnsTcpServer::shutdown() {
  boost::system::error_code ignored;
  for (auto& a : acceptors_) a->close(ignored);
  for (auto& t : retry_) t->cancel();
  for (auto& w : sessions_)
    if (auto s = w.lock()) s->close();
  sessions_.clear();
}

}  // namespace wgp
