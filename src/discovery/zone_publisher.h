// The registry as a hidden primary ([Registry] Secondary, DESIGN.md §10):
// ordinary DNS servers (Knot DNS, BIND) copy its zone by zone transfer and
// serve it to clients that never reach the registry.
//
// - Versions. The registry answers from its live peer table; this class
//   takes a version of it (ZoneView::all_records) when the published
//   records changed, at most once per second, with the serial of
//   dnssd/serial.h (Unix time, never backwards), which the registry's own
//   answers then carry too. The first version is taken at start, a second
//   one a second later whatever changed (a restart within the second of the
//   last commit must not reuse its serial for other records). Without
//   secondaries only a digest of the version is kept, to tell a change.
// - NOTIFY (RFC 1996) to every Secondary on each new version, from the
//   WireGuard socket (the registry's address and port, what a secondary's
//   ACL names), TSIG-signed with TransferKey; resent after 1, 2, 4, 8 s until
//   acknowledged (5 sends at most); a newer version replaces the pending one.
// - Queries from a listed secondary's address on the WireGuard port (the
//   SOA check before a transfer) are answered like any other, signed, and
//   within the registry's per-address budget for plain answers (a source
//   address is easily forged). A NOTIFY acknowledgement counts only from
//   the address and port the NOTIFY went to, and only signed with a key.
// - AXFR and IXFR over TCP (node/dns_tcp_server.h listens on the ListenPort
//   number) to listed secondaries only (the address decides; anyone else's
//   connection is closed unread), from the history of versions
//   (dnssd/zone_history.h, dnssd/zone_transfer.h).
// - With TransferKey, everything from a secondary must be signed: no TSIG,
//   nothing (a UDP query goes on to the registry's own rules, which answer
//   only peers or, with Public = yes, anyone); a wrong key or MAC: NOTAUTH
//   with the TSIG error (RFC 8945 §5.3.2), logged. Every response is signed
//   (all messages of a transfer, the MACs chained).
//
// Pure: `now` is passed in, datagrams leave through `send`, TCP answers are
// returned as bytes. Runs on the node's thread.
#pragma once

#include <array>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "control/device_control.h"
#include "crypto/random.h"
#include "dnssd/tsig.h"
#include "dnssd/zone_history.h"
#include "net/ip.h"
#include "wg/device.h"

namespace wgp {

class RegistryService;

class ZonePublisher {
 public:
  using SendPlain = std::function<void(const Endpoint& to, ByteView datagram)>;

  static constexpr auto kCommitInterval = std::chrono::seconds(1);
  static constexpr auto kFirstNotifyRetry = std::chrono::seconds(1);
  static constexpr int kNotifySends = 5;

  // `registry` must outlive this object.
  ZonePublisher(const RegistryConfig& config, RegistryService& registry, Random& rng,
                SendPlain send);

  // Takes the first version and schedules the second (see above).
  void start(Now now);

  bool is_secondary(const IpAddress& address) const;

  // A DNS datagram that arrived on the WireGuard port from a listed
  // secondary's address. Returns false when it is not this class's to
  // answer (a query without TSIG while a key is set).
  bool handle_datagram(ByteView datagram, const Endpoint& from, Now now);

  // One DNS message a listed secondary sent over TCP: `out` gets the
  // framed responses (a two-byte length before each, RFC 1035 §4.2.2);
  // left empty when the connection is to be closed without an answer.
  void handle_stream(ByteView query, const IpAddress& from, Now now, std::vector<uint8_t>& out);
  // A connection from an address that is not a listed secondary was closed.
  void count_refused_connection() { ++connections_refused_; }

  std::optional<Instant> next_deadline() const;
  void run_timers(Now now);
  void add_status(ExtraFields& extra) const;

  uint32_t serial() const { return history_.serial(); }
  // Seconds since the Unix epoch of `now`'s wall clock (serials, TSIG times).
  static uint64_t unix_time(Now now) {
    return uint64_t(
        std::chrono::duration_cast<std::chrono::seconds>(now.wall.time_since_epoch()).count());
  }

 private:
  struct Pending {  // a NOTIFY not yet acknowledged
    uint16_t id = 0;
    uint32_t serial = 0;
    int sent = 0;
    Instant next{};
    std::vector<uint8_t> message;
    std::optional<dnssd::TsigSession> tsig;
  };
  struct Secondary {
    Endpoint notify_to;
    std::optional<Pending> pending;
  };

  bool changed() const;
  // Takes the zone as published now as version `serial` (the first one when
  // `first`); false, changing nothing, when it equals the current version
  // and no commit is forced.
  bool take_version(bool first, uint32_t serial);
  void commit(Now now);
  void notify_all(Now now);
  void send_notify(Secondary& s, Now now);
  void take_ack(Secondary& s, ByteView datagram, Now now);
  bool answer_query(ByteView datagram, const Endpoint& from, Now now);
  // The TSIG check of a request from a secondary (`who`, for the log). kGoOn:
  // answer it (with a key, `tsig` holds the session to sign with); kUnsigned:
  // no TSIG while a key is set; kRefused: a bad one, logged, and `refusal`
  // holds the NOTAUTH to send back (nothing for a malformed one).
  enum class Check { kGoOn, kUnsigned, kRefused };
  Check check_request(ByteView message, const std::string& who, uint64_t now,
                      std::optional<dnssd::TsigSession>& tsig, std::vector<uint8_t>& refusal);
  // Appends `message`, framed, to `out`.
  static void frame(const std::vector<uint8_t>& message, std::vector<uint8_t>& out);
  // Logs the 1st, 2nd, 4th, 8th ... time of a kind of refusal, so that a
  // stream of spoofed requests cannot fill the log.
  void log_refusal(uint64_t& count, const std::string& what);

  std::string zone_;
  std::vector<uint8_t> zone_wire_;
  RegistryService& registry_;
  Random& rng_;
  SendPlain send_;
  std::optional<dnssd::TsigKey> key_;
  std::vector<Secondary> secondaries_;

  dnssd::ZoneHistory history_;        // versions kept whole only for secondaries
  std::array<uint8_t, 32> digest_{};  // of the current version, without secondaries
  bool started_ = false;
  bool force_ = false;  // commit at next_commit_ even if nothing changed
  uint64_t seen_generation_ = 0;
  Instant next_commit_{};

  uint64_t versions_ = 0;
  uint64_t notifies_sent_ = 0;
  uint64_t notifies_acked_ = 0;
  uint64_t notifies_unanswered_ = 0;
  uint64_t axfr_ = 0;
  uint64_t ixfr_ = 0;
  uint64_t queries_answered_ = 0;
  uint64_t connections_refused_ = 0;
  uint64_t unsigned_refused_ = 0;  // over TCP (UDP goes on to the registry's rules)
  uint64_t bad_tsig_ = 0;
  uint64_t not_our_zone_ = 0;
};

}  // namespace wgp
