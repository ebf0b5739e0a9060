// The three ways to ask a gateway for a port mapping, on the node's event
// loop, each over ordinary sockets (so they work after `--user` dropped every
// privilege) and each talking to nothing but the gateway of the request:
//   PCP      our codec (portmap/pcp.h) over a UDP socket connected to gateway:5351
//   NAT-PMP  libnatpmp (its own UDP socket connected to gateway:5351)
//   UPnP     a unicast M-SEARCH to gateway:1900 (portmap/ssdp.h), then
//            libminiupnpc for the description and the SOAP calls; those block,
//            so they run on a short-lived thread and post the result back
// PortMapper (portmap/port_mapper.h) decides when each is asked; a client
// only carries a request out and reports what came back.
#pragma once

#include <utility>  // before Asio: Boost 1.74 awaitable.hpp needs std::exchange

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <functional>
#include <memory>

#include "portmap/port_mapper.h"

namespace wgp {

class PortMapClient {
 public:
  using OnReply = std::function<void(const portmap::Reply&)>;
  virtual ~PortMapClient() = default;
  // A kMap request (a first try, a retry, or a renewal). Replies come
  // through the OnReply given at construction, on the event loop.
  virtual void request(const portmap::Request& r) = 0;
  // Stops whatever is in flight; no reply follows.
  virtual void cancel() = 0;
  // Deletes the mapping a kDelete request describes, waiting at most
  // `budget` for the gateway to confirm. Blocks: for shutdown and port
  // changes only.
  virtual void delete_now(const portmap::Request& r, Duration budget) = 0;
};

// What the three share: the reply callback and how a client reports.
class ReportingClient : public PortMapClient {
 protected:
  explicit ReportingClient(OnReply on_reply) : on_reply_(std::move(on_reply)) {}
  // The mapper may cancel or ask again from inside the callback: the caller
  // does nothing after it.
  void report(const portmap::Reply& r) {
    cancel();
    on_reply_(r);
  }
  // ICMP port unreachable from the gateway: nothing listens on `port`.
  void no_server(uint16_t port) {
    report({portmap::Reply::Kind::kNoServer, {}, 0, "port " + std::to_string(port) + " closed"});
  }
  void fail(const std::string& why) { report({portmap::Reply::Kind::kRefused, {}, 0, why}); }

  OnReply on_reply_;
};

// Opens `socket` bound to our address on the gateway's link and connected
// to gateway:`port` (so an ICMP unreachable shows as ECONNREFUSED).
boost::system::error_code open_to_gateway(boost::asio::ip::udp::socket& socket,
                                          const portmap::Gateway& gateway, uint16_t port);

// Blocking, for deletions: up to three `send`s a third of `budget` apart;
// after each, `read` whenever `fd` is readable until it says done (true).
// `send` returning false ends it.
void send_until_answered(int fd, Duration budget, const std::function<bool()>& send,
                         const std::function<bool()>& read);

std::unique_ptr<PortMapClient> make_pcp_client(boost::asio::io_context& io,
                                               PortMapClient::OnReply on_reply);
std::unique_ptr<PortMapClient> make_natpmp_client(boost::asio::io_context& io,
                                                  PortMapClient::OnReply on_reply);
std::unique_ptr<PortMapClient> make_upnp_client(boost::asio::io_context& io,
                                                PortMapClient::OnReply on_reply);

}  // namespace wgp
