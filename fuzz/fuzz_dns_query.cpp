// The registry's DNS responder (src/dnssd/responder.h), the demultiplexer
// in front of it (src/dnssd/demux.h) and its reader of candidate UPDATEs
// (src/dnssd/candidate_update.h) and of relay-offer questions
// (src/dnssd/relay_offer.h), with any bytes as the query.
//
// Input: byte 0 picks the output size and the access decision; the rest is
// the datagram. Besides "no crash, no overread", two properties are checked:
// a second answer to the same query (from the cache) is byte-identical to the
// first, and every response is a DNS message ldns can read back, with the
// query's ID, QR set.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "dnssd/base32.h"
#include "dnssd/candidate_update.h"
#include "dnssd/demux.h"
#include "dnssd/discovery_query.h"
#include "dnssd/relay_offer.h"
#include "dnssd/responder.h"
#include "dnssd/responder_query.h"

// After the C++ headers: ldns pulls in BoringSSL's C++ parts from inside its
// extern "C" block, which clang rejects when they come first.
#include <ldns/ldns.h>  // NOLINT(build/include_order)

namespace {

using namespace wgp;
using namespace wgp::dnssd;

PublicKey key_n(int n) {
  PublicKey k;
  for (size_t i = 0; i < k.size(); ++i) k[i] = uint8_t(n * 131 + i * 7 + 1);
  return k;
}

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_dns_query: %s\n", what);
  std::abort();
}

void check_response(ByteView query, ByteView response) {
  if (response.size() < kDnsHeaderBytes) fail("response shorter than a DNS header");
  if (response[0] != query[0] || response[1] != query[1]) fail("response ID differs from query");
  if (!(response[2] & 0x80)) fail("response without QR");
  ldns_pkt* pkt = nullptr;
  if (ldns_wire2pkt(&pkt, response.data(), response.size()) != LDNS_STATUS_OK)
    fail("ldns cannot read our response");
  ldns_pkt_free(pkt);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > 4096) return -1;
  static Responder* responder = [] {
    auto* r = new Responder("Example.NET");
    return r;
  }();
  // Fresh peers (and an empty cache) per input, so a crash reproduces alone.
  responder->set_peers({{key_n(1), *Endpoint::parse("192.0.2.10:51820")},
                        {key_n(2), *Endpoint::parse("[2001:db8::2]:4500")},
                        {key_n(3), *Endpoint::parse("198.51.100.3:1")}});

  static constexpr size_t kOutSizes[8] = {512, 1232, 65535, 12, 0, 100, 1400, 4096};
  uint8_t ctl = data[0];
  ByteView query(data + 1, size - 1);
  QueryAccess access = (ctl & 0x08) ? QueryAccess::kRefused : QueryAccess::kAllowed;
  size_t out_size = kOutSizes[ctl & 7];

  (void)classify_datagram(query);
  (void)plausible_dns_header(query);
  ParsedQuery parsed;
  (void)parse_query(query, parsed);

  // The registry's other reader of in-tunnel DNS: candidate UPDATEs. What it
  // accepts must be a set it would publish, and survive a rebuild.
  static const PublicKey kSender = [] {
    PublicKey k;
    for (size_t i = 0; i < k.size(); ++i) k[i] = uint8_t(3 * i + 1);
    return k;
  }();
  ReadUpdate update = read_candidate_update(query, kSender, "example.net.");
  if (update.verdict == UpdateVerdict::kOk) {
    if (update.set.addresses.size() > kMaxCandidates) fail("update: too many candidates");
    if (!update.set.addresses.empty() && update.set.port == 0)
      fail("update: candidates without a port");
    std::vector<uint8_t> rebuilt;
    if (!build_candidate_update(update.id, kSender, "example.net.", update.set, rebuilt))
      fail("update: an accepted set cannot be rebuilt");
    ReadUpdate again = read_candidate_update(rebuilt, kSender, "example.net.");
    if (again.verdict != UpdateVerdict::kOk || !(again.set == update.set))
      fail("update: round trip differs");
  }

  // The registry's answer to a question for its relay offer: what a node
  // reads back from it is the offer (dnssd/relay_offer.h).
  if (auto id = relay_offer_question(query, key_n(1), "example.net.")) {
    std::vector<uint8_t> offer;
    if (!build_relay_offer(*id, key_n(1), "example.net.", true, {}, offer))
      fail("relay offer: cannot answer a question it accepted");
    if (parse_relay_offer(offer, *id, key_n(1), "example.net.") != true)
      fail("relay offer: the answer does not read back");
  }

  // Exactly sized buffers, so that ASan sees any write past `out`.
  std::vector<uint8_t> first(out_size), second(out_size);
  AnswerResult a = responder->answer(query, access, first);
  if (a.length > out_size) fail("answer longer than the buffer");
  AnswerResult b = responder->answer(query, access, second);
  if (a.length != b.length || (a.length && std::memcmp(first.data(), second.data(), a.length) != 0))
    fail("cached answer differs from the first answer");
  if (a.asked_about != b.asked_about) fail("cached asked_about differs");
  if (a.length) check_response(query, ByteView(first.data(), a.length));

  // The label decoders see outside text too (question labels).
  std::string_view text(reinterpret_cast<const char*>(query.data()), query.size());
  (void)key_from_label(text);
  (void)base32_decode(text);
  return 0;
}
