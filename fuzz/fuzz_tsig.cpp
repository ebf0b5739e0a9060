// TSIG (src/dnssd/tsig.h) and the other readers of a secondary's requests
// (src/dnssd/zone_transfer.h, zone_notify.h), with any bytes as the message.
//
// Input: byte 0 picks the clock (how far from the seeds' signing time) and
// whether the key is the seeds' one; the rest is a DNS message. Besides "no
// crash, no overread", checked: find_tsig's views lie inside the message; a
// server and a client session judge the same request alike; a request that
// verifies gets a signed answer its client verifies, and a refusal that the
// client reads as the peer's error.
#include <sodium.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

#include "dnssd/responder_query.h"
#include "dnssd/tsig.h"
#include "dnssd/zone_notify.h"
#include "dnssd/zone_transfer.h"

namespace {

using namespace wgp;
using namespace wgp::dnssd;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_tsig: %s\n", what);
  std::abort();
}

// The key of the captured seeds (tests/unit/dnssd/tsig_test.cpp), and another.
const TsigKey& key(bool seeds) {
  static const TsigKey* keys[2] = {nullptr, nullptr};
  if (!keys[seeds]) {
    std::vector<uint8_t> secret(32, 0x5a);
    if (seeds) {
      const char b64[] = "8UJ8mLQb2ZfEvSBdWb8XsBx4ENYxnPcQAEmZ4sPcS30=";
      size_t size = 0;
      sodium_base642bin(secret.data(), secret.size(), b64, sizeof b64 - 1, nullptr, &size, nullptr,
                        sodium_base64_VARIANT_ORIGINAL);
    }
    std::vector<uint8_t> name = {3, 'x', 'f', 'r', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0};
    keys[seeds] = new TsigKey{name, *HmacKey::from_bytes(secret)};
  }
  return *keys[seeds];
}

void check_inside(ByteView m, ByteView part) {
  if (part.empty()) return;
  if (part.data() < m.data() || part.data() + part.size() > m.data() + m.size())
    fail("a view of the TSIG record points outside the message");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > 65536) return -1;
  uint8_t ctl = data[0];
  ByteView m(data + 1, size - 1);
  // The seeds were signed at 0x6b105c16..23; the clock lands inside or
  // outside the fudge.
  uint64_t now = 0x6b105c16 + int64_t(ctl & 0x0F) * 100 - 300;
  const TsigKey& k = key(!(ctl & 0x10));

  TsigRecord t;
  if (find_tsig(m, t) == TsigFind::kFound) {
    if (t.start >= m.size() || t.key_name_size == 0 || t.algorithm_size == 0) fail("bad record");
    check_inside(m, t.mac);
    check_inside(m, t.other);
  }
  (void)ixfr_request_serial(m);
  if (m.size() >= 2) (void)zone_notify_response_rcode(m, load_be16(m.data()));

  TsigSession server(k), client(k);
  TsigVerdict v = server.verify(m, now);
  if (client.verify(m, now) != v) fail("two fresh sessions judge one message differently");
  ParsedQuery q;
  if (parse_query(m, q) != QueryParse::kOk) return 0;
  std::vector<uint8_t> answer = build_transfer_error(q, 0);
  if (v == TsigVerdict::kOk) {
    server.sign(answer, now);
    if (client.verify(answer, now) != TsigVerdict::kOk) fail("our signed answer does not verify");
  } else if (v != TsigVerdict::kMissing && v != TsigVerdict::kMalformed) {
    server.append_error(answer, now, TsigError::kBadSig);
    if (TsigSession(k).verify(answer, now) != TsigVerdict::kPeerError)
      fail("our refusal does not read as the peer's error");
  }
  return 0;
}
