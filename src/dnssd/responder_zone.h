// The registry's zone: the live peer table seen as the DNS-SD records of
// DESIGN.md §4, and the ldns code that turns one question into answer bytes.
//
//   <zone>                          SOA  <zone> hostmaster.<zone> <serial> 60 10 86400 0
//   <zone>                          NS   <name server>   one per [Registry] NameServer
//   _udp.<zone>                     (empty non-terminal: exists, no records)
//   _wireguard._udp.<zone>          PTR  <B32>._wireguard._udp.<zone>   one per peer
//   <B32>._wireguard._udp.<zone>    SRV  0 0 <port> <B32>.<zone>   + A/AAAA, as at the host name
//   <B32>.<zone>                    A or AAAA <endpoint address>
//   <B32>._wireguard._udp.<zone>    SRV  1 0 <port> m.<B32>.<zone>   when the peer registered
//   m.<B32>.<zone>                  A / AAAA <mapped address>         a port mapping (§9)
//   <B32>._wireguard._udp.<zone>    SRV  1 0 <port> c.<B32>.<zone>   when the peer registered
//   c.<B32>.<zone>                  A / AAAA <its own addresses>      candidates (§9)
//   <B32>._wireguard._udp.<zone>    TXT  "txtvers=1" "pub=<base64>" "allowed=<prefixes>"
//                                        ["name=<label>"]   wgsd's record (§11, peer_txt.h)
//   <label>.<zone>                  A / AAAA <its tunnel addresses>   with [Peer] Name (§11)
//
// In an SRV answer the observed endpoint stays first, in ANSWER and in
// ADDITIONAL (the stock wgsd-client reads Answer[0] and Extra[0]); the
// candidates' addresses follow, then the instance's TXT (as wgsd: address,
// then TXT). The registry's own record (Self = yes) is one more published
// peer; without SelfEndpoint its address is the one the query came to, so
// it is made per answer and left out of zone transfers.
// All TTLs are 0 (endpoints move). The SOA is made up, as the registry has
// no name of its own: MNAME is the apex itself (a name that exists),
// RNAME hostmaster.<zone> (RFC 2142), the serial is set by the zone's
// publisher (discovery/zone_publisher.h, dnssd/serial.h), MINIMUM 0 so that
// no resolver caches a negative answer (RFC 2308 §5) for a peer about to
// appear. The NS records name the servers the zone is delegated to (the
// secondaries that copy it by zone transfer); without NameServer = the apex
// itself, so that the zone is complete (BIND loads no zone without NS) while
// the registry is reached by address. The service name exists even with no
// peers, so a client can tell "no peers yet" (NODATA) from a wrong zone.
//
// The records themselves come from one place, records_at() (zone_records.cpp):
// answers pick from it and zone transfers enumerate it (all_records()), so
// that a secondary serves exactly what the registry answers. Building
// answers goes through ldns and is meant for cache misses only.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/keys.h"
#include "dnssd/record_list.h"
#include "net/ip.h"
#include "util/bytes.h"

namespace wgp::dnssd {

struct PublishedPeer {
  PublicKey key;
  Endpoint endpoint;  // where the registry sees it
  // Its own addresses, as it registered them (dnssd/candidate_update.h):
  // a second SRV (priority 1, this port) to c.<B32>.<zone> and the
  // addresses there. Empty: none.
  uint16_t candidate_port = 0;
  std::vector<IpAddress> candidates;
  // Its port mapping at its gateway, as it registered it: a third SRV
  // (priority 1) to m.<B32>.<zone> and the address there.
  std::optional<Endpoint> mapped;
  // The registry's AllowedIPs for it (its TXT) and its Name (empty: none).
  std::vector<IpPrefix> allowed;
  std::string name;
  // The registry itself without SelfEndpoint: `endpoint`'s address is the
  // one each query came to (records_at's `local`).
  bool at_local_address = false;
};

enum class NameKind {
  kOutside,
  kMissing,
  kApex,
  kUdp,
  kService,
  kInstance,
  kHost,
  kCandidates,
  kMapped,
  kName
};
struct NameMatch {
  NameKind kind = NameKind::kOutside;
  size_t peer = 0;  // index into the published peers for kInstance and kHost
};

// The EDNS(0) part of a reply: present only when the query had an OPT.
struct EdnsReply {
  bool present = false;
  bool do_bit = false;  // copied from the query (RFC 3225 §3)
};

// The UDP payload size we advertise in our OPT (the DNS Flag Day 2020 value).
constexpr uint16_t kAdvertisedUdpSize = 1232;

class ZoneView {
 public:
  // `zone`: a domain name in text, e.g. "example.net." or "Example.NET"; stored
  // lower case with a trailing dot. Throws std::invalid_argument when it is
  // not a valid name or too long to hold `<B32>._wireguard._udp.` below it.
  explicit ZoneView(std::string_view zone);

  const std::string& zone() const { return zone_text_; }
  ByteView zone_wire() const { return zone_wire_; }
  uint32_t serial() const { return serial_; }
  size_t peer_count() const { return peers_.size(); }

  // Replaces the published peers (a key given twice: the last one wins).
  void set_peers(std::vector<PublishedPeer> peers);
  // Replaces one published peer's candidates and port mapping
  // (PublishedPeer), in O(log n): a registration changes one peer, not the
  // table. False when `key` is not published.
  bool set_candidates(const PublicKey& key, uint16_t port, std::vector<IpAddress> addresses,
                      std::optional<Endpoint> mapped = std::nullopt);
  // Publishes one peer (replacing what was published for its key), or
  // withdraws one, in O(log n): an endpoint's move changes one peer too.
  void upsert_peer(PublishedPeer peer);
  void remove_peer(const PublicKey& key);
  // The SOA serial answers carry (0 until set).
  void set_serial(uint32_t serial) { serial_ = serial; }
  // The NS targets at the apex, wire form (lower case); empty: the apex itself.
  void set_name_servers(std::vector<std::vector<uint8_t>> names);

  // The records at the name `m` stands for (as match() returned it), in the
  // order an answer lists them: at the apex the SOA, then the NS; at the
  // service name a PTR per peer; at an instance name its SRV, then its
  // address, then its TXT; at a host name its address; at a Name the
  // peer's tunnel addresses. None for the other kinds. `local`: the
  // address the query came to (none for a zone transfer), for a peer
  // published at_local_address, which without it has no records at all.
  // Every record of the zone is made here (zone_records.cpp).
  void records_at(NameMatch m, RecordList& out,
                  const std::optional<IpAddress>& local = std::nullopt) const;
  // Every record of the zone but the SOA, name by name (what a zone
  // transfer carries between its two SOAs).
  void all_records(RecordList& out) const;
  // Whether some answer depends on the address a query came to.
  bool has_local_records() const { return local_records_; }
  // The zone's SOA with `serial` (the versions of a transfer have their own).
  void soa_record(uint32_t serial, RecordList& out) const;

  // What the lower-case wire-form name `name` is in this zone.
  NameMatch match(ByteView name) const;

  // The complete response (ID 0, RD and CD clear, QR and AA set) to a QUERY
  // for `qtype` at `match`, whose question is `match`'s canonical name (or
  // `name` itself for kMissing), built with ldns and compressed. When it
  // is longer than `limit`: first ADDITIONAL goes, without TC (RFC 2181 §9);
  // then ANSWER keeps as many whole records as fit, with TC set. Empty when
  // not even the header, question and OPT fit. `asked_about`: the peer
  // named when ANSWER holds records for an SRV, A or AAAA question.
  std::vector<uint8_t> build(ByteView name, NameMatch match, uint16_t qtype, EdnsReply edns,
                             size_t limit, std::optional<PublicKey>* asked_about,
                             const std::optional<IpAddress>& local = std::nullopt) const;

 private:
  struct Entry {
    PublishedPeer peer;
    std::vector<uint8_t> instance;        // <B32>._wireguard._udp.<zone>, wire form
    std::vector<uint8_t> host;            // <B32>.<zone>
    std::vector<uint8_t> candidate_host;  // c.<B32>.<zone>
    std::vector<uint8_t> mapped_host;     // m.<B32>.<zone>
    std::vector<uint8_t> named_host;      // <name>.<zone>, empty without a Name
    std::vector<uint8_t> txt;             // the TXT's RDATA
  };
  // The entry's endpoint address for an answer to a query that came to
  // `local`; nullopt: the entry publishes nothing (see at_local_address).
  std::optional<IpAddress> address_of(const Entry& e, const std::optional<IpAddress>& local) const;
  // Drops `e`'s Name from by_name_ when it still points at `e`'s peer.
  void forget_name(const Entry& e);

  std::string zone_text_;
  std::vector<uint8_t> zone_wire_;
  std::vector<uint8_t> udp_wire_;      // _udp.<zone>
  std::vector<uint8_t> service_wire_;  // _wireguard._udp.<zone>
  std::vector<uint8_t> hostmaster_wire_;
  std::vector<std::vector<uint8_t>> name_servers_;  // NS targets, wire form
  std::vector<Entry> peers_;
  std::map<std::string, size_t, std::less<>> by_label_;  // lower-case B32 label -> index
  // Name (lower case) -> lower-case B32 label of its peer (by_label_ has the index).
  std::map<std::string, std::string, std::less<>> by_name_;
  bool local_records_ = false;
  uint32_t serial_ = 0;
};

}  // namespace wgp::dnssd
