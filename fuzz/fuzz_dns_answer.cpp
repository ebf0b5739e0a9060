// The discovery client's parsers of the registry's answers and NOTIFYs
// (src/dnssd/discovery_query.h, notify.h, relay_offer.h): untrusted bytes
// that anyone who guesses a DNS ID can send. Input: byte 0 decides whether
// the expected ID is the datagram's own (so the parsers get past the ID
// check) or a fixed one; the rest is the datagram. Properties: a kOk SRV
// answer carries a peer with the asked key and a non-zero port; a parsed
// NOTIFY survives a round trip through build_notify; a relay offer that
// parses is what build_relay_offer writes for its answer.
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "dnssd/discovery_query.h"
#include "dnssd/notify.h"
#include "dnssd/relay_offer.h"

namespace {

using namespace wgp;
using namespace wgp::dnssd;

PublicKey key_n(int n) {
  PublicKey k;
  for (size_t i = 0; i < k.size(); ++i) k[i] = uint8_t(n * 131 + i * 7 + 1);
  return k;
}

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_dns_answer: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > 4096) return -1;
  static const PublicKey kKey = key_n(1);
  static constexpr const char* kZones[4] = {"example.net.", "EXAMPLE.net", "", "a.b.c.d.e.f."};
  uint8_t ctl = data[0];
  ByteView msg(data + 1, size - 1);
  std::string_view zone = kZones[(ctl >> 1) & 3];

  std::optional<uint16_t> id = response_id(msg);
  uint16_t expected = (ctl & 1) && id ? *id : uint16_t(0x4a4a);

  SrvAnswer srv = parse_srv_response(msg, expected, kKey, zone);
  if (srv.status == AnswerStatus::kOk) {
    if (!srv.peer) fail("kOk SRV answer without a peer");
    if (srv.peer->key != kKey) fail("SRV answer for another key");
    if (srv.peer->endpoint.port == 0) fail("SRV answer with port 0");
  } else if (srv.peer) {
    fail("peer set on a failed SRV answer");
  }
  (void)parse_ptr_response(msg, expected, zone);
  if (auto offer = parse_relay_offer(msg, expected, kKey, zone)) {
    std::vector<uint8_t> built;
    if (!build_relay_offer(expected, kKey, zone, *offer, {}, built))
      fail("cannot build a relay offer");
    if (parse_relay_offer(built, expected, kKey, zone) != offer)
      fail("relay offer round trip differs");
  }

  (void)is_notify_ack(msg);
  if (auto n = parse_notify(msg, zone)) {
    std::vector<uint8_t> again;
    if (!build_notify(n->id, n->asker, zone, again)) fail("cannot rebuild a parsed NOTIFY");
    auto n2 = parse_notify(again, zone);
    if (!n2 || n2->id != n->id || n2->asker != n->asker) fail("NOTIFY round trip differs");
    std::vector<uint8_t> ack;
    if (!build_notify_ack(*n, zone, ack) || !is_notify_ack(ack)) fail("bad NOTIFY ack");
  }
  return 0;
}
