// TSIG (RFC 8945) with HMAC-SHA256: the signatures on the registry's
// exchanges with its secondaries ([Registry] TransferKey): their SOA queries
// and zone transfers (requests verified, every response message signed) and
// our NOTIFYs (signed, the acknowledgements verified).
//
// One TsigSession follows one exchange, a request and its response messages,
// on either side, since the MAC of each message covers the one before it:
//   message 0 (the request):        MAC(message, TSIG variables)
//   message 1 (the first response): MAC(request MAC, message, TSIG variables)
//   message n >= 2 (TCP, §5.3.1):   MAC(prior MAC, message, time signed, fudge)
// where "message" is the DNS message as it was before the TSIG record was
// added (ARCOUNT without it, the original ID), and a MAC in the input is its
// two-byte length and its bytes. We sign every message of a response, as the
// brief of RFC 8945 §5.3.1 prefers; a verifier here likewise wants every one.
//
// The record is read with the bounds-checked name reader of the responder
// (outside bytes: fuzz/fuzz_tsig.cpp); HMAC is BoringSSL's
// (crypto/hmac_sha256.h), never ldns's. Only hmac-sha256 is known; a MAC
// shorter than 32 bytes (truncation, RFC 8945 §5.2.2.1) is refused.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "crypto/hmac_sha256.h"
#include "dnssd/responder_query.h"
#include "util/bytes.h"

namespace wgp::dnssd {

constexpr uint16_t kTypeTsig = 250;
constexpr uint16_t kClassAny = 255;
constexpr uint8_t kRcodeNotAuth = 9;
// How far apart the signer's clock and ours may be, in seconds (RFC 8945
// §10 recommends 300, what BIND and Knot use).
constexpr uint16_t kTsigFudge = 300;

// The TSIG error field (RFC 8945 §3, the IANA TSIG RCODEs).
enum class TsigError : uint16_t {
  kNone = 0,
  kBadSig = 16,
  kBadKey = 17,
  kBadTime = 18,
  kBadTrunc = 22,
};

// The outcome of checking one message.
enum class TsigVerdict {
  kOk,
  kMissing,    // no TSIG record at all
  kMalformed,  // the records cannot be walked, or the TSIG is bad or misplaced: FORMERR
  kBadKey,     // a key or algorithm we do not have
  kBadSig,     // the MAC does not match
  kBadTrunc,   // a truncated MAC (we want all 32 bytes)
  kBadTime,    // signed more than the fudge away from now
  kPeerError,  // a response that reports an error itself (unsigned BADSIG/BADKEY)
};
const char* tsig_verdict_name(TsigVerdict v);
// The error field a response to a request with this verdict carries.
TsigError tsig_error_for(TsigVerdict v);

// A TSIG record found in a message: the fields of its RDATA (RFC 8945 §4.2)
// and views into the message.
struct TsigRecord {
  size_t start = 0;  // offset of the record: the message before it is [0, start)
  std::array<uint8_t, kMaxNameWire> key_name{};  // expanded, letter case as sent
  size_t key_name_size = 0;
  std::array<uint8_t, kMaxNameWire> algorithm{};
  size_t algorithm_size = 0;
  uint64_t time_signed = 0;  // 48 bits, seconds since the Unix epoch
  uint16_t fudge = 0;
  ByteView mac;
  uint16_t original_id = 0;
  uint16_t error = 0;
  ByteView other;
};

enum class TsigFind { kNone, kFound, kMalformed };
// Looks for the TSIG record of `message`: it must be the last record of
// ADDITIONAL and the only one of its type, class ANY, TTL 0, with RDATA
// that holds exactly its fields. kMalformed also when the message's
// sections cannot be walked to the end. Never reads outside `message`.
TsigFind find_tsig(ByteView message, TsigRecord& out);

// A TransferKey: the key's name (wire form, lower case) and its secret.
struct TsigKey {
  std::vector<uint8_t> name;
  HmacKey secret;
};

class TsigSession {
 public:
  // `key` must outlive the session.
  explicit TsigSession(const TsigKey& key) : key_(key) {}

  // Checks the next message of the exchange at Unix time `now`. On kOk
  // its MAC becomes the prior MAC. On any other verdict nothing changes.
  TsigVerdict verify(ByteView message, uint64_t now);

  // Appends a TSIG record to `message` (a whole DNS message; its ARCOUNT is
  // raised) signed as the next message of the exchange, at `now`. `error`
  // kBadTime also writes our time as other data (RFC 8945 §5.2.3).
  void sign(std::vector<uint8_t>& message, uint64_t now, TsigError error = TsigError::kNone);

  // Appends the unsigned TSIG record that answers a request whose key or MAC
  // failed (RFC 8945 §5.3.2: BADKEY, BADSIG, BADTRUNC; MAC size 0). The
  // session is over then.
  void append_error(std::vector<uint8_t>& message, uint64_t now, TsigError error) const;

  // Messages verified or signed so far.
  size_t messages() const { return messages_; }
  // Bytes sign() adds to a message (for the room a response leaves for it).
  size_t record_size() const;

 private:
  // MAC of the next message: the prior MAC, `message` (with `id` as its ID
  // and `arcount` as its ARCOUNT) and the variables or just the timers.
  HmacSha256Digest mac_of(ByteView message, uint16_t id, uint16_t arcount, uint64_t time_signed,
                          uint16_t fudge, uint16_t error, ByteView other) const;
  void append_record(std::vector<uint8_t>& message, uint64_t time_signed, ByteView mac,
                     uint16_t error, ByteView other) const;

  const TsigKey& key_;
  std::optional<HmacSha256Digest> prior_;
  size_t messages_ = 0;
};

}  // namespace wgp::dnssd
