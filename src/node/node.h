// A running wgpunch interface: the Device (pure protocol) joined to its real
// I/O — the TUN device, the one UDP socket, the clock and the control socket —
// on one Asio event loop. Node is also the DeviceControl that `wg` and
// `wgpunch status` talk to through the UAPI server.
//
// Threading: everything runs on the io_context's single thread.
#pragma once

#include <utility>  // before Asio: Boost 1.74 awaitable.hpp needs std::exchange

#include <boost/asio.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "config/config.h"
#include "control/device_control.h"
#include "crypto/random.h"
#include "net/datagram_port.h"
#include "net/udp_socket.h"
#include "node/outgoing_datagrams.h"
#include "tun/tun_io.h"
#include "tun/tun_port.h"
#include "util/lazy_buffer.h"
#include "util/worker_pool.h"
#include "wg/device.h"

namespace wgp {

class DnssdRoles;
class DnsTcpServer;
class PortMapping;

class Node final : public DeviceControl, private DeviceOutput, private PacketSink {
 public:
  // Opens a socket bound to `port` (0: any), for set_listen_port. Throws
  // std::system_error as UdpSocket::open does.
  using PortOpener = std::function<std::unique_ptr<DatagramPort>(uint16_t port)>;
  static std::unique_ptr<DatagramPort> open_udp_port(uint16_t port);

  // Takes an open TUN device and a bound UDP socket (real ones, or the
  // in-memory fakes of tests/support/fake_io.h); nothing runs until start().
  Node(boost::asio::io_context& io, std::unique_ptr<TunPort> tun, std::unique_ptr<DatagramPort> udp,
       size_t mtu, PortOpener open_port = open_udp_port);
  ~Node() override;

  Device& device() { return device_; }
  const std::string& interface_name() const { return tun_->name(); }
  uint16_t listen_port() const { return udp_->port(); }

  // Turns on the DNS-SD roles the config asks for ([Registry], [Discovery]);
  // a registry also listens for DNS over TCP at its tunnel addresses (port
  // 53) and, with secondaries, for zone transfers on the ListenPort number
  // (call this while still privileged). Call after the peers are
  // configured and the interface's addresses set, before start().
  void enable_dnssd(const Config& config);
  // With [Discovery] and PortMapping = auto, keeps a port mapping at the
  // default gateway from start() on (node/port_mapping.h) and registers it as
  // a candidate. Call after enable_dnssd.
  void enable_port_mapping(const Config& config);

  // Begins waiting for packets and timers (and, with [Discovery], asks the
  // registry about every peer at once).
  void start();
  // Cancels all waits; run() returns once handlers drain.
  void stop();
  // Called when the TUN device reports it is gone (deleted by `ip link del`).
  void on_fatal(std::function<void(const std::string&)> handler) { on_fatal_ = std::move(handler); }

  // Keeps the UDP socket (also one opened later by set_listen_port) off
  // GSO/GRO: for comparisons, and to exercise the plain path in tests.
  void disable_udp_offloads();
  // The offloads in use, "tun-csum tun-tso4 ... udp-gso udp-gro" or "none".
  std::string offload_summary() const;
  // Threads that share encryption and decryption with the event loop (0
  // before start()).
  size_t crypto_workers() const { return workers_ ? workers_->workers() : 0; }
  // Seals and opens each thread ran (index 0: the event loop, then each
  // worker); nullptr before start(). Without workers the device seals each
  // message as it builds it, uncounted: only opens are counted then.
  const CryptoTally* crypto_tally() const { return crypto_tally_.get(); }
  // How many threads start() gives the crypto (default: WorkerPool's choice).
  void set_crypto_workers(size_t n) { crypto_workers_wanted_ = n; }

  // Re-arms the protocol timer after the device's state changed from outside
  // the packet handlers (config, control socket).
  void reschedule();
  // What the config file asks for that only a restart applies (a reload
  // left it pending, service/reloader.h): shown by `status`.
  void set_restart_needed(std::vector<std::string> pending) { restart_needed_ = std::move(pending); }
  Now now() const { return {BootClock::now(), std::chrono::system_clock::now()}; }

  // DeviceControl
  DeviceSnapshot snapshot() const override;
  void set_private_key(const PrivateKey& key) override;
  std::error_code set_listen_port(uint16_t port) override;
  std::error_code set_fwmark(uint32_t mark) override;
  void remove_all_peers() override;
  bool has_peer(const PublicKey& key) const override;
  bool add_peer(const PublicKey& key) override;
  void remove_peer(const PublicKey& key) override;
  void set_peer_preshared_key(const PublicKey& key, const PresharedKey& psk) override;
  void set_peer_endpoint(const PublicKey& key, const Endpoint& endpoint) override;
  void set_peer_config_endpoint(const PublicKey& key, const Endpoint& endpoint) override;
  void set_peer_persistent_keepalive(const PublicKey& key, uint16_t seconds) override;
  void clear_peer_allowed_ips(const PublicKey& key) override;
  void add_peer_allowed_ip(const PublicKey& key, const IpPrefix& prefix) override;
  void remove_peer_allowed_ip(const PublicKey& key, const IpPrefix& prefix) override;
  void peers_reconfigured(const std::vector<std::pair<PublicKey, std::string>>& names) override;

 private:
  // DeviceOutput: queue into batches, flushed after each input batch.
  void send_datagram(const Endpoint& to, ByteView datagram) override;
  void write_tun(ByteView ip_packet) override;
  MutableByteView reserve_datagram(const Endpoint& to, size_t size) override;
  void cancel_datagram() override;
  void send_hop_limited(const Endpoint& to, ByteView datagram, uint8_t hops) override;
  // PacketSink: one IP packet read from the TUN (a segment of a super-packet).
  void packet(MutableByteView ip_packet) override;

  void wait_udp();
  void wait_tun();
  void on_udp_readable();
  void on_tun_readable();
  // Runs the batch's opens on the worker pool.
  void open_in_parallel(size_t count);
  void on_timer();
  void flush();
  void fatal(const std::string& why);

  boost::asio::io_context& io_;
  SystemRandom rng_;
  std::unique_ptr<TunPort> tun_;
  std::unique_ptr<DatagramPort> udp_;
  PortOpener open_port_;
  Device device_;
  uint32_t fwmark_ = 0;
  // Where this node runs (control/network_namespace.h), read once at start.
  std::string network_namespace_;

  boost::asio::posix::stream_descriptor tun_watch_;
  std::unique_ptr<boost::asio::posix::stream_descriptor> udp_watch_;
  boost::asio::steady_timer timer_;
  std::optional<Instant> armed_deadline_;

  DatagramBatch udp_in_;
  OutgoingDatagrams udp_out_;
  bool udp_offloads_ = true;
  TunIo tun_io_;
  // Multi-core crypto: seals queued by the device while a TUN batch is read
  // (in udp_out_), opens prepared for a received batch (plaintext into
  // udp_plain_, laid out like udp_in_), all run fork-join on workers_ (made
  // in start(), after privileges were dropped).
  std::unique_ptr<WorkerPool> workers_;
  std::unique_ptr<CryptoTally> crypto_tally_;
  std::optional<size_t> crypto_workers_wanted_;
  struct Incoming {
    ByteView datagram;
    uint32_t slot;
    int32_t job;  // index into open_jobs_, or -1
  };
  std::vector<Incoming> incoming_;
  std::vector<OpenJob> open_jobs_;
  LazyBuffer udp_plain_;
  Now batch_now_{};  // the moment of the TUN batch being read
  bool stopped_ = false;
  std::function<void(const std::string&)> on_fatal_;
  std::vector<std::string> restart_needed_;
  std::unique_ptr<DnssdRoles> dnssd_;  // with [Registry] or [Discovery]
  std::unique_ptr<DnsTcpServer> dns_tcp_;  // with [Registry]: in-tunnel DNS over TCP
  std::unique_ptr<DnsTcpServer> transfer_tcp_;  // with [Registry] Secondary: zone transfers
  // With [Discovery] LocalCandidates: this host's addresses, re-read when
  // rtnetlink says they changed, registered by discovery (DESIGN.md §9).
  void watch_local_addresses();
  void publish_local_addresses();
  void wait_address_change();
  bool tunnel_addresses_watched_ = false;  // LocalCandidates = yes (host addresses: always)
  std::unique_ptr<boost::asio::posix::stream_descriptor> address_watch_;
  std::vector<IpAddress> tunnel_addresses_;
  std::unique_ptr<PortMapping> port_mapping_;
  std::string port_mapping_off_;  // why there is none, for status ("" without a config)
};

}  // namespace wgp
