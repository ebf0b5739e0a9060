// ZonePublisher, part 2: what the secondaries ask (zone_publisher.h): their
// queries on the WireGuard port and their requests over TCP (transfers and
// SOA checks), each checked for its TSIG and answered signed.
#include "discovery/registry_service.h"
#include "discovery/zone_publisher.h"
#include "dnssd/responder_query.h"
#include "dnssd/wire_name.h"
#include "dnssd/zone_transfer.h"
#include "util/log.h"

namespace wgp {

namespace {
constexpr size_t kMaxTcpMessage = 65535;
}  // namespace

bool ZonePublisher::answer_query(ByteView d, const Endpoint& from, Now now) {
  uint64_t t = unix_time(now);
  std::optional<dnssd::TsigSession> tsig;
  std::vector<uint8_t> refusal;
  switch (check_request(d, "query from secondary " + from.address.to_string(), t, tsig, refusal)) {
    case Check::kUnsigned:
      return false;  // the registry's own rules decide (Public, peers)
    case Check::kRefused:
      // A secondary's address can be forged like any other: what it is
      // sent, refusals included, stays within the per-address budget.
      if (!refusal.empty() && registry_.plain_budget_allows(from, now)) send_(from, refusal);
      return true;
    case Check::kGoOn:
      break;
  }
  size_t room = tsig ? tsig->record_size() : 0;
  ByteView answer = registry_.answer_secondary(d, RegistryService::kMaxPlainAnswer - room,
                                               dnssd::Transport::kDatagram);
  if (answer.empty() || !registry_.plain_budget_allows(from, now)) return true;
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
  uint64_t t = unix_time(now);
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

}  // namespace wgp
