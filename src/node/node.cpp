// Node: the event loop around the Device. Each readiness event drains one
// batch (recvmmsg from the socket, or up to a batch of TUN reads), feeds it to
// the device packet by packet, and flushes what the device produced in one
// sendmmsg / one pass of TUN writes. Then the protocol timer is re-armed from
// the device's next deadline.
#include "node/node.h"

#include "dnssd/demux.h"
#include "dnssd/inner_udp.h"
#include "node/discovery_service.h"
#include "node/registry_service.h"

#include <cerrno>
#include <iostream>

namespace wgp {

namespace asio = boost::asio;

namespace {
constexpr size_t kBatch = 64;
// Room for a TUN packet of any MTU we allow, plus the data-message header in
// front for in-place encryption later.
constexpr size_t kTunSlot = 65536;
}  // namespace

Node::Node(asio::io_context& io, TunDevice tun, UdpSocket udp, size_t mtu)
    : io_(io),
      tun_(std::move(tun)),
      udp_(std::move(udp)),
      device_(rng_, *this),
      tun_watch_(io, tun_.fd()),
      udp_watch_(std::make_unique<asio::posix::stream_descriptor>(io, udp_.fd())),
      timer_(io),
      udp_in_(kBatch),
      udp_out_(kBatch),
      tun_in_storage_(kBatch * kTunSlot),
      tun_in_lengths_(kBatch),
      tun_out_storage_(kBatch * kTunSlot) {
  device_.set_mtu(mtu);
  device_.set_observer(this);
  for (size_t i = 0; i < kBatch; ++i)
    tun_in_bufs_.emplace_back(tun_in_storage_.data() + i * kTunSlot, kTunSlot);
  tun_out_.reserve(kBatch);
}

Node::~Node() {
  device_.set_observer(nullptr);
  stop();
  // The descriptors belong to tun_ and udp_: let the watchers forget them.
  (void)tun_watch_.release();
  if (udp_watch_) (void)udp_watch_->release();
}

void Node::enable_dnssd(const Config& config) {
  auto send = [this](const Endpoint& to, ByteView d) { send_datagram(to, d); };
  if (config.registry) {
    std::vector<IpAddress> addresses;
    for (const InterfaceAddress& a : config.addresses) addresses.push_back(a.address);
    registry_ = std::make_unique<RegistryService>(*config.registry, addresses, device_, send);
  }
  if (config.discovery)
    discovery_ = std::make_unique<DiscoveryService>(*config.discovery, device_, rng_, send);
}

void Node::start() {
  if (discovery_) {
    discovery_->refresh_all(now());
    flush();
  }
  wait_udp();
  wait_tun();
  reschedule();
}

void Node::stop() {
  if (stopped_) return;
  stopped_ = true;
  boost::system::error_code ignored;
  tun_watch_.cancel(ignored);
  if (udp_watch_) udp_watch_->cancel(ignored);
  timer_.cancel();
}

void Node::fatal(const std::string& why) {
  stop();
  if (on_fatal_) on_fatal_(why);
}

void Node::wait_udp() {
  if (stopped_) return;
  udp_watch_->async_wait(asio::posix::stream_descriptor::wait_read, [this](auto ec) {
    if (!ec) on_udp_readable();
  });
}

void Node::wait_tun() {
  if (stopped_) return;
  tun_watch_.async_wait(asio::posix::stream_descriptor::wait_read, [this](auto ec) {
    if (!ec) on_tun_readable();
  });
}

void Node::on_udp_readable() {
  int n = udp_.receive(udp_in_);
  Now t = now();
  for (int i = 0; i < n; ++i) {
    if (udp_in_.truncated(i)) continue;
    ByteView d = udp_in_.data(i);
    const Endpoint& from = udp_in_.endpoint(i);
    // One port, two protocols (DESIGN.md §4): a DNS message whose first bytes
    // look like a data message goes to DNS once no keypair claims it.
    switch (dnssd::classify_datagram(d)) {
      case dnssd::DatagramKind::kWireGuard:
        if (device_.receive_datagram(d, from, t) == DropReason::kUnknownIndex &&
            (registry_ || discovery_))
          receive_dns(d, from, t);
        break;
      case dnssd::DatagramKind::kDns:
        receive_dns(d, from, t);
        break;
      case dnssd::DatagramKind::kUnknown:
        (void)device_.receive_datagram(d, from, t);  // counted as malformed
        break;
    }
  }
  flush();
  reschedule();
  wait_udp();
}

void Node::on_tun_readable() {
  int n = tun_.read_batch(tun_in_bufs_, tun_in_lengths_);
  if (n < 0) {
    if (n == -EBADFD || n == -ENODEV || n == -EIO) {
      fatal("TUN device " + tun_.name() + " is gone");
      return;
    }
    n = 0;
  }
  Now t = now();
  for (int i = 0; i < n; ++i)
    (void)device_.send_packet(ByteView(tun_in_bufs_[i].data(), tun_in_lengths_[i]), t);
  flush();
  reschedule();
  wait_tun();
}

void Node::receive_dns(ByteView datagram, const Endpoint& from, Now now) {
  if (discovery_ && discovery_->handle_response(datagram, from, now)) return;
  if (registry_) {
    registry_->handle_plain_query(datagram, from, now);
    return;
  }
  ++dns_unexpected_;
}

bool Node::intercept_inner_packet(Peer& peer, ByteView ip_packet) {
  if (!registry_ && !discovery_) return false;
  auto udp = dnssd::parse_udp_packet(ip_packet);
  if (!udp) return false;
  Now t = now();
  if (registry_ && registry_->handle_inner(peer, *udp, t)) return true;
  return discovery_ && discovery_->handle_inner(peer, *udp, t);
}

void Node::on_handshake_unanswered(Peer& peer) {
  if (discovery_) discovery_->on_handshake_unanswered(peer, now());
}

void Node::on_timer() {
  armed_deadline_.reset();
  device_.run_timers(now());
  if (discovery_) discovery_->run_timers(now());
  flush();
  reschedule();
}

void Node::reschedule() {
  if (stopped_) return;
  auto deadline = device_.next_deadline();
  if (discovery_) {
    auto d = discovery_->next_deadline();
    if (d && (!deadline || *d < *deadline)) deadline = d;
  }
  if (!deadline) {
    if (armed_deadline_) timer_.cancel();
    armed_deadline_.reset();
    return;
  }
  if (armed_deadline_ && *armed_deadline_ == *deadline) return;
  armed_deadline_ = deadline;
  auto wait = std::max(Duration::zero(), *deadline - BootClock::now());
  timer_.expires_after(wait);
  timer_.async_wait([this, deadline](auto ec) {
    if (!ec && armed_deadline_ == deadline) on_timer();
  });
}

void Node::send_datagram(const Endpoint& to, ByteView datagram) {
  if (udp_out_count_ == udp_out_.capacity()) flush();
  if (udp_out_.set(udp_out_count_, to, datagram)) ++udp_out_count_;
}

void Node::write_tun(ByteView packet) {
  if (tun_out_.size() == kBatch || tun_out_used_ + packet.size() > tun_out_storage_.size()) flush();
  uint8_t* slot = tun_out_storage_.data() + tun_out_used_;
  std::memcpy(slot, packet.data(), packet.size());
  tun_out_.emplace_back(slot, packet.size());
  tun_out_used_ += packet.size();
}

void Node::flush() {
  if (udp_out_count_) {
    int dropped = 0, last_error = 0;
    int sent = udp_.send(udp_out_, udp_out_count_, &dropped, &last_error);
    // A full socket buffer: what did not fit is lost, as a router would.
    if (sent < 0) sent = 0;
    udp_send_errors_ += dropped + (udp_out_count_ - size_t(sent));
    udp_out_count_ = 0;
  }
  if (!tun_out_.empty()) {
    int refused = 0;
    int written = tun_.write_batch(tun_out_, &refused);
    if (written < 0) written = 0;
    tun_write_errors_ += refused + (tun_out_.size() - size_t(written));
    tun_out_.clear();
    tun_out_used_ = 0;
  }
}

}  // namespace wgp
