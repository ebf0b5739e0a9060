// The registry's DNS responder (DESIGN.md §4): answers one query for the
// DNS-SD zone of the published peers, writing the response into a buffer the
// caller owns. No sockets, no clock: the node decides who may ask (plain DNS
// on the WireGuard port, or in-tunnel) and sends what this returns.
//
// Answers are built with ldns on the first query for a (name, type, EDNS,
// size class) and cached as wire bytes until set_peers changes the table;
// a cached answer costs one hash lookup, one copy and three patches (the ID,
// the RD/CD flags, the question's letter case). Error responses (FORMERR,
// NOTIMP, REFUSED, BADVERS) are header + question (+ OPT), written directly.
//
// Rules:
// - Names match case-insensitively; the question is echoed exactly as asked
//   (0x20 case randomisation survives). Names compressed into the question
//   therefore carry the asker's letter case there, as with BIND and Knot:
//   an owner that equals the question, and the zone labels of the
//   ADDITIONAL address's owner. The B32 label in record data (PTR target,
//   SRV target, which RFC 2782 forbids compressing, ADDITIONAL owner) is
//   always spelled out in upper case, which is what `base32 -d` needs.
// - NXDOMAIN (name in the zone that does not exist) and NODATA (name exists,
//   no record of that type) carry the SOA in AUTHORITY. Outside the zone, a class other than IN, or
//   access kRefused: REFUSED. Malformed input: FORMERR when the header is readable, else dropped;
//   responses (QR=1) are always dropped (no reflection loops). Opcodes other than QUERY: NOTIMP.
//   QTYPE OPT: FORMERR; AXFR, IXFR, MAILA, MAILB: NOTIMP (zone transfers are the zone publisher's,
//   over TCP, to listed secondaries only: discovery/zone_publisher.h).
// - ANY (RFC 8482 leaves the choice): every record at the name. Our RRsets
//   are the same ones PTR/SRV queries return, so ANY amplifies nothing more.
// - EDNS(0): an OPT in the response only when the query had one (UDP size
//   1232, DO copied); version > 0: BADVERS. Over a datagram transport the
//   size limit is 512 without EDNS, else the query's size (at least 512);
//   over a stream it is `out` alone; never more than `out`; it is
//   rounded down to a size class {512, 1232, 1400, 1452, 4096, 8192, 16384,
//   32768, 65535} for caching. Too long: ADDITIONAL dropped first (no TC,
//   RFC 2181 §9), then as many whole ANSWER records as fit, with TC set.
//
// Not thread-safe: one node thread calls it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "dnssd/responder_query.h"
#include "dnssd/responder_zone.h"

namespace wgp::dnssd {

// Decided by the node: a peer's current endpoint, Public = yes, or in-tunnel.
enum class QueryAccess { kAllowed, kRefused };
// Over a datagram transport the EDNS size bounds the answer; over a stream
// (DNS over TCP, RFC 7766) only the 65,535 bytes of a message do.
enum class Transport { kDatagram, kStream };

struct AnswerResult {
  size_t length = 0;                     // bytes written to `out`; 0 = drop silently
  std::optional<PublicKey> asked_about;  // the peer a successful SRV/A/AAAA query named
};

class Responder {
 public:
  // `zone`: e.g. "example.net." (any case, trailing dot optional). Throws
  // std::invalid_argument on a bad or too-long name (see ZoneView).
  explicit Responder(std::string zone);

  // Replaces the published set and empties the cache.
  void set_peers(std::vector<PublishedPeer> peers);
  // One peer's candidates (ZoneView::set_candidates); empties the cache
  // when the peer is published.
  bool set_candidates(const PublicKey& key, uint16_t port, std::vector<IpAddress> addresses,
                      std::optional<Endpoint> mapped = std::nullopt);
  // One peer published anew or withdrawn (ZoneView::upsert_peer,
  // remove_peer); empties the cache.
  void upsert_peer(PublishedPeer peer);
  void remove_peer(const PublicKey& key);
  // The SOA serial (the zone publisher owns it); empties the cache when it changes.
  void set_serial(uint32_t serial);
  // The apex's NS targets (see ZoneView::set_name_servers); empties the cache.
  void set_name_servers(std::vector<std::vector<uint8_t>> names);
  // The zone as published now: what zone transfers enumerate.
  const ZoneView& zone_view() const { return zone_; }

  // Answers the DNS message `query` into `out`. `out.size()` is the
  // transport's limit (65535 is fine); the EDNS rules above apply below it.
  // Never reads outside `query`, never writes outside `out`. A cache hit
  // allocates nothing; a miss builds with ldns. length 0: send nothing.
  // `asked_about` is set when ANSWER holds records for an SRV, A or AAAA
  // question at a peer's instance or host name.
  // `local`: the address the query came to, for the registry's own record
  // when it is published there (PublishedPeer::at_local_address).
  AnswerResult answer(ByteView query, QueryAccess access, MutableByteView out,
                      Transport transport = Transport::kDatagram,
                      const std::optional<IpAddress>& local = std::nullopt);

  uint64_t queries_answered() const { return answered_; }
  // Resource records published for peers: per peer a PTR, an SRV, the
  // address at both the host and the instance name, and the TXT (5 per
  // peer; the SOA, candidates and names are not counted).
  size_t published_records() const { return 5 * zone_.peer_count(); }
  size_t published_peers() const { return zone_.peer_count(); }
  uint32_t serial() const { return zone_.serial(); }
  size_t cache_entries() const { return cache_.size(); }
  const std::string& zone() const { return zone_.zone(); }

  // Bound on cached answers: names below the zone are unbounded (NXDOMAIN
  // for any label), so past this the cache starts over.
  static constexpr size_t kMaxCacheEntries = 4096;

 private:
  struct Cached {
    std::vector<uint8_t> wire;
    std::optional<PublicKey> asked_about;
  };

  // Header + question (when `with_question`) + OPT (when the query had one).
  size_t write_error(const ParsedQuery& q, uint8_t rcode, bool with_question, size_t limit,
                     MutableByteView out) const;
  size_t finish(size_t length);

  ZoneView zone_;
  std::unordered_map<std::string, Cached> cache_;
  std::string key_;  // scratch for the cache key, reused: no allocation per query
  ParsedQuery query_;
  uint64_t answered_ = 0;
};

}  // namespace wgp::dnssd
