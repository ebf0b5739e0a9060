// PCP (RFC 6887) MAP requests from our address on the gateway's link to
// gateway:5351. The socket is bound to that address because the request
// names it (the client's IP address field) and a server refuses a request
// whose source differs (ADDRESS_MISMATCH). It is connected, so an ICMP port
// unreachable comes back as ECONNREFUSED: nothing listens there.
#include <optional>

#include "node/port_map_clients.h"

namespace wgp {

namespace asio = boost::asio;
using portmap::Protocol;
using portmap::Reply;
using portmap::Request;

namespace {

portmap::PcpMapRequest map_request(const Request& r) {
  portmap::PcpMapRequest q{r.gateway.local.address, r.nonce, r.internal_port, r.lifetime, {}};
  // A first request suggests our own port number outside, any address.
  q.suggested = r.current ? *r.current : Endpoint{IpAddress{}, r.internal_port};
  return q;
}

class PcpClient final : public ReportingClient {
 public:
  PcpClient(asio::io_context& io, OnReply on_reply)
      : ReportingClient(std::move(on_reply)), io_(io) {}
  ~PcpClient() override { cancel(); }

  void request(const Request& r) override {
    if (!r.retry || !socket_) {
      cancel();
      socket_.emplace(io_);
      if (auto ec = open_to_gateway(*socket_, r.gateway, portmap::kPcpServerPort))
        return fail("socket: " + ec.message());
      nonce_ = r.nonce;
      internal_port_ = r.internal_port;
      receive();
    }
    size_t n = portmap::build_pcp_map_request(map_request(r), out_);
    boost::system::error_code ec;
    socket_->send(asio::buffer(out_, n), 0, ec);
    // A closed port shows as ECONNREFUSED here or in the receive.
    if (ec == asio::error::connection_refused) no_server(portmap::kPcpServerPort);
  }

  void cancel() override {
    ++generation_;
    if (socket_) {
      boost::system::error_code ignored;
      socket_->close(ignored);
      socket_.reset();
    }
  }

  void delete_now(const Request& r, Duration budget) override {
    asio::io_context local;
    asio::ip::udp::socket s(local);
    if (open_to_gateway(s, r.gateway, portmap::kPcpServerPort)) return;
    uint8_t out[portmap::kPcpMapSize];
    size_t n = portmap::build_pcp_map_request(map_request(r), out);
    boost::system::error_code ec;
    send_until_answered(
        s.native_handle(), budget,
        [&] {
          s.send(asio::buffer(out, n), 0, ec);
          return !ec;
        },
        [&] {
          size_t got = s.receive(asio::buffer(in_), 0, ec);
          if (ec) return true;  // ECONNREFUSED: nobody to delete it from
          auto reply = portmap::read_pcp_map_response(ByteView(in_, got), r.nonce, r.internal_port);
          return reply.kind != portmap::PcpMapResponse::Kind::kIgnored;
        });
  }

 private:
  void receive() {
    socket_->async_receive(asio::buffer(in_), [this, g = generation_](auto ec, size_t n) {
      if (g != generation_) return;
      if (ec == asio::error::connection_refused) return no_server(portmap::kPcpServerPort);
      if (ec) return;  // closed
      handle(ByteView(in_, n));
      if (g == generation_) receive();
    });
  }

  void handle(ByteView datagram) {
    auto r = portmap::read_pcp_map_response(datagram, nonce_, internal_port_);
    using Kind = portmap::PcpMapResponse::Kind;
    switch (r.kind) {
      case Kind::kIgnored:
        return;
      case Kind::kMapped:
        return report({Reply::Kind::kMapped, r.external, r.lifetime, ""});
      case Kind::kError:
        return report(
            {Reply::Kind::kRefused, {}, 0, std::string(portmap::pcp_result_name(r.result))});
      case Kind::kUnsupported:
        return report({Reply::Kind::kUnsupported, {}, 0, "unsupported version"});
    }
  }

  asio::io_context& io_;
  std::optional<asio::ip::udp::socket> socket_;
  uint64_t generation_ = 0;
  portmap::PcpNonce nonce_{};
  uint16_t internal_port_ = 0;
  uint8_t out_[portmap::kPcpMapSize];
  uint8_t in_[portmap::kPcpMaxMessage + 4];
};

}  // namespace

std::unique_ptr<PortMapClient> make_pcp_client(asio::io_context& io,
                                               PortMapClient::OnReply on_reply) {
  return std::make_unique<PcpClient>(io, std::move(on_reply));
}

}  // namespace wgp
