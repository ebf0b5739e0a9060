// Where the registry's secondaries fetch the zone (DESIGN.md §10): DNS over
// TCP on the WireGuard port's number, on every address of the host (the
// secondaries reach the registry the way its peers do, not through the
// tunnel), for the listed secondaries only. Opened with the DNS-SD roles,
// before privileges are dropped (the port may be below 1024).
#pragma once

#include <utility>  // before Asio: Boost 1.74 awaitable.hpp needs std::exchange

#include <boost/asio.hpp>
#include <functional>
#include <memory>

#include "node/dns_tcp_server.h"
#include "wg/device.h"

namespace wgp {

class ZonePublisher;

// Listens on 0.0.0.0 and [::] at `port`, TCP, for `publisher`'s transfers;
// `clock` gives the moment of each request. Throws std::runtime_error (one
// line) when not even the IPv4 wildcard can be bound; a missing IPv6 is
// logged as a warning.
std::unique_ptr<DnsTcpServer> open_zone_transfer_listener(boost::asio::io_context& io,
                                                          ZonePublisher& publisher, uint16_t port,
                                                          std::function<Now()> clock);

}  // namespace wgp
