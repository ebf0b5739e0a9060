// The WireGuard device as pure protocol code: it is fed datagrams from the
// UDP socket, IP packets from the TUN and the passing of time, and answers
// through DeviceOutput (datagrams to send, packets to write to the TUN). It
// never touches a socket or reads a clock, so two devices can be wired
// together in a test and run through hours of protocol in microseconds.
//
// Single-threaded: every call must come from the same thread.
#pragma once

#include <cstring>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "crypto/random.h"
#include "net/ip.h"
#include "noise/cookie.h"
#include "util/lazy_buffer.h"
#include "wg/allowed_ips.h"
#include "wg/crypto_jobs.h"
#include "wg/drop_reason.h"
#include "wg/index_table.h"
#include "wg/peer.h"
#include "wg/ratelimiter.h"
#include "wg/relay.h"

namespace wgp {

// The I/O the device asks for. Implementations may queue and send in batches;
// the bytes are only valid during the call.
class DeviceOutput {
 public:
  virtual ~DeviceOutput() = default;
  virtual void send_datagram(const Endpoint& to, ByteView datagram) = 0;
  virtual void write_tun(ByteView ip_packet) = 0;
  // Lends `size` bytes of the outgoing batch for a datagram to `to`, so the
  // device encrypts straight into it instead of building it elsewhere and
  // having send_datagram() copy it. The datagram counts as sent unless
  // cancel_datagram() follows before any other call. An empty view means
  // "build it yourself" (the default).
  virtual MutableByteView reserve_datagram(const Endpoint& /*to*/, size_t /*size*/) { return {}; }
  virtual void cancel_datagram() {}
  // Sends `datagram` with its IP TTL (hop limit) set to `hops`, so that it
  // dies on the way. An output that cannot limit hops sends nothing: a
  // datagram that went all the way would do harm (see Device::send_opener).
  virtual void send_hop_limited(const Endpoint& /*to*/, ByteView /*datagram*/, uint8_t /*hops*/) {}
};

// The two clocks at one moment: monotonic for protocol timing, wall for
// TAI64N and "latest handshake".
struct Now {
  Instant mono;
  WallTime wall;
};

// What the device tells the features built around it (DNS-SD registry and
// discovery). All methods have do-nothing defaults.
class DeviceObserver {
 public:
  virtual ~DeviceObserver() = default;
  // A decrypted, source-checked IP packet from `peer`, before it reaches the
  // TUN. Return true to consume it (in-tunnel DNS is answered in-process).
  virtual bool intercept_inner_packet(Peer&, ByteView /*ip_packet*/, Now) { return false; }
  // A handshake initiation to `peer` went unanswered (retransmit timer fired).
  virtual void on_handshake_unanswered(Peer&, Now) {}
  // A handshake with `peer` completed (either side initiated it).
  virtual void on_handshake_complete(Peer&, Now) {}
  // `peer` is now reached directly, or through another relay (relay_via).
  virtual void on_path_changed(Peer&, Now) {}
  // A packet for `peer` came from the TUN and no session can carry it. True:
  // someone finds the peer first (discovery: it has no address yet, or its
  // path went stale, so the NAT in front of it has most likely forgotten
  // us and a handshake sent there now would be lost, or worse), and the
  // packet waits for the handshake that search starts; false: the device
  // starts one itself (or drops the packet when it has no address at all).
  virtual bool on_session_wanted(Peer&, Now) { return false; }
  // An authenticated packet came from elsewhere than `peer`'s confirmed
  // endpoint, which followed it (its NAT gave it a new mapping, or it roamed).
  virtual void on_endpoint_moved(Peer&, Now) {}
};

class Device {
 public:
  Device(Random& rng, DeviceOutput& out);
  ~Device();
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;

  // --- configuration -------------------------------------------------------
  // An all-zero key removes the key. Rebinds every peer (§5.4 last bullet).
  void set_private_key(const PrivateKey& key);
  const noise::LocalIdentity& identity() const { return identity_; }
  // Inner MTU of the TUN, used to cap padding.
  void set_mtu(size_t mtu) { mtu_ = mtu; }

  // nullptr when `key` is our own public key.
  Peer* add_peer(const PublicKey& key);
  Peer* find_peer(const PublicKey& key);
  const Peer* find_peer(const PublicKey& key) const;
  void remove_peer(Peer* peer);
  void remove_all_peers();
  const std::list<Peer>& peers() const { return peers_; }
  std::list<Peer>& peers() { return peers_; }

  void set_preshared_key(Peer& peer, const PresharedKey& psk);
  // An endpoint the administrator gave (config, `wg set`): used as is.
  void set_endpoint(Peer& peer, const Endpoint& endpoint, EndpointSource source);

  // The one rule for addresses learnt from elsewhere (discovery): `address`
  // is only a candidate. It becomes the endpoint when, and only when, an
  // authenticated packet arrives from it (roaming, PROTOCOL.md §4.6), so a
  // false candidate can never take a working tunnel away. A static endpoint
  // (config) is never replaced. An address no peer can own (loopback,
  // multicast, broadcast, unspecified) or one of ours gets nothing.
  // Otherwise the address gets one initiation, a probe, unless one went
  // there less than REKEY_TIMEOUT ago; the handshake's retries go to the
  // endpoint and relays only, so whatever a peer registers, an address
  // gets at most one initiation per discovery round from us. The probe is
  // the initiation in flight when there is one (an answer never restarts a
  // handshake younger than REKEY_TIMEOUT), else a new one at once, the 5 s
  // per-peer limit notwithstanding.
  enum class CandidateOutcome {
    kStatic,    // the endpoint is from the config: nothing done
    kEndpoint,  // the address is the confirmed endpoint already
    kPending,   // tried less than REKEY_TIMEOUT ago: nothing more yet
    kTried,     // an initiation went there
  };
  CandidateOutcome try_candidate(Peer& peer, const Endpoint& address, Now now);
  // The same for a relay: `relay` (a peer of ours that relays, see
  // wg/relay.h) forwards to `peer`; its endpoint is the candidate address.
  CandidateOutcome try_relay(Peer& peer, const Peer& relay, Now now);
  // Several at once (tried in parallel: one initiation goes to all that are
  // due; a peer takes one initiation per 20 ms from us, so one each would
  // lose all but the first). kTried when an initiation went out.
  struct CandidateAddress {
    Endpoint address;
    std::optional<PublicKey> relay;  // see Peer::Candidate
  };
  CandidateOutcome try_candidates(Peer& peer, std::span<const CandidateAddress> addresses, Now now);
  // Discovery's answer places `peer` at `addresses` (relays left out), its
  // probe follows a moment later (try_candidates does this too): status
  // shows them as offered, and the first authenticated packet from one of
  // them makes a discovered endpoint, even when the peer's own probe, sent
  // on the registry's word too, arrives before ours.
  void offer_candidates(Peer& peer, std::span<const CandidateAddress> addresses);
  // This host's own addresses (net/local_addresses.h host_addresses):
  // never a candidate. Call again when they change.
  void set_own_addresses(std::vector<IpAddress> addresses);
  bool is_own_address(const IpAddress& address) const;

  // Tells caches of the peer table (the registry's records, whose TXT lists
  // allowed IPs) that `peer`'s allowed IPs changed: the node writes
  // allowed_ips() for `wg set` and reloads.
  void note_allowed_ips_changed(const Peer& peer) { note_endpoint_change(peer); }

  // --- relaying for others (a registry with Relay = yes) -------------------
  // Turns forwarding on (wg/relay.h); off by default.
  void enable_relay() {
    if (!relay_) relay_.emplace();
  }
  bool relaying() const { return relay_.has_value(); }
  // Lets `a` and `b` reach each other through us for a while (both ways).
  void permit_relay(const PublicKey& a, const PublicKey& b, Instant now) {
    if (relay_) relay_->permit(a, b, now);
  }
  // Bytes forwarded on behalf of `peer`.
  uint64_t relayed_by(const Peer& peer) const { return peer.relayed_bytes; }
  // MACs computed to find whom relayed initiations were for (bounded per
  // datagram: Relay::kPartnersTried).
  uint64_t relay_mac_checks() const { return relay_mac_checks_; }
  const Relay* relay() const { return relay_ ? &*relay_ : nullptr; }
  // True while the peer's session carries traffic: a current keypair that
  // may send, and an authenticated packet within KEEPALIVE + REKEY_TIMEOUT
  // (15 s, after which WireGuard itself would suspect the session dead).
  bool has_live_session(const Peer& peer, Instant now) const;
  // Weaker: live, or a current keypair that may send and no handshake
  // waiting for an answer. An idle tunnel stays usable for its keypair's
  // whole life (it needs no traffic to work), so discovery does not re-ask
  // about it; one that went quiet while a handshake waits is in doubt.
  bool has_usable_session(const Peer& peer, Instant now) const;
  // How long `peer` has left unanswered what we sent it (data, or a
  // handshake initiation), once that is longer than a healthy peer ever
  // takes: it acknowledges data within KEEPALIVE_TIMEOUT (a keepalive if it
  // has nothing to send), plus a round trip. nullopt: the path answers, or
  // is idle (nothing sent, nothing awaited).
  std::optional<Duration> silent_for(const Peer& peer, Instant now) const;
  // Turning it on (0 → n) sends a keepalive at once.
  void set_persistent_keepalive(Peer& peer, uint16_t seconds, Now now);
  AllowedIps<Peer>& allowed_ips() { return allowed_ips_; }
  const AllowedIps<Peer>& allowed_ips() const { return allowed_ips_; }

  // --- traffic -------------------------------------------------------------
  // One UDP payload from `from`. Returns why it was dropped, if it was.
  // `opened`: a decryption of this datagram already run by prepare_open()'s
  // caller; used only if its keypair is still the one the index names.
  std::optional<DropReason> receive_datagram(ByteView datagram, const Endpoint& from, Now now,
                                             const OpenJob* opened = nullptr);
  // For batch decryption on several threads: when `datagram` is a transport
  // message whose index names a keypair that may still receive, fills `job`
  // to decrypt it into `plaintext` (at least datagram.size() - 32 bytes) and
  // returns true. Changes nothing.
  bool prepare_open(ByteView datagram, MutableByteView plaintext, Now now, OpenJob& job) const;
  // With a queue, data messages are built in lent output memory and their
  // sealing is queued there instead of done at once (see wg/crypto_jobs.h);
  // nullptr returns to sealing at once. The caller runs the jobs before it
  // sends the datagrams, and before any other call that could drop keys.
  void defer_seals(std::vector<SealJob>* queue) { seal_queue_ = queue; }
  // One IP packet read from the TUN.
  std::optional<DropReason> send_packet(ByteView ip_packet, Now now);
  // Starts a handshake with `peer` now (rate limited to one per 5 s).
  void initiate_handshake(Peer& peer, Now now) { send_initiation(peer, false, now); }
  void send_keepalive(Peer& peer, Now now);
  // Opens our NAT towards `to` without reaching it: an empty datagram that
  // goes kOpenerHops hops, past our NAT (which then maps our port to `to`
  // and admits what comes back from there) but not as far as the NAT in
  // front of `to`. A NAT without an input filter that receives a packet
  // before its host sent anything to the sender keeps a connection-tracking
  // entry for it, and maps the host's own packets to the sender to another
  // port, which the sender's NAT drops: a punch must not start that way.
  static constexpr uint8_t kOpenerHops = 2;
  void send_opener(const Endpoint& to) { out_.send_hop_limited(to, {}, kOpenerHops); }
  // Sends an IP packet to `peer` through the tunnel, regardless of allowed
  // IPs (staged until a session exists).
  void send_to_peer(Peer& peer, ByteView ip_packet, Now now);

  void set_observer(DeviceObserver* observer) { observer_ = observer; }
  DeviceObserver* observer() const { return observer_; }
  uint64_t relayed_total() const { return relayed_total_; }
  // Bumped whenever a peer's endpoint, its confirmation, or the peer set
  // changes: caches of the peer table compare it.
  uint64_t endpoint_generation() const { return endpoint_generation_; }
  // The peers whose endpoint changed (or that were removed, or whose
  // candidates changed) after generation `since`, so that a cache of the
  // peer table (the registry's published records) updates those alone:
  // fn(key) for each, possibly more than once. False, and nothing called,
  // when the log of the last kEndpointLog changes no longer reaches back to
  // `since`: then the caller looks at every peer.
  static constexpr size_t kEndpointLog = 4096;
  template <typename Fn>
  bool endpoint_changes_since(uint64_t since, Fn&& fn) const {
    if (since > endpoint_generation_ || endpoint_generation_ - since > kEndpointLog) return false;
    for (uint64_t g = since + 1; g <= endpoint_generation_; ++g)
      fn(endpoint_log_[g % kEndpointLog]);
    return true;
  }

  // --- time ----------------------------------------------------------------
  // When run_timers() should next be called: never later than the earliest
  // armed timer, possibly earlier (then run_timers() finds nothing due and
  // the answer becomes exact). O(1): the event loop asks after every batch.
  std::optional<Instant> next_deadline() const { return deadline_bound_; }
  void run_timers(Now now);

  const DropCounters& drops() const { return drops_; }
  // Counts a drop the caller decided on (e.g. a TUN frame it could not parse).
  void count_drop(DropReason r) { drop(r); }
  size_t index_count() const { return indices_.size(); }
  // Handshake messages are answered with cookies while this holds.
  bool under_load(Instant now) const;

 private:
  // Whether a direct address may be offered and probed at all.
  bool acceptable_direct(const CandidateAddress& a) const;
  // receive side (device_receive.cpp)
  std::optional<DropReason> receive_initiation(ByteView msg, const Endpoint& from, Now now);
  std::optional<DropReason> receive_response(ByteView msg, const Endpoint& from, Now now);
  std::optional<DropReason> receive_cookie_reply(ByteView msg, Now now);
  std::optional<DropReason> receive_transport(ByteView msg, const Endpoint& from, Now now,
                                              const OpenJob* opened);
  std::optional<DropReason> check_handshake_load(ByteView msg, uint32_t sender_index,
                                                 const Endpoint& from, Now now);
  // Counts one handshake message towards the load estimate; true when we
  // are under load now.
  bool note_handshake(Instant now);
  void on_authenticated_receive(Peer& peer, const Endpoint& from, size_t bytes, Now now);
  // Forwards `msg` for two other peers when it is theirs (device_relay.cpp);
  // true when it was relayed, or dropped (then `dropped` says why) as relay
  // traffic or as an initiation for nobody.
  bool relay_datagram(ByteView msg, const Endpoint& from, Now now,
                      std::optional<DropReason>& dropped);
  bool relay_initiation(ByteView msg, const Endpoint& from, Now now,
                        std::optional<DropReason>& dropped);
  void forward(Peer& sender, const Peer& target, ByteView msg);
  // The peer whose confirmed endpoint is `at`, other than `except`.
  Peer* peer_at(const Endpoint& at, const Peer* except) const;
  // Moves `peer`'s endpoint, keeping the endpoint index and relay_via right.
  void move_endpoint(Peer& peer, const std::optional<Endpoint>& to);

  // send side (device_send.cpp)
  void send_initiation(Peer& peer, bool is_retry, Now now);
  void send_response(Peer& peer, Now now);
  // Encrypts `payload` (may be empty: a keepalive) with the current keypair.
  // False when no usable keypair or endpoint.
  bool encrypt_and_send(Peer& peer, ByteView payload, Now now);
  size_t padding_for(size_t length) const;
  void stage(Peer& peer, ByteView packet);
  void flush_staged(Peer& peer, Now now);
  void transmit(Peer& peer, ByteView datagram);
  // A handshake initiation: to the endpoint, the relays being tried and the
  // `probes` (candidates tried now), or to the probes alone.
  void transmit_initiation(Peer& peer, ByteView datagram, Instant now,
                           std::span<const Endpoint> probes = {}, bool probes_only = false);
  // Sends a fresh initiation now, whatever the per-peer rate limit says
  // (see transmit_initiation for where).
  void send_initiation_now(Peer& peer, Now now, std::span<const Endpoint> probes = {},
                           bool probes_only = false);
  void keep_key_fresh_after_send(Peer& peer, Now now);

  // timers (device_timers.cpp)
  void on_timer(Peer& peer, PeerTimer timer, Now now);
  void zero_key_material(Peer& peer);
  void release_crossed_index(Peer& peer);

  void drop(DropReason r) { ++drops_[size_t(r)]; }
  // Something a registry publishes about `peer` changed (endpoint_changes_since).
  void note_endpoint_change(const Peer& peer) {
    if (endpoint_log_.empty()) endpoint_log_.resize(kEndpointLog);  // 128 KiB, when first needed
    endpoint_log_[++endpoint_generation_ % kEndpointLog] = peer.public_key();
  }
  Peer* find_peer_mut(const PublicKey& key) const;

  Random& rng_;
  DeviceOutput& out_;
  noise::LocalIdentity identity_;
  noise::CookieChecker cookie_checker_;
  std::list<Peer> peers_;
  // Public key → peer, so an initiation finds its peer in O(1) among many.
  struct KeyHash {
    size_t operator()(const PublicKey& k) const {
      size_t h;  // keys are uniformly random: any 8 bytes are a fine hash
      std::memcpy(&h, k.data(), sizeof h);
      return h;
    }
  };
  std::unordered_map<PublicKey, Peer*, KeyHash> peers_by_key_;
  AllowedIps<Peer> allowed_ips_;
  IndexTable indices_;
  Ratelimiter ratelimiter_;
  DropCounters drops_{};
  DeviceObserver* observer_ = nullptr;
  uint64_t endpoint_generation_ = 0;
  std::vector<PublicKey> endpoint_log_;  // by generation, modulo kEndpointLog
  // A lower bound of every peer's timer deadlines (see PeerTimers): lowered
  // by each arm(), made exact by run_timers().
  std::optional<Instant> deadline_bound_;
  size_t mtu_ = 1420;

  // Load estimate: handshake messages seen in the current window.
  Instant load_window_start_{};
  uint32_t handshakes_in_window_ = 0;
  std::optional<Instant> under_load_until_;

  std::vector<SealJob>* seal_queue_ = nullptr;

  // Every peer by its endpoint (several may share one: a relay and the
  // peers behind it), for relay_via and for the relay's sender check.
  std::multimap<Endpoint, Peer*> by_endpoint_;
  std::vector<IpAddress> own_addresses_;  // sorted
  std::optional<Relay> relay_;
  uint64_t relayed_total_ = 0;
  uint64_t relay_mac_checks_ = 0;

  // Decrypted plaintext of the datagram being received, and the datagram
  // being built when the output lends no memory: separate, because receiving
  // one datagram may send others (staged packets, a keepalive, a DNS answer)
  // while its plaintext is still in use. 64 KiB + headers each.
  LazyBuffer rx_scratch_;
  LazyBuffer tx_scratch_;
};

}  // namespace wgp
