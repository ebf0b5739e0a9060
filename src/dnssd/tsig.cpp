#include "dnssd/tsig.h"

#include <sodium.h>

#include <cstring>

namespace wgp::dnssd {

namespace {

// "hmac-sha256." in wire form (RFC 8945 §6).
constexpr uint8_t kAlgorithm[] = {11, 'h', 'm', 'a', 'c', '-', 's', 'h', 'a', '2', '5', '6', 0};
constexpr size_t kFixedFields = 10;  // TYPE, CLASS, TTL, RDLENGTH of a record
constexpr size_t kTimeFudgeMacSize = 6 + 2 + 2;
constexpr size_t kIdErrorOtherLen = 2 + 2 + 2;
constexpr size_t kTimeSize = 6;
constexpr size_t kMinMacSize = 16;  // max(10, 32 / 2): shorter is FORMERR (§5.2.2.1)

void store_be48(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 6; ++i) p[i] = uint8_t(v >> (40 - 8 * i));
}
uint64_t load_be48(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 6; ++i) v = v << 8 | p[i];
  return v;
}
void put16(std::vector<uint8_t>& out, uint16_t v) {
  out.push_back(uint8_t(v >> 8));
  out.push_back(uint8_t(v));
}
void put(std::vector<uint8_t>& out, ByteView bytes) {
  out.insert(out.end(), bytes.begin(), bytes.end());
}

// Reads the RDATA of a TSIG record at [pos, end) of `m` into `out`.
bool read_rdata(ByteView m, size_t pos, size_t end, TsigRecord& out) {
  size_t after = 0;
  if (!read_name(m, pos, out.algorithm.data(), &out.algorithm_size, &after) || after > end)
    return false;
  pos = after;
  if (end - pos < kTimeFudgeMacSize) return false;
  const uint8_t* p = m.data() + pos;
  out.time_signed = load_be48(p);
  out.fudge = load_be16(p + 6);
  size_t mac_size = load_be16(p + 8);
  pos += kTimeFudgeMacSize;
  if (end - pos < mac_size) return false;
  out.mac = m.subspan(pos, mac_size);
  pos += mac_size;
  if (end - pos < kIdErrorOtherLen) return false;
  p = m.data() + pos;
  out.original_id = load_be16(p);
  out.error = load_be16(p + 2);
  size_t other_size = load_be16(p + 4);
  pos += kIdErrorOtherLen;
  if (end - pos != other_size) return false;  // the fields fill RDATA exactly
  out.other = m.subspan(pos, other_size);
  return true;
}

}  // namespace

const char* tsig_verdict_name(TsigVerdict v) {
  switch (v) {
    case TsigVerdict::kOk:
      return "ok";
    case TsigVerdict::kMissing:
      return "no TSIG";
    case TsigVerdict::kMalformed:
      return "malformed TSIG";
    case TsigVerdict::kBadKey:
      return "BADKEY (unknown key name or algorithm)";
    case TsigVerdict::kBadSig:
      return "BADSIG (wrong MAC: another secret)";
    case TsigVerdict::kBadTrunc:
      return "BADTRUNC (truncated MAC)";
    case TsigVerdict::kBadTime:
      return "BADTIME (clocks more than the fudge apart)";
    case TsigVerdict::kPeerError:
      return "TSIG error reported by the peer";
  }
  return "?";
}

TsigError tsig_error_for(TsigVerdict v) {
  switch (v) {
    case TsigVerdict::kBadKey:
      return TsigError::kBadKey;
    case TsigVerdict::kBadSig:
      return TsigError::kBadSig;
    case TsigVerdict::kBadTrunc:
      return TsigError::kBadTrunc;
    case TsigVerdict::kBadTime:
      return TsigError::kBadTime;
    default:
      return TsigError::kNone;
  }
}

TsigFind find_tsig(ByteView m, TsigRecord& out) {
  if (m.size() < kDnsHeaderBytes) return TsigFind::kMalformed;
  size_t qd = load_be16(m.data() + 4);
  size_t records = size_t(load_be16(m.data() + 6)) + load_be16(m.data() + 8);
  size_t additional = load_be16(m.data() + 10);
  size_t total = records + additional;
  size_t pos = kDnsHeaderBytes;
  // A question takes at least 5 bytes, a record 11: bound the loops first.
  if (qd * 5 + total * 11 > m.size() - pos) return TsigFind::kMalformed;
  for (size_t i = 0; i < qd; ++i) {
    size_t size = 0, end = 0;
    if (!read_name(m, pos, nullptr, &size, &end) || m.size() - end < 4) return TsigFind::kMalformed;
    pos = end + 4;
  }
  for (size_t i = 0; i < total; ++i) {
    size_t start = pos, size = 0, end = 0;
    if (!read_name(m, pos, out.key_name.data(), &size, &end) || m.size() - end < kFixedFields)
      return TsigFind::kMalformed;
    const uint8_t* f = m.data() + end;
    uint16_t type = load_be16(f);
    size_t rdlength = load_be16(f + 8);
    size_t rdata = end + kFixedFields;
    if (m.size() - rdata < rdlength) return TsigFind::kMalformed;
    pos = rdata + rdlength;
    if (type != kTypeTsig) continue;
    // RFC 8945 §5.1: only one, the last record of ADDITIONAL, nothing after.
    if (i + 1 != total || additional == 0 || pos != m.size()) return TsigFind::kMalformed;
    if (load_be16(f + 2) != kClassAny || load_be32(f + 4) != 0) return TsigFind::kMalformed;
    out.start = start;
    out.key_name_size = size;
    if (!read_rdata(m, rdata, pos, out)) return TsigFind::kMalformed;
    return TsigFind::kFound;
  }
  return TsigFind::kNone;
}

HmacSha256Digest TsigSession::mac_of(ByteView message, uint16_t id, uint16_t arcount,
                                     uint64_t time_signed, uint16_t fudge, uint16_t error,
                                     ByteView other) const {
  HmacSha256 h(key_.secret);
  if (messages_ >= 1 && prior_) {  // a response: the prior MAC first, with its length
    uint8_t size[2];
    store_be16(size, uint16_t(prior_->size()));
    h.update(size);
    h.update(*prior_);
  }
  uint8_t header[kDnsHeaderBytes];
  std::memcpy(header, message.data(), kDnsHeaderBytes);
  store_be16(header, id);
  store_be16(header + 10, arcount);
  h.update(header);
  h.update(message.subspan(kDnsHeaderBytes));
  uint8_t timers[kTimeSize + 2];
  store_be48(timers, time_signed);
  store_be16(timers + kTimeSize, fudge);
  if (messages_ >= 2) {  // a later message of a TCP response: the timers only (§5.3.1)
    h.update(timers);
    return h.finish();
  }
  // The TSIG variables (§4.3.3), names in canonical (lower-case) form.
  uint8_t class_ttl[6] = {0, 0, 0, 0, 0, 0};
  store_be16(class_ttl, kClassAny);
  h.update(key_.name);
  h.update(class_ttl);
  h.update(kAlgorithm);
  h.update(timers);
  uint8_t tail[4];
  store_be16(tail, error);
  store_be16(tail + 2, uint16_t(other.size()));
  h.update(tail);
  h.update(other);
  return h.finish();
}

TsigVerdict TsigSession::verify(ByteView m, uint64_t now) {
  TsigRecord t;
  switch (find_tsig(m, t)) {
    case TsigFind::kNone:
      return TsigVerdict::kMissing;
    case TsigFind::kMalformed:
      return TsigVerdict::kMalformed;
    case TsigFind::kFound:
      break;
  }
  uint8_t lower[kMaxNameWire];
  lower_name(t.key_name.data(), t.key_name_size, lower);
  if (t.key_name_size != key_.name.size() || std::memcmp(lower, key_.name.data(), t.key_name_size))
    return TsigVerdict::kBadKey;
  lower_name(t.algorithm.data(), t.algorithm_size, lower);
  if (t.algorithm_size != sizeof kAlgorithm || std::memcmp(lower, kAlgorithm, sizeof kAlgorithm))
    return TsigVerdict::kBadKey;
  if (t.error != 0 && t.mac.empty()) return TsigVerdict::kPeerError;  // unsigned, §5.3.2
  if (t.mac.size() > kHmacSha256Size || t.mac.size() < kMinMacSize) return TsigVerdict::kMalformed;
  if (t.mac.size() < kHmacSha256Size) return TsigVerdict::kBadTrunc;
  uint16_t arcount = uint16_t(load_be16(m.data() + 10) - 1);
  HmacSha256Digest mac =
      mac_of(m.first(t.start), t.original_id, arcount, t.time_signed, t.fudge, t.error, t.other);
  if (sodium_memcmp(mac.data(), t.mac.data(), mac.size()) != 0) return TsigVerdict::kBadSig;
  // The MAC is right: it chains, even when the time is off (the BADTIME
  // answer is signed, §5.2.3).
  prior_ = mac;
  ++messages_;
  if (t.time_signed > now + t.fudge || now > t.time_signed + t.fudge) return TsigVerdict::kBadTime;
  if (t.error != 0) return TsigVerdict::kPeerError;
  return TsigVerdict::kOk;
}

void TsigSession::append_record(std::vector<uint8_t>& message, uint64_t time_signed, ByteView mac,
                                uint16_t error, ByteView other) const {
  put(message, key_.name);
  put16(message, kTypeTsig);
  put16(message, kClassAny);
  put16(message, 0);  // TTL
  put16(message, 0);
  size_t rdlength =
      sizeof kAlgorithm + kTimeFudgeMacSize + mac.size() + kIdErrorOtherLen + other.size();
  put16(message, uint16_t(rdlength));
  put(message, kAlgorithm);
  uint8_t time[kTimeSize];
  store_be48(time, time_signed);
  put(message, time);
  put16(message, kTsigFudge);
  put16(message, uint16_t(mac.size()));
  put(message, mac);
  put16(message, load_be16(message.data()));  // original ID: the message's own
  put16(message, error);
  put16(message, uint16_t(other.size()));
  put(message, other);
  store_be16(message.data() + 10, uint16_t(load_be16(message.data() + 10) + 1));
}

void TsigSession::sign(std::vector<uint8_t>& message, uint64_t now, TsigError error) {
  uint8_t our_time[kTimeSize];
  store_be48(our_time, now);
  ByteView other = error == TsigError::kBadTime ? ByteView(our_time) : ByteView();
  HmacSha256Digest mac = mac_of(message, load_be16(message.data()), load_be16(message.data() + 10),
                                now, kTsigFudge, uint16_t(error), other);
  append_record(message, now, mac, uint16_t(error), other);
  prior_ = mac;
  ++messages_;
}

void TsigSession::append_error(std::vector<uint8_t>& message, uint64_t now, TsigError error) const {
  append_record(message, now, ByteView(), uint16_t(error), ByteView());
}

size_t TsigSession::record_size() const {
  return key_.name.size() + kFixedFields + sizeof kAlgorithm + kTimeFudgeMacSize + kHmacSha256Size +
         kIdErrorOtherLen + kTimeSize;
}

}  // namespace wgp::dnssd
