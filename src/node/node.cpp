// Node: the event loop around the Device. Each readiness event drains one
// batch (recvmmsg from the socket, or up to a batch of TUN reads), feeds it to
// the device packet by packet, and flushes what the device produced in one
// sendmmsg / one pass of TUN writes. Then the protocol timer is re-armed from
// the device's next deadline.
#include "node/node.h"

#include <cerrno>
#include <cstring>

#include "node/dnssd_roles.h"

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
  for (size_t i = 0; i < kBatch; ++i)
    tun_in_bufs_.emplace_back(tun_in_storage_.data() + i * kTunSlot, kTunSlot);
  tun_out_.reserve(kBatch);
}

Node::~Node() {
  dnssd_.reset();
  stop();
  // The descriptors belong to tun_ and udp_: let the watchers forget them.
  (void)tun_watch_.release();
  if (udp_watch_) (void)udp_watch_->release();
}

void Node::enable_dnssd(const Config& config) {
  if (!config.registry && !config.discovery) return;
  dnssd_ = std::make_unique<DnssdRoles>(config, device_, rng_,
                                        [this](const Endpoint& to, ByteView d) { send_datagram(to, d); });
}

void Node::start() {
  if (dnssd_) {
    dnssd_->start(now());
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
    if (dnssd_)
      dnssd_->receive_datagram(udp_in_.data(i), udp_in_.endpoint(i), t);
    else
      (void)device_.receive_datagram(udp_in_.data(i), udp_in_.endpoint(i), t);
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

void Node::on_timer() {
  armed_deadline_.reset();
  device_.run_timers(now());
  if (dnssd_) dnssd_->run_timers(now());
  flush();
  reschedule();
}

void Node::reschedule() {
  if (stopped_) return;
  auto deadline = device_.next_deadline();
  if (dnssd_) {
    auto d = dnssd_->next_deadline();
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
