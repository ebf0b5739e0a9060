// Node as DeviceControl: what `wg set` / `wg show` and the config loader do
// to a running interface. Every change re-arms the protocol timer, since it
// may have started a handshake or a keepalive.
#include <algorithm>

#include "crypto/keys.h"
#include "discovery/dnssd_roles.h"
#include "node/dns_tcp_server.h"
#include "node/node.h"
#include "node/port_mapping.h"
#include "node/zone_transfer_listener.h"
#include "service/reloader.h"
#include "util/log.h"

namespace wgp {

namespace {

// Direct or relayed (through another peer that shares the endpoint, see
// Peer::relay_via) when the endpoint is confirmed by an authenticated packet
// from there and a session can still carry data; none otherwise.
PeerPath path_of(const Peer& peer, Instant now) {
  const Keypair* current = peer.keypairs.current();
  bool live = current && current->usable_for_receiving(now);
  if (!peer.endpoint || !peer.endpoint_confirmed || !live) return PeerPath::kNone;
  return peer.relay_via ? PeerPath::kRelay : PeerPath::kDirect;
}

// "1200 310 305 298": one count per thread, the event loop's first.
std::string per_thread(const std::vector<uint64_t>& counts) {
  std::string out;
  for (uint64_t n : counts) out += (out.empty() ? "" : " ") + std::to_string(n);
  return out;
}

}  // namespace

DeviceSnapshot Node::snapshot() const {
  DeviceSnapshot s;
  Instant mono = BootClock::now();
  s.interface_name = tun_->name();
  if (device_.identity().has_private_key) s.private_key = device_.identity().private_key.clone();
  s.listen_port = udp_->port();
  s.fwmark = fwmark_;
  for (const Peer& peer : device_.peers()) {
    PeerSnapshot p;
    p.public_key = peer.public_key();
    p.preshared_key = peer.keys.preshared_key.clone();
    p.endpoint = peer.endpoint;
    p.last_handshake = peer.last_handshake;
    p.rx_bytes = peer.rx_bytes;
    p.tx_bytes = peer.tx_bytes;
    p.persistent_keepalive = peer.timers.persistent_keepalive();
    p.allowed_ips = device_.allowed_ips().prefixes_of(&peer);
    p.path = path_of(peer, mono);
    std::string path(peer_path_name(p.path));
    if (p.path == PeerPath::kRelay) path += " via " + key_to_base64(*peer.relay_via);
    p.extra.emplace_back("path", path);
    if (auto silent = device_.silent_for(peer, mono); silent && p.path != PeerPath::kNone)
      p.extra.emplace_back(
          std::string(kPathNoReplyField),
          std::to_string(std::chrono::duration_cast<std::chrono::seconds>(*silent).count()));
    p.extra.emplace_back("endpoint_source",
                         std::string(endpoint_source_name(peer.endpoint_source)));
    if (uint64_t relayed = device_.relayed_by(peer))
      p.extra.emplace_back("relayed_bytes", std::to_string(relayed));
    if (!peer.offered.empty()) {
      std::string all;
      for (const Endpoint& e : peer.offered) all += (all.empty() ? "" : ", ") + e.to_string();
      p.extra.emplace_back("candidates", all);
    }
    if (!peer.candidates.empty()) {
      std::string tried;
      for (const Peer::Candidate& c : peer.candidates)
        tried += (tried.empty() ? "" : ", ") + c.address.to_string();
      p.extra.emplace_back("trying", tried);
    }
    if (dnssd_) dnssd_->add_peer_status(peer, p.extra);
    s.peers.push_back(std::move(p));
  }
  for (size_t r = 0; r < size_t(DropReason::kCount); ++r)
    s.drop_counts.emplace_back(drop_reason_name(DropReason(r)), device_.drops()[r]);
  for (size_t r = 0; r < size_t(DropReason::kCount); ++r)
    if (uint64_t n = device_.drops()[r])
      s.extra.emplace_back("dropped_" + std::string(drop_reason_name(DropReason(r))),
                           std::to_string(n));
  if (dnssd_) dnssd_->add_status(s.extra);
  if (port_mapping_)
    port_mapping_->add_status(s.extra);
  else if (!port_mapping_off_.empty())
    s.extra.insert(s.extra.end(),
                   {{"port_mapping", "off"}, {"port_mapping_reason", port_mapping_off_}});
  service::add_restart_needed(s.extra, restart_needed_);
  if (udp_out_.send_errors())
    s.extra.emplace_back("udp_send_errors", std::to_string(udp_out_.send_errors()));
  if (tun_io_.write_errors())
    s.extra.emplace_back("tun_write_errors", std::to_string(tun_io_.write_errors()));
  if (tun_io_.bad_frames())
    s.extra.emplace_back("tun_bad_frames", std::to_string(tun_io_.bad_frames()));
  s.extra.emplace_back("offloads", offload_summary());
  if (!network_namespace_.empty())
    s.extra.emplace_back(std::string(kNetworkNamespaceField), network_namespace_);
  if (workers_) s.extra.emplace_back("crypto_workers", std::to_string(crypto_workers()));
  if (workers_ && workers_->workers() > 0) {  // with none, all crypto is on the event loop
    s.extra.emplace_back("crypto_seals_per_thread", per_thread(crypto_tally_->seals()));
    s.extra.emplace_back("crypto_opens_per_thread", per_thread(crypto_tally_->opens()));
  }
  if (tun_io_.offloads()) {
    s.extra.emplace_back("tun_frames_split", std::to_string(tun_io_.frames_split()));
    s.extra.emplace_back("tun_packets_coalesced", std::to_string(tun_io_.packets_coalesced()));
  }
  return s;
}

std::string Node::offload_summary() const {
  std::string out;
  auto add = [&](const char* word) {
    if (!out.empty()) out += ' ';
    out += word;
  };
  for (const char* name : tun_->offload_names()) add(name);
  if (udp_->gso()) add("udp-gso");
  if (udp_->gro()) add("udp-gro");
  return out.empty() ? "none" : out;
}

void Node::set_private_key(const PrivateKey& key) {
  device_.set_private_key(key);
  reschedule();
}

std::error_code Node::set_listen_port(uint16_t port) {
  if (port != 0 && port == udp_->port()) return {};
  try {
    std::unique_ptr<DatagramPort> fresh = open_port_(port);
    if (!udp_offloads_) fresh->disable_offloads();
    if (fwmark_) {
      if (auto ec = fresh->set_fwmark(fwmark_)) return ec;
    }
    // Zone transfers listen on the ListenPort number too (DESIGN.md §10):
    // they move with it, or neither moves.
    std::unique_ptr<DnsTcpServer> transfers;
    if (transfer_tcp_) {
      try {
        transfers = open_zone_transfer_listener(io_, *dnssd_->publisher(), fresh->port(),
                                                [this] { return now(); });
      } catch (const std::runtime_error& e) {
        Log::info("warning: ", e.what());
        return std::make_error_code(std::errc::address_in_use);
      }
    }
    flush();  // what is queued goes out of the old socket
    if (transfers) {
      transfer_tcp_->shutdown();
      transfer_tcp_ = std::move(transfers);
    }
    boost::system::error_code ignored;
    udp_watch_->cancel(ignored);
    (void)udp_watch_->release();
    udp_ = std::move(fresh);
    udp_out_.set_port(udp_.get());
    udp_watch_ = std::make_unique<boost::asio::posix::stream_descriptor>(io_, udp_->fd());
    wait_udp();
    publish_local_addresses();  // our candidates answer at the new port
    if (port_mapping_) port_mapping_->set_listen_port(udp_->port());
    if (dnssd_) dnssd_->set_listen_port(udp_->port());
    flush();
    return {};
  } catch (const std::system_error& e) {
    return e.code();
  }
}

std::error_code Node::set_fwmark(uint32_t mark) {
  // Unchanged is a no-op, as in wireguard-go: clients such as wgsd-client
  // re-send the mark with every change, also to a node that dropped the
  // privilege (CAP_NET_ADMIN) to set it.
  if (mark == fwmark_) return {};
  if (auto ec = udp_->set_fwmark(mark)) return ec;
  fwmark_ = mark;
  return {};
}

void Node::remove_all_peers() {
  device_.remove_all_peers();
  reschedule();
}

bool Node::has_peer(const PublicKey& key) const { return device_.find_peer(key) != nullptr; }

bool Node::add_peer(const PublicKey& key) { return device_.add_peer(key) != nullptr; }

void Node::remove_peer(const PublicKey& key) {
  device_.remove_peer(device_.find_peer(key));
  reschedule();
}

void Node::set_peer_preshared_key(const PublicKey& key, const PresharedKey& psk) {
  if (Peer* p = device_.find_peer(key)) device_.set_preshared_key(*p, psk);
}

void Node::set_peer_endpoint(const PublicKey& key, const Endpoint& endpoint) {
  if (Peer* p = device_.find_peer(key))
    device_.set_endpoint(*p, endpoint, EndpointSource::kControl);
}

void Node::set_peer_config_endpoint(const PublicKey& key, const Endpoint& endpoint) {
  if (Peer* p = device_.find_peer(key)) device_.set_endpoint(*p, endpoint, EndpointSource::kConfig);
}

void Node::set_peer_persistent_keepalive(const PublicKey& key, uint16_t seconds) {
  if (Peer* p = device_.find_peer(key)) {
    device_.set_persistent_keepalive(*p, seconds, now());
    flush();
    reschedule();
  }
}

void Node::clear_peer_allowed_ips(const PublicKey& key) {
  if (Peer* p = device_.find_peer(key)) {
    for (const IpPrefix& prefix : device_.allowed_ips().prefixes_of(p))
      device_.allowed_ips().remove(prefix, p);
    device_.note_allowed_ips_changed(*p);
  }
}

void Node::add_peer_allowed_ip(const PublicKey& key, const IpPrefix& prefix) {
  if (Peer* p = device_.find_peer(key)) {
    device_.allowed_ips().insert(prefix, p);
    device_.note_allowed_ips_changed(*p);
  }
}

void Node::remove_peer_allowed_ip(const PublicKey& key, const IpPrefix& prefix) {
  if (Peer* p = device_.find_peer(key)) {
    device_.allowed_ips().remove(prefix, p);
    device_.note_allowed_ips_changed(*p);
  }
}

void Node::peers_reconfigured(const std::vector<std::pair<PublicKey, std::string>>& names) {
  if (!dnssd_) return;
  dnssd_->peers_reconfigured(names, now());
  flush();
  reschedule();
}

}  // namespace wgp
