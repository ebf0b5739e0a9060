// Node: the event loop around the Device. Each readiness event drains one
// batch (recvmmsg from the socket, or up to a batch of TUN reads), feeds it to
// the device packet by packet, and flushes what the device produced in one
// sendmmsg / one pass of TUN writes. Then the protocol timer is re-armed from
// the device's next deadline.
//
// With offloads, one UDP slot may carry many datagrams each way (GRO on
// receive, GSO on send: consecutive datagrams to one endpoint of one size
// share a slot), and TunIo segments and coalesces on the TUN side. The
// device encrypts straight into the outgoing slots (reserve_datagram).
#include "node/node.h"

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "control/network_namespace.h"
#include "discovery/dnssd_roles.h"
#include "discovery/registry_service.h"
#include "discovery/tunnel_route.h"
#include "net/local_addresses.h"
#include "node/dns_tcp_server.h"
#include "node/port_mapping.h"
#include "node/zone_transfer_listener.h"
#include "util/log.h"

namespace wgp {

namespace asio = boost::asio;

namespace {
constexpr size_t kBatch = 64;
// Every datagram a batch can hold: 64 slots of up to 64 GSO/GRO segments.
constexpr size_t kMaxDatagramsPerBatch = kBatch * DatagramBatch::kMaxSegments;
// Packets per thread below which waking another thread costs more than it
// saves (an open of a full-size packet takes about a microsecond).
constexpr size_t kMinCryptoPerThread = 32;
}  // namespace

std::unique_ptr<DatagramPort> Node::open_udp_port(uint16_t port) {
  return std::make_unique<UdpSocket>(UdpSocket::open(port));
}

Node::Node(asio::io_context& io, std::unique_ptr<TunPort> tun, std::unique_ptr<DatagramPort> udp,
           size_t mtu, PortOpener open_port)
    : io_(io),
      tun_(std::move(tun)),
      udp_(std::move(udp)),
      open_port_(std::move(open_port)),
      device_(rng_, *this),
      network_namespace_(control::current_network_namespace()),
      tun_watch_(io, tun_->fd()),
      udp_watch_(std::make_unique<asio::posix::stream_descriptor>(io, udp_->fd())),
      timer_(io),
      udp_in_(kBatch),
      udp_out_(kBatch),
      tun_io_(*tun_, kBatch),
      udp_plain_(kBatch * DatagramBatch::kMaxDatagram) {
  device_.set_mtu(mtu);
  udp_out_.set_port(udp_.get());
  udp_out_.on_unsealed([this] { device_.count_drop(DropReason::kSealFailed); });
  incoming_.reserve(kMaxDatagramsPerBatch);
  open_jobs_.reserve(kMaxDatagramsPerBatch);
}

void Node::disable_udp_offloads() {
  udp_offloads_ = false;
  udp_->disable_offloads();
}

Node::~Node() {
  port_mapping_.reset();  // deletes the mapping; it registers through dnssd_
  transfer_tcp_.reset();  // it answers through dnssd_
  dns_tcp_.reset();       // it answers through dnssd_
  dnssd_.reset();
  stop();
  // The descriptors belong to tun_ and udp_: let the watchers forget them.
  (void)tun_watch_.release();
  if (udp_watch_) (void)udp_watch_->release();
}

void Node::enable_dnssd(const Config& config) {
  if (!config.registry && !config.discovery) return;
  dnssd_ = std::make_unique<DnssdRoles>(
      config, device_, rng_, [this](const Endpoint& to, ByteView d) { send_datagram(to, d); });
  dnssd_->set_listen_port(udp_->port());
  for (const InterfaceAddress& a : config.addresses) tunnel_addresses_.push_back(a.address);
  tunnel_addresses_watched_ = config.discovery && config.discovery->local_candidates;
  // Our own addresses are never candidates, at either end: watched always.
  watch_local_addresses();
  if (!config.registry) return;
  dns_tcp_ = std::make_unique<DnsTcpServer>(
      io_, tunnel_addresses_, kDnsPort, tun_->name(), nullptr,
      [this](ByteView query, const IpAddress& from, std::vector<uint8_t>& framed) {
        // `from` picks the address of ours a Self record without SelfEndpoint names (§11).
        ByteView answer = dnssd_->registry()->answer_stream_query(query, from);
        if (answer.empty()) return;
        framed.push_back(uint8_t(answer.size() >> 8));
        framed.push_back(uint8_t(answer.size()));
        framed.insert(framed.end(), answer.begin(), answer.end());
      });
  // A peer's share of the connections, whichever of its addresses it uses.
  dns_tcp_->set_party([this](const IpAddress& address) {
    const Peer* peer = device_.allowed_ips().lookup(address);
    return peer ? std::string(peer->public_key().begin(), peer->public_key().end())
                : address.to_string();
  });
  for (const std::string& w : dns_tcp_->warnings()) Log::info("warning: ", w);
  if (!config.registry->secondaries.empty())
    transfer_tcp_ = open_zone_transfer_listener(io_, *dnssd_->publisher(), udp_->port(),
                                                [this] { return now(); });
}

void Node::enable_port_mapping(const Config& config) {
  if (!config.discovery || !dnssd_) {
    port_mapping_off_ = "no [Discovery] to publish it";
    return;
  }
  if (!config.port_mapping) {
    port_mapping_off_ = "PortMapping = no";
    return;
  }
  port_mapping_ = std::make_unique<PortMapping>(io_, rng_, udp_->port(), tun_->name(),
                                                [this](std::optional<Endpoint> external) {
                                                  dnssd_->set_port_mapping(external, now());
                                                  flush();
                                                  reschedule();
                                                });
}

void Node::watch_local_addresses() {
  try {
    UniqueFd fd = open_address_watch();
    address_watch_ = std::make_unique<asio::posix::stream_descriptor>(io_, fd.release());
  } catch (const std::system_error& e) {
    // Registration still happens at start and every Interval; only the
    // prompt re-registration after a change is lost.
    Log::info("warning: no address change notifications (", e.what(), ")");
  }
}

void Node::publish_local_addresses() {
  if (!dnssd_) return;
  dnssd_->set_host_addresses(host_addresses());
  if (!tunnel_addresses_watched_) return;
  dnssd_->set_local_addresses(local_candidate_addresses(tun_->name(), tunnel_addresses_),
                              udp_->port(), now());
}

void Node::wait_address_change() {
  if (!address_watch_ || stopped_) return;
  address_watch_->async_wait(asio::posix::stream_descriptor::wait_read, [this](auto ec) {
    if (ec) return;
    drain_address_watch(address_watch_->native_handle());
    publish_local_addresses();
    flush();
    reschedule();
    wait_address_change();
  });
}

void Node::start() {
  if (!workers_) {
    workers_ = std::make_unique<WorkerPool>(
        crypto_workers_wanted_.value_or(WorkerPool::default_workers()));
    crypto_tally_ = std::make_unique<CryptoTally>(workers_->workers() + 1);
    udp_out_.set_workers(workers_.get(), crypto_tally_.get());
  }
  if (dnssd_) {
    publish_local_addresses();
    wait_address_change();
    dnssd_->start(now());
    flush();
  }
  wait_udp();
  wait_tun();
  if (port_mapping_) port_mapping_->start();
  reschedule();
}

void Node::stop() {
  if (stopped_) return;
  stopped_ = true;
  boost::system::error_code ignored;
  tun_watch_.cancel(ignored);
  if (udp_watch_) udp_watch_->cancel(ignored);
  timer_.cancel();
  if (dns_tcp_) dns_tcp_->shutdown();
  if (transfer_tcp_) transfer_tcp_->shutdown();
  if (address_watch_) address_watch_->cancel(ignored);
  if (port_mapping_) port_mapping_->stop();  // deletes the mapping at the gateway
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
  int n = udp_->receive(udp_in_);
  Now t = now();
  // Pass 1: every datagram of the batch (a GRO slot holds several, each
  // segment_size long but the last), with a decryption job for each
  // transport message whose keypair is known.
  incoming_.clear();
  open_jobs_.clear();
  for (int i = 0; i < n; ++i) {
    if (udp_in_.truncated(i)) continue;
    ByteView all = udp_in_.data(i);
    size_t segment = udp_in_.segment_size(i);
    if (segment == 0) segment = all.size();  // one datagram, perhaps empty
    size_t offset = 0;
    do {
      ByteView datagram = all.subspan(offset, std::min(segment, all.size() - offset));
      // Its plaintext goes to the same offset of the parallel arena.
      MutableByteView plain(udp_plain_.data() + size_t(i) * udp_in_.slot_size() + offset,
                            datagram.size());
      Incoming in{datagram, uint32_t(i), -1};
      OpenJob job;
      if (device_.prepare_open(datagram, plain, t, job)) {
        in.job = int32_t(open_jobs_.size());
        open_jobs_.push_back(job);
      }
      incoming_.push_back(in);
      offset += segment;
    } while (offset < all.size());
  }
  // Pass 2: decrypt on every core. Pass 3: the protocol, in batch order.
  open_in_parallel(open_jobs_.size());
  for (const Incoming& in : incoming_) {
    const OpenJob* opened = in.job >= 0 ? &open_jobs_[size_t(in.job)] : nullptr;
    const Endpoint& from = udp_in_.endpoint(in.slot);
    if (dnssd_)
      dnssd_->receive_datagram(in.datagram, from, t, opened);
    else
      (void)device_.receive_datagram(in.datagram, from, t, opened);
  }
  flush();
  reschedule();
  wait_udp();
}

void Node::open_in_parallel(size_t count) {
  auto open_range = [this](size_t begin, size_t end) {
    for (size_t j = begin; j < end; ++j) open_jobs_[j].run();
    if (crypto_tally_) crypto_tally_->add_opens(WorkerPool::this_thread(), end - begin);
  };
  if (workers_)
    workers_->run(count, kMinCryptoPerThread, open_range);
  else
    open_range(0, count);
}

void Node::on_tun_readable() {
  batch_now_ = now();
  int n = tun_io_.read();
  if (n < 0 && (n == -EBADFD || n == -ENODEV || n == -EIO)) {
    fatal("TUN device " + tun_->name() + " is gone");
    return;
  }
  // With workers, data messages are built now and sealed together, across
  // cores, in flush() (which costs one copy of each payload into its slot);
  // without, the device seals each straight from the TUN buffer into its slot.
  if (workers_ && workers_->workers() > 0) device_.defer_seals(&udp_out_.seal_jobs());
  tun_io_.deliver(*this);
  device_.defer_seals(nullptr);
  flush();
  // A packet for a peer nobody knows where to find made discovery wanted
  // (DnssdRoles::on_session_wanted): ask now, after the batch's seals ran.
  if (dnssd_) {
    dnssd_->drain(batch_now_);
    flush();
  }
  reschedule();
  wait_tun();
}

void Node::packet(MutableByteView ip_packet) { (void)device_.send_packet(ip_packet, batch_now_); }

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

void Node::send_datagram(const Endpoint& to, ByteView datagram) { udp_out_.copy(to, datagram); }

MutableByteView Node::reserve_datagram(const Endpoint& to, size_t size) {
  return udp_out_.reserve(to, size);
}

void Node::cancel_datagram() { udp_out_.cancel(); }

// At once, beside the batch: an opener's order among the batch's datagrams
// does not matter (the probe it prepares follows a good while later).
void Node::send_hop_limited(const Endpoint& to, ByteView datagram, uint8_t hops) {
  if (!udp_->send_hop_limited(to, datagram, hops)) udp_out_.count_send_error();
}

void Node::write_tun(ByteView packet) {
  // A packet the device decrypted into udp_plain_ stays there until the
  // next UDP batch, and every handler flushes before it returns: the TUN
  // writer may point at its payload instead of copying it.
  auto at = reinterpret_cast<uintptr_t>(packet.data());
  auto plain = reinterpret_cast<uintptr_t>(udp_plain_.data());
  if (packet.size() <= udp_plain_.size() && at >= plain &&
      at - plain <= udp_plain_.size() - packet.size())
    tun_io_.write_borrowed(packet);
  else
    tun_io_.write(packet);
}

void Node::flush() {
  udp_out_.flush();
  tun_io_.flush();
}

}  // namespace wgp
