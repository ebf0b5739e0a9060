#include "discovery/zone_publisher.h"

#include "crypto/blake2s.h"
#include "discovery/registry_service.h"
#include "dnssd/responder_query.h"
#include "dnssd/serial.h"
#include "dnssd/wire_name.h"
#include "dnssd/zone_notify.h"
#include "dnssd/zone_transfer.h"
#include "util/log.h"

namespace wgp {

namespace {

uint64_t unix_seconds(Now now) {
  return uint64_t(
      std::chrono::duration_cast<std::chrono::seconds>(now.wall.time_since_epoch()).count());
}

constexpr size_t kMaxTcpMessage = 65535;

}  // namespace

ZonePublisher::ZonePublisher(const RegistryConfig& config, RegistryService& registry, Random& rng,
                             SendPlain send)
    : zone_(config.zone),
      zone_wire_(dnssd::wire_name(config.zone).value_or(std::vector<uint8_t>{0})),
      registry_(registry),
      rng_(rng),
      send_(std::move(send)) {
  if (config.transfer_key) {
    auto name = dnssd::wire_name(config.transfer_key->name);
    if (name) key_.emplace(dnssd::TsigKey{std::move(*name), config.transfer_key->secret.clone()});
  }
  for (const Endpoint& e : config.secondaries) secondaries_.push_back({e, std::nullopt});
}

bool ZonePublisher::take_version(bool first, uint32_t serial) {
  dnssd::RecordList records;
  registry_.zone().all_records(records);
  if (secondaries_.empty()) {
    // Nobody transfers the zone: a digest tells a change as well as the
    // records would, without keeping them (5 MB at 10,000 peers), and the
    // history holds the serial alone.
    Hash digest;
    blake2s(digest, {records.bytes()});
    if (!first && !force_ && digest == digest_) return false;
    digest_ = digest;
    history_.reset(serial, dnssd::RecordList());
    return true;
  }
  records.sort_unique();
  if (first) {
    history_.reset(serial, std::move(records));
    return true;
  }
  if (!force_ && records == history_.records()) return false;
  return history_.commit(serial, std::move(records));
}

void ZonePublisher::start(Now now) {
  uint32_t serial = uint32_t(unix_seconds(now));
  take_version(true, serial);
  registry_.set_serial(serial);
  seen_generation_ = registry_.source_generation();
  force_ = true;
  next_commit_ = now.mono + kCommitInterval;
  started_ = true;
  ++versions_;
  if (!secondaries_.empty())
    Log::info("zone ", zone_, ": hidden primary for ", secondaries_.size(), " secondar",
              secondaries_.size() == 1 ? "y" : "ies",
              key_ ? ", TSIG key " + dnssd::name_text(key_->name) : std::string(", no TSIG key"),
              "; serial ", serial);
}

bool ZonePublisher::is_secondary(const IpAddress& address) const {
  for (const Secondary& s : secondaries_)
    if (s.notify_to.address == address) return true;
  return false;
}

bool ZonePublisher::changed() const {
  return force_ || registry_.source_generation() != seen_generation_;
}

void ZonePublisher::commit(Now now) {
  seen_generation_ = registry_.source_generation();
  uint32_t serial = dnssd::next_serial(history_.serial(), unix_seconds(now));
  if (!take_version(false, serial)) return;  // nothing published changed
  force_ = false;
  registry_.set_serial(serial);
  next_commit_ = now.mono + kCommitInterval;
  ++versions_;
  notify_all(now);
}

void ZonePublisher::notify_all(Now now) {
  dnssd::RecordList soa;
  registry_.zone().soa_record(history_.serial(), soa);
  for (Secondary& s : secondaries_) {
    Pending& p = s.pending.emplace();
    p.id = uint16_t(rng_.u32());
    p.serial = history_.serial();
    p.message = dnssd::build_zone_notify(p.id, zone_wire_, soa[0]);
    if (key_) {
      p.tsig.emplace(*key_);
      p.tsig->sign(p.message, unix_seconds(now));
    }
    send_notify(s, now);
  }
}

void ZonePublisher::send_notify(Secondary& s, Now now) {
  Pending& p = *s.pending;
  send_(s.notify_to, p.message);
  ++p.sent;
  ++notifies_sent_;
  p.next = now.mono + kFirstNotifyRetry * (1 << (p.sent - 1));
}

void ZonePublisher::take_ack(Secondary& s, ByteView datagram, Now now) {
  auto rcode = dnssd::zone_notify_response_rcode(datagram, s.pending->id);
  if (!rcode) return;  // not the answer to our current NOTIFY
  if (s.pending->tsig) {
    dnssd::TsigVerdict v = s.pending->tsig->verify(datagram, unix_seconds(now));
    if (v != dnssd::TsigVerdict::kOk) {
      log_refusal(++bad_tsig_, "NOTIFY answer from " + s.notify_to.address.to_string() +
                                   " ignored: " + dnssd::tsig_verdict_name(v));
      return;
    }
  }
  if (*rcode != dnssd::kRcodeNoError)
    Log::info("zone ", zone_, ": secondary ", s.notify_to.to_string(),
              " refused our NOTIFY (RCODE ", int(*rcode),
              "): does its ACL allow notify from this address, with this key?");
  else
    ++notifies_acked_;
  s.pending.reset();
}

bool ZonePublisher::handle_datagram(ByteView d, const Endpoint& from, Now now) {
  if (d.size() < dnssd::kDnsHeaderBytes) return true;
  if (d[2] & 0x80) {  // a response: only ever an acknowledgement, never answered
    for (Secondary& s : secondaries_)
      if (s.notify_to.address == from.address && s.pending) take_ack(s, d, now);
    return true;
  }
  return answer_query(d, from, now);
}

bool ZonePublisher::answer_query(ByteView d, const Endpoint& from, Now now) {
  uint64_t t = unix_seconds(now);
  std::optional<dnssd::TsigSession> tsig;
  std::vector<uint8_t> refusal;
  switch (check_request(d, "query from secondary " + from.address.to_string(), t, tsig, refusal)) {
    case Check::kUnsigned:
      return false;  // the registry's own rules decide (Public, peers)
    case Check::kRefused:
      if (!refusal.empty()) send_(from, refusal);
      return true;
    case Check::kGoOn:
      break;
  }
  size_t room = tsig ? tsig->record_size() : 0;
  ByteView answer = registry_.answer_secondary(d, RegistryService::kMaxPlainAnswer - room,
                                               dnssd::Transport::kDatagram);
  if (answer.empty()) return true;
  std::vector<uint8_t> reply(answer.begin(), answer.end());
  if (tsig) tsig->sign(reply, t);
  ++queries_answered_;
  send_(from, reply);
  return true;
}

ZonePublisher::Check ZonePublisher::check_request(ByteView message, const std::string& who,
                                                  uint64_t now,
                                                  std::optional<dnssd::TsigSession>& tsig,
                                                  std::vector<uint8_t>& refusal) {
  if (!key_) return Check::kGoOn;
  tsig.emplace(*key_);
  dnssd::TsigVerdict v = tsig->verify(message, now);
  if (v == dnssd::TsigVerdict::kOk) return Check::kGoOn;
  if (v == dnssd::TsigVerdict::kMissing) return Check::kUnsigned;
  log_refusal(++bad_tsig_, who + " refused: " + dnssd::tsig_verdict_name(v));
  dnssd::ParsedQuery q;
  if (v == dnssd::TsigVerdict::kMalformed ||
      dnssd::parse_query(message, q) != dnssd::QueryParse::kOk)
    return Check::kRefused;  // nothing to answer with
  // RFC 8945 §5.3.2: NOTAUTH with the error; BADTIME signed (the MAC was
  // right), the others not (we could not check who sent them).
  refusal = dnssd::build_transfer_error(q, dnssd::kRcodeNotAuth);
  if (v == dnssd::TsigVerdict::kBadTime)
    tsig->sign(refusal, now, dnssd::TsigError::kBadTime);
  else
    tsig->append_error(refusal, now, dnssd::tsig_error_for(v));
  return Check::kRefused;
}

void ZonePublisher::frame(const std::vector<uint8_t>& message, std::vector<uint8_t>& out) {
  out.push_back(uint8_t(message.size() >> 8));
  out.push_back(uint8_t(message.size()));
  out.insert(out.end(), message.begin(), message.end());
}

void ZonePublisher::handle_stream(ByteView query, const IpAddress& from, Now now,
                                  std::vector<uint8_t>& out) {
  uint64_t t = unix_seconds(now);
  dnssd::ParsedQuery q;
  if (dnssd::parse_query(query, q) != dnssd::QueryParse::kOk) return;
  std::optional<dnssd::TsigSession> tsig;
  std::vector<uint8_t> refusal;
  std::string who = "request from secondary " + from.to_string() + " over TCP";
  switch (check_request(query, who, t, tsig, refusal)) {
    case Check::kUnsigned:
      log_refusal(++unsigned_refused_, who + " without TSIG: closed");
      return;
    case Check::kRefused:
      if (!refusal.empty()) frame(refusal, out);
      return;
    case Check::kGoOn:
      break;
  }
  size_t room = tsig ? tsig->record_size() : 0;
  if (q.opcode() == dnssd::kOpcodeQuery &&
      (q.qtype == dnssd::kTypeAxfr || q.qtype == dnssd::kTypeIxfr)) {
    uint8_t lower[dnssd::kMaxNameWire];
    dnssd::lower_name(q.name.data(), q.name_size, lower);
    bool ours = q.qclass == dnssd::kClassIn && q.name_size == zone_wire_.size() &&
                std::equal(zone_wire_.begin(), zone_wire_.end(), lower);
    std::vector<std::vector<uint8_t>> messages;
    std::optional<uint32_t> from_serial;
    dnssd::TransferKind kind = dnssd::TransferKind::kAxfr;
    if (!ours) {
      log_refusal(++not_our_zone_, "zone transfer for another zone refused (" + from.to_string() +
                                       " asked for " + dnssd::name_text(q.name_view()) + ")");
      messages.push_back(dnssd::build_transfer_error(q, dnssd::kRcodeNotAuth));
    } else {
      if (q.qtype == dnssd::kTypeIxfr) from_serial = dnssd::ixfr_request_serial(query);
      kind = dnssd::build_transfer(q, from_serial, registry_.zone(), history_,
                                   dnssd::kTransferMessageLimit - room, messages);
    }
    size_t before = out.size();
    for (std::vector<uint8_t>& m : messages) {
      if (tsig) tsig->sign(m, t);
      frame(m, out);
      std::vector<uint8_t>().swap(m);  // framed: only that copy is kept (3 MB at 10,000 peers)
    }
    if (!ours) return;
    ++(kind == dnssd::TransferKind::kIxfr || kind == dnssd::TransferKind::kIxfrUpToDate ? ixfr_
                                                                                        : axfr_);
    Log::info("zone ", zone_, ": ", dnssd::transfer_kind_name(kind), " to ", from.to_string(),
              from_serial ? ", from serial " + std::to_string(*from_serial) : std::string(),
              ", serial ", history_.serial(), ": ", messages.size(), " message(s), ",
              out.size() - before, " bytes", tsig ? ", signed" : "");
    return;
  }
  // Anything else over TCP (an SOA check, a lookup): the registry's answer.
  ByteView answer =
      registry_.answer_secondary(query, kMaxTcpMessage - room, dnssd::Transport::kStream);
  if (answer.empty()) return;
  std::vector<uint8_t> reply(answer.begin(), answer.end());
  if (tsig) tsig->sign(reply, t);
  ++queries_answered_;
  frame(reply, out);
}

std::optional<Instant> ZonePublisher::next_deadline() const {
  std::optional<Instant> next;
  if (started_ && changed()) next = next_commit_;
  for (const Secondary& s : secondaries_)
    if (s.pending && (!next || s.pending->next < *next)) next = s.pending->next;
  return next;
}

void ZonePublisher::run_timers(Now now) {
  if (started_ && now.mono >= next_commit_ && changed()) commit(now);
  for (Secondary& s : secondaries_) {
    if (!s.pending || now.mono < s.pending->next) continue;
    if (s.pending->sent < kNotifySends) {
      send_notify(s, now);
      continue;
    }
    log_refusal(++notifies_unanswered_, "zone " + zone_ + ": secondary " + s.notify_to.to_string() +
                                            " did not answer NOTIFY for serial " +
                                            std::to_string(s.pending->serial) + " (" +
                                            std::to_string(kNotifySends) + " sends)");
    s.pending.reset();
  }
}

void ZonePublisher::log_refusal(uint64_t& count, const std::string& what) {
  if ((count & (count - 1)) == 0) Log::info(what, " (", count, " so far)");
}

void ZonePublisher::add_status(ExtraFields& extra) const {
  extra.emplace_back("registry_zone_serial", std::to_string(history_.serial()));
  if (secondaries_.empty()) return;
  std::string list;
  for (const Secondary& s : secondaries_)
    list += (list.empty() ? "" : ", ") + s.notify_to.to_string();
  extra.emplace_back("registry_secondaries", list);
  extra.emplace_back("registry_transfer_key",
                     key_ ? dnssd::name_text(key_->name) + " (hmac-sha256)" : "none");
  extra.emplace_back("registry_zone_versions", std::to_string(versions_));
  extra.emplace_back("registry_journal_versions", std::to_string(history_.journal_versions()));
  extra.emplace_back("registry_zone_notifies_sent", std::to_string(notifies_sent_));
  extra.emplace_back("registry_zone_notifies_acknowledged", std::to_string(notifies_acked_));
  if (notifies_unanswered_)
    extra.emplace_back("registry_zone_notifies_unanswered", std::to_string(notifies_unanswered_));
  extra.emplace_back("registry_transfers_axfr", std::to_string(axfr_));
  extra.emplace_back("registry_transfers_ixfr", std::to_string(ixfr_));
  extra.emplace_back("registry_secondary_queries", std::to_string(queries_answered_));
  extra.emplace_back(
      "registry_transfers_refused",
      std::to_string(connections_refused_ + unsigned_refused_ + bad_tsig_ + not_our_zone_));
}

}  // namespace wgp
