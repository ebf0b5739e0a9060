// Port mapping on a running node ([Interface] PortMapping = auto, with
// [Discovery]): the PortMapper state machine (portmap/port_mapper.h) fed the
// default gateway (read at start and again whenever rtnetlink reports a
// route or IPv4 address change), the replies of its three clients
// (node/port_map_clients.h) and the time, on the node's event loop. The
// mapped external endpoint goes to `on_change`, which makes it a discovery
// candidate; stop() deletes the mapping before the node exits.
//
// Logs once per outcome: the mapping (protocol, external endpoint, lease,
// how long it took), its loss, or why there is none; a silent gateway is
// not logged again until the reason changes.
#pragma once

#include <utility>  // before Asio: Boost 1.74 awaitable.hpp needs std::exchange

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "control/device_control.h"
#include "node/port_map_clients.h"

namespace wgp {

class PortMapping {
 public:
  using OnChange = std::function<void(std::optional<Endpoint> external)>;

  // `tun_name`: our own interface, whose routes are never the way out.
  PortMapping(boost::asio::io_context& io, Random& rng, uint16_t listen_port, std::string tun_name,
              OnChange on_change);
  ~PortMapping();

  // Reads the gateway and asks; follows route and address changes from now.
  void start();
  // ListenPort changed: the old mapping is deleted, a new one asked for.
  void set_listen_port(uint16_t port);
  // Deletes the mapping (waiting at most about a second, two for UPnP) and
  // stops for good.
  void stop();
  // port_mapping (protocol, "none"), and with a mapping its external
  // endpoint, lease left and renewals; else the reason; the gateway.
  void add_status(ExtraFields& extra) const;

 private:
  void refresh_gateway();
  void wait_network_change();
  void on_reply(portmap::Protocol from, const portmap::Reply& reply);
  // After every call into the mapper: its requests, the candidate, logs, the timer.
  void settle();
  void perform(const portmap::Request& r);
  void log_outcome();
  void arm_timer();
  PortMapClient& client(portmap::Protocol p);
  Instant now() const { return BootClock::now(); }

  boost::asio::io_context& io_;
  portmap::PortMapper mapper_;
  std::string tun_name_;
  OnChange on_change_;
  std::unique_ptr<PortMapClient> pcp_, natpmp_, upnp_;
  boost::asio::steady_timer timer_;
  std::optional<Instant> armed_;
  std::unique_ptr<boost::asio::posix::stream_descriptor> watch_;
  bool stopped_ = false;
  // When each protocol was first asked in the current search, and the search began.
  Instant asked_at_[4]{};
  Instant search_began_{};
  std::string logged_;  // the last outcome logged
};

}  // namespace wgp
