// An in-memory DeviceControl for control-plane tests: a list of peers and a
// few device fields, with the same rules the real device follows (own public
// key refused as a peer, an allowed IP belongs to one peer only, a failed
// port or fwmark change keeps the old value). Tests can make ports "busy"
// and fwmarks fail, and can read back every field.
#pragma once

#include <algorithm>
#include <set>
#include <system_error>

#include "control/device_control.h"
#include "crypto/x25519.h"

namespace wgp::testing {

struct FakePeer {
  PublicKey public_key{};
  PresharedKey preshared_key;
  std::optional<Endpoint> endpoint;
  std::optional<WallTime> last_handshake;
  uint64_t rx_bytes = 0;
  uint64_t tx_bytes = 0;
  uint16_t persistent_keepalive = 0;
  std::vector<IpPrefix> allowed_ips;
  ExtraFields extra;
  int keepalives_sent = 0;  // turning keepalive on (0 -> n) sends one at once
};

class FakeDevice : public DeviceControl {
 public:
  explicit FakeDevice(std::string name = "wgtest0") : name_(std::move(name)) {}

  DeviceSnapshot snapshot() const override {
    DeviceSnapshot s;
    s.interface_name = name_;
    if (private_key_) s.private_key = private_key_->clone();
    s.listen_port = listen_port_;
    s.fwmark = fwmark_;
    s.extra = extra_;
    for (const auto& p : peers_) {
      PeerSnapshot& out = s.peers.emplace_back();
      out.public_key = p.public_key;
      out.preshared_key = p.preshared_key.clone();
      out.endpoint = p.endpoint;
      out.last_handshake = p.last_handshake;
      out.rx_bytes = p.rx_bytes;
      out.tx_bytes = p.tx_bytes;
      out.persistent_keepalive = p.persistent_keepalive;
      out.allowed_ips = p.allowed_ips;
      out.extra = p.extra;
    }
    return s;
  }

  void set_private_key(const PrivateKey& key) override {
    ++private_key_sets_;
    if (key.is_zero()) {
      private_key_.reset();
      own_public_.reset();
      return;
    }
    private_key_ = key.clone();
    own_public_ = derive_public_key(key);
    // As in wg-go, a peer that now has our own public key is removed.
    remove_peer(*own_public_);
  }

  std::error_code set_listen_port(uint16_t port) override {
    if (busy_ports.count(port)) return std::make_error_code(std::errc::address_in_use);
    listen_port_ = port == 0 ? kRandomPort : port;
    return {};
  }

  std::error_code set_fwmark(uint32_t mark) override {
    if (fail_fwmark) return std::make_error_code(std::errc::operation_not_permitted);
    fwmark_ = mark;
    return {};
  }

  void remove_all_peers() override { peers_.clear(); }
  bool has_peer(const PublicKey& key) const override { return find(key) != nullptr; }

  bool add_peer(const PublicKey& key) override {
    if (own_public_ && *own_public_ == key) return false;
    if (!find(key)) peers_.emplace_back().public_key = key;
    return true;
  }

  void remove_peer(const PublicKey& key) override {
    std::erase_if(peers_, [&](const FakePeer& p) { return p.public_key == key; });
  }

  void set_peer_preshared_key(const PublicKey& key, const PresharedKey& psk) override {
    if (auto* p = find(key)) p->preshared_key = psk.clone();
  }
  void set_peer_endpoint(const PublicKey& key, const Endpoint& endpoint) override {
    if (auto* p = find(key)) p->endpoint = endpoint;
  }
  void set_peer_persistent_keepalive(const PublicKey& key, uint16_t seconds) override {
    auto* p = find(key);
    if (!p) return;
    if (p->persistent_keepalive == 0 && seconds != 0) ++p->keepalives_sent;
    p->persistent_keepalive = seconds;
  }
  void clear_peer_allowed_ips(const PublicKey& key) override {
    if (auto* p = find(key)) p->allowed_ips.clear();
  }
  void add_peer_allowed_ip(const PublicKey& key, const IpPrefix& prefix) override {
    auto* p = find(key);
    if (!p) return;
    // Like the allowed-IPs trie: a prefix routes to one peer only.
    for (auto& other : peers_) std::erase(other.allowed_ips, prefix);
    p->allowed_ips.push_back(prefix);
  }
  void remove_peer_allowed_ip(const PublicKey& key, const IpPrefix& prefix) override {
    if (auto* p = find(key)) std::erase(p->allowed_ips, prefix);
  }

  // Test access.
  FakePeer* find(const PublicKey& key) {
    for (auto& p : peers_) {
      if (p.public_key == key) return &p;
    }
    return nullptr;
  }
  const FakePeer* find(const PublicKey& key) const {
    return const_cast<FakeDevice*>(this)->find(key);
  }
  std::vector<FakePeer>& peers() { return peers_; }
  const std::optional<PrivateKey>& private_key() const { return private_key_; }
  uint16_t listen_port() const { return listen_port_; }
  uint32_t fwmark() const { return fwmark_; }
  int private_key_sets() const { return private_key_sets_; }
  ExtraFields& extra() { return extra_; }

  static constexpr uint16_t kRandomPort = 40000;  // what "port 0" binds to here
  std::set<uint16_t> busy_ports;
  bool fail_fwmark = false;

 private:
  std::string name_;
  std::optional<PrivateKey> private_key_;
  std::optional<PublicKey> own_public_;
  uint16_t listen_port_ = 0;
  uint32_t fwmark_ = 0;
  std::vector<FakePeer> peers_;
  ExtraFields extra_;
  int private_key_sets_ = 0;
};

}  // namespace wgp::testing
