// The registry role ([Registry], DESIGN.md §4–5): publishes the endpoints its
// peers were seen at as DNS-SD records and answers queries for them.
//
// - Inside the tunnel (authenticated): a query to our tunnel address, port
//   53, from any peer. The answer honours the asker's EDNS size up to the
//   tunnel MTU (TC beyond; the whole list is served over TCP, see
//   node/dns_tcp_server.h). When a peer that runs discovery (it asks from
//   port 53) asks about another such peer, that one gets a DNS NOTIFY
//   through its tunnel, so both sides punch within one round trip.
// - On the WireGuard port, plain DNS, for stock clients: answered only to
//   a peer's confirmed endpoint (an authenticated packet came from exactly
//   there) or, with Public = yes, to anyone; never larger than 1,232 bytes,
//   whatever EDNS size is claimed, so the port amplifies nothing. Everyone
//   else gets silence, not even REFUSED or FORMERR: a scanner learns
//   nothing. Plain queries never cause a NOTIFY.
//
// Pure with respect to time and I/O: plain answers leave through `send`,
// in-tunnel ones through the device; everything runs on the node's thread,
// outside any Device call (DnssdRoles defers in-tunnel packets).
#pragma once

#include <functional>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "config/config.h"
#include "control/device_control.h"
#include "crypto/keyed_hash.h"
#include "discovery/lookup_log.h"
#include "dnssd/candidate_update.h"
#include "dnssd/inner_udp.h"
#include "dnssd/responder.h"
#include "util/lru_table.h"
#include "util/token_bucket.h"
#include "wg/device.h"
#include "wg/ratelimiter.h"

namespace wgp {

class RegistryService {
 public:
  using SendPlain = std::function<void(const Endpoint& to, ByteView datagram)>;

  // Largest plain answer: the DNS flag day 2020 size, which crosses any
  // path unfragmented and bounds what a spoofed query can reflect.
  static constexpr size_t kMaxPlainAnswer = 1232;

  // `tunnel_addresses`: this node's addresses inside the tunnel (Address=),
  // where in-tunnel queries are sent and NOTIFYs come from; `tunnel_mtu`
  // bounds in-tunnel answers (whole IP packets).
  RegistryService(const RegistryConfig& config, std::vector<IpAddress> tunnel_addresses,
                  size_t tunnel_mtu, Device& device, SendPlain send);

  // The data path's cheap test: is this inner UDP packet in-tunnel DNS for us?
  bool wants_inner(const dnssd::UdpDestination& to) const;
  // A plain DNS message that arrived on the WireGuard port from `from`.
  void handle_plain_query(ByteView query, const Endpoint& from, Now now);
  // Whether one more plain answer may go to `from` now (20 a second, bursts
  // of 20, per address; takes from the budget): every plain answer,
  // to a peer, to anyone with Public = yes, to a listed secondary, passes
  // here, since the source of a datagram can be forged.
  bool plain_budget_allows(const Endpoint& from, Now now);
  // This host's addresses (net/local_addresses.h host_addresses): never
  // accepted as a peer's candidate. Call again when they change.
  void set_own_addresses(std::vector<IpAddress> addresses);
  // An in-tunnel packet from `asker` that wants_inner() accepted.
  void handle_inner(Peer& asker, ByteView ip_packet, Now now);
  // The answer to a query that arrived over TCP in the tunnel (no size
  // limit but 65,535; never a NOTIFY). Empty when nothing is to be sent.
  // `from`: the asker's tunnel address (the listener is at ours of its
  // family), where a Self record without SelfEndpoint points.
  ByteView answer_stream_query(ByteView query, const std::optional<IpAddress>& from = std::nullopt);

  // [Peer] Name of each peer (DESIGN.md §11), applied at the next version.
  void set_names(std::map<PublicKey, std::string> names);
  // Our UDP port, where the self record (Self = yes without SelfEndpoint)
  // points.
  void set_listen_port(uint16_t port);

  // `peer`'s confirmed endpoint moved (its NAT gave it a new mapping): it is
  // told so, and so are the peers that asked about it lately, each by a
  // NOTIFY in its tunnel, so both sides look again and punch at once instead
  // of at their next Interval (registry_notify.cpp).
  void on_endpoint_moved(Peer& peer, Now now);

  void add_status(ExtraFields& extra) const;
  // Registered candidates expire (DESIGN.md §9: with the session).
  std::optional<Instant> next_deadline() const;
  void run_timers(Now now);

  // For the zone publisher (zone_publisher.h), which versions the zone for
  // secondaries and owns its SOA serial: a number that changes whenever the
  // published records may have; the zone as published now; the serial that
  // answers carry; an answer of at most `limit` bytes to a listed
  // secondary's query (its TSIG is the publisher's business).
  uint64_t source_generation() const {
    return device_.endpoint_generation() + candidates_version_ + names_version_;
  }
  const dnssd::ZoneView& zone();
  void set_serial(uint32_t serial) { responder_.set_serial(serial); }
  ByteView answer_secondary(ByteView query, size_t limit, dnssd::Transport transport);

 private:
  // How long a question marks the asker as interested in the peer it asked
  // about: a node asks when it starts talking to a peer (and again only when
  // that goes wrong), so this covers the first minutes of a tunnel; later
  // moves reach its peers through the moved peer itself (DiscoveryService
  // asks about each peer it talks to when the registry tells it it moved).
  static constexpr Duration kInterest = std::chrono::minutes(10);
  // A moved peer's NOTIFYs go out at most this often.
  static constexpr Duration kMoveNotifyGap = std::chrono::seconds(1);

  // An RFC 2136 UPDATE from `asker` in the tunnel: its candidates.
  void handle_update(Peer& asker, const dnssd::UdpPacketView& udp, Now now);
  // Republishes what changed in the device's peer table: the peers whose
  // endpoint changed since the last look, one by one (O(log n) each), or
  // the whole table when the device's log does not reach back that far.
  void refresh();
  void republish_all();
  void republish(const PublicKey& peer);
  // What the zone publishes for `peer` (its endpoint is confirmed), and for
  // ourselves with Self = yes.
  dnssd::PublishedPeer published_peer(const Peer& peer) const;
  dnssd::PublishedPeer self_peer() const;
  // Tells `target` that `asker` is looking for it: at most once per
  // kNotifyInterval per pair, and not when `target` asked about `asker`
  // itself a moment ago; `again`: news (a new port mapping), sent anyway.
  void notify(const PublicKey& target, const PublicKey& asker, Now now, bool again = false);
  // `asker` registered a new port mapping: the peers it looked for lately
  // hear of it at once, so they try the mapping before falling back to the relay.
  void notify_new_mapping(const PublicKey& asker, Now now);
  // A NOTIFY naming `about` through `target`'s tunnel (registry_notify.cpp).
  void send_notify(Peer& target, const PublicKey& about, Now now);
  // Answers a question for our relay offer (dnssd/relay_offer.h); false
  // when `udp` is another question.
  bool answer_relay_offer(Peer& asker, const dnssd::UdpPacketView& udp, Now now);
  // `peer`'s registered candidates are now `set` (empty: none).
  void set_candidates(const PublicKey& peer, dnssd::CandidateSet set, Now now);
  // Not an address `asker` could own: ours, or not unicast we could reach.
  bool refused_candidate(const IpAddress& a) const;

  RegistryConfig config_;
  std::vector<IpAddress> tunnel_addresses_;
  size_t tunnel_mtu_;
  Device& device_;
  SendPlain send_;
  dnssd::Responder responder_;
  uint64_t generation_ = UINT64_MAX;
  // Confirmed endpoints only: who may ask in plain DNS (with how many peers
  // published there), and where each published peer is.
  std::map<Endpoint, uint32_t> confirmed_at_;
  std::map<PublicKey, Endpoint> published_at_;
  // Peers that asked in-tunnel from port 53, i.e. run wgpunch's discovery:
  // the only ones a NOTIFY is for (a stock peer would answer ICMP).
  std::set<PublicKey> discovering_;
  // Each peer's own addresses as it registered them, until the registration
  // is kRegistrationLifetime old (it lives as long as a session: the node
  // renews it every Interval; a peer gone quiet takes its candidates with
  // it). Bounded, O(1) per event; each change goes to the responder for
  // that one peer, and bumps the version the zone publisher watches.
  LruTable<PublicKey, dnssd::CandidateSet, KeyedHash> candidates_;
  uint64_t candidates_version_ = 0;
  // UPDATEs per peer: each costs a parse, and a change a new zone version.
  LruTable<PublicKey, TokenBucket, KeyedHash> update_budget_;
  // [Peer] Names (§11) and our port (the self record): a change republishes all.
  std::map<PublicKey, std::string> names_;
  uint64_t names_version_ = 0;  // for source_generation()
  uint16_t listen_port_ = 0;
  uint64_t updates_accepted_ = 0;
  uint64_t updates_refused_ = 0;
  uint64_t updates_limited_ = 0;
  uint64_t candidates_refused_ = 0;  // addresses dropped from accepted UPDATEs
  std::vector<IpAddress> own_addresses_;
  std::vector<uint8_t> answer_;
  std::vector<uint8_t> packet_;
  std::vector<uint8_t> notify_;
  uint16_t next_notify_id_ = 1;
  // (target, asker) pairs notified in the last interval: a NOTIFY makes the
  // target ask about the asker, which would NOTIFY the asker, and so on;
  // one per pair per interval breaks that ping-pong. Bounded, O(1).
  LruTable<std::pair<PublicKey, PublicKey>, bool, KeyedHash> last_notify_;
  // Who asked about whom in the tunnel (discovery's questions, from port 53)
  // for kInterest: the ping-pong check above, the remap news and the
  // mapping news all read it.
  LookupLog lookups_;
  // When each moved peer's NOTIFYs last went out.
  LruTable<PublicKey, bool, KeyedHash> last_move_;
  uint64_t move_notifies_ = 0;
  // Plain answers per source address: a source can be forged (a query
  // "from" a peer's endpoint, or anyone's with Public = yes), so what one
  // address can be sent is bounded: 20 answers a second, bursts of 20
  // (at most ~25 KB/s of 1,232-byte answers).
  Ratelimiter plain_budget_{20, 20};
  uint64_t plain_limited_ = 0;
  uint64_t plain_answered_ = 0;
  uint64_t tunnel_answered_ = 0;
  uint64_t stream_answered_ = 0;
  uint64_t ignored_ = 0;
  uint64_t notifies_sent_ = 0;
  uint64_t dropped_ = 0;
};

}  // namespace wgp
