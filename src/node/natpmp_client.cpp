// NAT-PMP (RFC 6886) through libnatpmp, told the gateway (forcegw) rather
// than letting it find one: it opens a non-blocking UDP socket connected to
// gateway:5351, which we watch on the event loop. A mapping takes two
// exchanges: the external address (opcode 0), then the UDP mapping
// (opcode 1), whose answer carries the external port and lifetime.
#include <boost/asio/posix/stream_descriptor.hpp>
#include <optional>

#include "node/port_map_clients.h"

#define ENABLE_STRNATPMPERR
#include <natpmp.h>

namespace wgp {

namespace asio = boost::asio;
using portmap::Reply;
using portmap::Request;

namespace {

in_addr_t in_addr_of(const IpAddress& a) {
  in_addr_t v;
  std::memcpy(&v, a.bytes.data(), 4);
  return v;
}

// One libnatpmp handle; closed with its socket on destruction.
class Handle {
 public:
  bool open(const IpAddress& gateway) {
    open_ = initnatpmp(&np_, 1, in_addr_of(gateway)) == 0;
    return open_;
  }
  ~Handle() {
    if (open_) closenatpmp(&np_);
  }
  natpmp_t* get() { return &np_; }
  int fd() const { return np_.s; }

 private:
  natpmp_t np_{};
  bool open_ = false;
};

class NatPmpClient final : public ReportingClient {
 public:
  NatPmpClient(asio::io_context& io, OnReply on_reply)
      : ReportingClient(std::move(on_reply)), io_(io) {}
  ~NatPmpClient() override { cancel(); }

  void request(const Request& r) override {
    if (!r.retry || !handle_) {
      cancel();
      handle_.emplace();
      if (!handle_->open(r.gateway.address)) return fail("cannot open a socket to the gateway");
      watch_.emplace(io_, handle_->fd());
      request_ = r;
      external_.reset();
      wait();
    }
    send();
  }

  void cancel() override {
    ++generation_;
    if (watch_) {
      boost::system::error_code ignored;
      watch_->cancel(ignored);
      (void)watch_->release();  // the descriptor is libnatpmp's
      watch_.reset();
    }
    handle_.reset();
  }

  void delete_now(const Request& r, Duration budget) override {
    Handle h;
    if (!h.open(r.gateway.address)) return;
    // Lifetime 0 and suggested external port 0 delete (RFC 6886 §3.4).
    send_until_answered(
        h.fd(), budget,
        [&] {
          return sendnewportmappingrequest(h.get(), NATPMP_PROTOCOL_UDP, r.internal_port, 0, 0) >=
                 0;
        },
        [&] {
          natpmpresp_t resp;
          int rc = readnatpmpresponseorretry(h.get(), &resp);
          return rc != NATPMP_TRYAGAIN && rc != NATPMP_ERR_WRONGPACKETSOURCE;
        });
  }

 private:
  void send() {
    int rc = external_ ? sendnewportmappingrequest(handle_->get(), NATPMP_PROTOCOL_UDP,
                                                   request_.internal_port, suggested_port(),
                                                   request_.lifetime)
                       : sendpublicaddressrequest(handle_->get());
    if (rc < 0 && errno == ECONNREFUSED) no_server(portmap::kPcpServerPort);
  }

  uint16_t suggested_port() const {
    return request_.current ? request_.current->port : request_.internal_port;
  }

  void wait() {
    watch_->async_wait(asio::posix::stream_descriptor::wait_read, [this, g = generation_](auto ec) {
      if (ec || g != generation_) return;
      readable();
      if (g == generation_) wait();
    });
  }

  void readable() {
    natpmpresp_t resp;
    int rc = readnatpmpresponseorretry(handle_->get(), &resp);
    if (rc == NATPMP_TRYAGAIN || rc == NATPMP_ERR_WRONGPACKETSOURCE) return;
    if (rc == NATPMP_ERR_RECVFROM && errno == ECONNREFUSED)
      return no_server(portmap::kPcpServerPort);
    if (rc == NATPMP_ERR_UNSUPPORTEDVERSION || rc == NATPMP_ERR_UNSUPPORTEDOPCODE)
      return report({Reply::Kind::kUnsupported, {}, 0, strnatpmperr(rc)});
    if (rc < 0) return report({Reply::Kind::kRefused, {}, 0, strnatpmperr(rc)});
    if (resp.type == NATPMP_RESPTYPE_PUBLICADDRESS) {
      if (!external_) {
        external_ = IpAddress::v4(reinterpret_cast<const uint8_t*>(&resp.pnu.publicaddress.addr));
        send();  // now the mapping itself
      }
      return;
    }
    if (resp.type != NATPMP_RESPTYPE_UDPPORTMAPPING || !external_ ||
        resp.pnu.newportmapping.privateport != request_.internal_port)
      return;
    report({Reply::Kind::kMapped, Endpoint{*external_, resp.pnu.newportmapping.mappedpublicport},
            resp.pnu.newportmapping.lifetime, ""});
  }

  asio::io_context& io_;
  std::optional<Handle> handle_;
  std::optional<asio::posix::stream_descriptor> watch_;
  uint64_t generation_ = 0;
  Request request_;
  std::optional<IpAddress> external_;
};

}  // namespace

std::unique_ptr<PortMapClient> make_natpmp_client(asio::io_context& io,
                                                  PortMapClient::OnReply on_reply) {
  return std::make_unique<NatPmpClient>(io, std::move(on_reply));
}

}  // namespace wgp
