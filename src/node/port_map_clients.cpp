#include "node/port_map_clients.h"

#include <poll.h>

namespace wgp {

namespace asio = boost::asio;

boost::system::error_code open_to_gateway(asio::ip::udp::socket& socket,
                                          const portmap::Gateway& gateway, uint16_t port) {
  auto v4 = [](const IpAddress& a) {
    asio::ip::address_v4::bytes_type b;
    std::copy_n(a.bytes.begin(), 4, b.begin());
    return asio::ip::address_v4(b);
  };
  boost::system::error_code ec;
  socket.open(asio::ip::udp::v4(), ec);
  if (!ec) socket.bind({v4(gateway.local.address), 0}, ec);
  if (!ec) socket.connect({v4(gateway.address), port}, ec);
  return ec;
}

void send_until_answered(int fd, Duration budget, const std::function<bool()>& send,
                         const std::function<bool()>& read) {
  const auto deadline = BootClock::now() + budget;
  for (int tries = 0; tries < 3 && BootClock::now() < deadline; ++tries) {
    if (!send()) return;
    const auto wait_until = std::min(deadline, BootClock::now() + budget / 3);
    while (BootClock::now() < wait_until) {
      pollfd p{fd, POLLIN, 0};
      auto ms = std::chrono::ceil<std::chrono::milliseconds>(wait_until - BootClock::now());
      if (::poll(&p, 1, int(ms.count())) <= 0) break;
      if (read()) return;
    }
  }
}

}  // namespace wgp
