// ZonePublisher, part 1 (zone_publisher.h): the versions of the zone and the
// NOTIFYs that announce them; part 2, what the secondaries ask, is
// zone_publisher_requests.cpp.
#include "discovery/zone_publisher.h"

#include "crypto/blake2s.h"
#include "discovery/registry_service.h"
#include "dnssd/responder_query.h"
#include "dnssd/serial.h"
#include "dnssd/wire_name.h"
#include "dnssd/zone_notify.h"
#include "util/log.h"

namespace wgp {

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
  uint32_t serial = uint32_t(unix_time(now));
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
  uint32_t serial = dnssd::next_serial(history_.serial(), unix_time(now));
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
      p.tsig->sign(p.message, unix_time(now));
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
    dnssd::TsigVerdict v = s.pending->tsig->verify(datagram, unix_time(now));
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
    // From where the NOTIFY went, address and port: anyone can send from
    // the secondary's address, and a 16-bit id is soon guessed.
    for (Secondary& s : secondaries_)
      if (s.notify_to == from && s.pending) take_ack(s, d, now);
    return true;
  }
  return answer_query(d, from, now);
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
