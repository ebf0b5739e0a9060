#include "node/zone_transfer_listener.h"

#include <stdexcept>

#include "discovery/zone_publisher.h"
#include "util/log.h"

namespace wgp {

std::unique_ptr<DnsTcpServer> open_zone_transfer_listener(boost::asio::io_context& io,
                                                          ZonePublisher& publisher, uint16_t port,
                                                          std::function<Now()> clock) {
  const std::vector<IpAddress> wildcards = {*IpAddress::parse("0.0.0.0"), *IpAddress::parse("::")};
  auto server = std::make_unique<DnsTcpServer>(
      io, wildcards, port, std::string(),
      [&publisher](const IpAddress& peer) {
        if (publisher.is_secondary(peer)) return true;
        publisher.count_refused_connection();
        return false;
      },
      [&publisher, clock = std::move(clock)](ByteView query, const IpAddress& peer,
                                             std::vector<uint8_t>& framed) {
        publisher.handle_stream(query, peer, clock(), framed);
      });
  // DnsTcpServer skips what it cannot bind and says so, naming the address.
  // Without the IPv4 wildcard no IPv4 secondary could connect: fatal.
  for (const std::string& w : server->warnings())
    if (w.find("0.0.0.0") != std::string::npos)
      throw std::runtime_error("[Registry] Secondary: cannot serve zone transfers on TCP port " +
                               std::to_string(port) + ": " + w);
  for (const std::string& w : server->warnings()) Log::info("warning: ", w);
  return server;
}

}  // namespace wgp
