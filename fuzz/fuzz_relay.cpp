// The relay's routing input (issue 17): datagrams arriving at a registry
// with Relay = yes for forwarding. A registry and two of its peers, Alice
// and Bob, each with a session with it, looked each other up and completed a
// handshake through it, so that routes exist both ways; then each record of
// the input is one datagram at the registry, from Alice's endpoint, Bob's,
// a stranger's or Carol's (a peer of the registry's that looked Bob up),
// shaped as the record says. What the registry sends goes over the wire to
// Alice and Bob, whose own receive paths take it. The world is built anew
// for every input from fixed seeds, so an input replays exactly.
//
// Record: [ctl:1][sel:1][len:1][len bytes of body]
//   ctl bits 0-3: clock step before it (kSteps); bits 4-5: source (Alice,
//   Bob, stranger, Carol); bit 6: timers run after it; bit 7: the wire is
//   delivered after it.
//   sel bits 0-1: shape: 0 the body as it is; else a WireGuard message of
//   type 1 + (sel >> 2) % 4, exact size (type 4: 32 + len), body copied in
//   from offset 4 (so the fuzzer writes the indices); sel bit 4: the
//   receiver index (types 2-4) is Alice's in her session with Bob, bit 5
//   Bob's; sel bit 6: mac1 (types 1, 2) valid for Bob (bit 7 clear) or
//   Alice (set).
// Checks: nothing a stranger sends is ever forwarded, the registry sends
// only to addresses of the world, and its tables stay within their bounds.
#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <vector>

#include "noise/cookie.h"
#include "noise/wire.h"
#include "support/relay_world.h"

namespace {

using namespace wgp;
using namespace wgp::testing;
using namespace std::chrono_literals;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_relay: %s\n", what);
  std::abort();
}

constexpr Duration kSteps[16] = {0s,  1ms, 10ms, 20ms, 100ms, 1s,   5s,   10s,
                                 15s, 25s, 90s,  120s, 180s,  190s, 300s, 600s};

// support/relay_world.h with Alice and Bob talking through the relay, Carol
// permitted to Bob, a stranger, and the checks above on every datagram.
class World : public RelayWorld {
 public:
  World() {
    reg.device.permit_relay(carol.public_key(), bob.public_key(), mono);
    relay_pair(alice, "10.0.0.1/32", bob, "10.0.0.2/32");
    Peer* bob_at_alice = alice.device.find_peer(bob.public_key());
    Peer* alice_at_bob = bob.device.find_peer(alice.public_key());
    if (!bob_at_alice->keypairs.current() || !alice_at_bob->keypairs.current())
      fail("no relayed session to start from");
    alice_index = bob_at_alice->keypairs.current()->local_index;
    bob_index = alice_at_bob->keypairs.current()->local_index;
    filter = [this](const Datagram& d) {
      if (d.from == reg.addr && !ours(d.to)) fail("the registry sent to an address outside the world");
      return true;
    };
  }

  bool ours(const Endpoint& e) const {
    return e == reg.addr || e == alice.addr || e == bob.addr || e == carol.addr;
  }
  // One datagram at the registry; none of a stranger's is ever forwarded.
  void deliver(ByteView d, const Endpoint& from) {
    size_t before = wire.size();
    (void)reg.device.receive_datagram(d, from, now());
    if (from != stranger) return;
    for (size_t i = before; i < wire.size(); ++i)
      if (std::equal(d.begin(), d.end(), wire[i].bytes.begin(), wire[i].bytes.end()))
        fail("the registry forwarded a stranger's datagram");
  }
  void step(Duration d, bool timers) {
    mono += d;
    wall += std::chrono::duration_cast<WallTime::duration>(d);
    if (timers)
      for (SimHost* h : hosts()) h->device.run_timers(now());
  }
  // What went over the wire is checked (filter) and forgotten.
  void settle() {
    run();
    history.clear();
  }

  Endpoint stranger = endpoint("192.0.2.66:666");
  uint32_t alice_index = 0;
  uint32_t bob_index = 0;
};

size_t message_size(uint32_t type, size_t len) {
  switch (type) {
    case 1:
      return noise::kInitiationSize;
    case 2:
      return noise::kResponseSize;
    case 3:
      return noise::kCookieReplySize;
    default:
      return noise::kTransportHeaderSize + noise::kTagSize + len;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 4096) return -1;
  World w;
  size_t at = 0;
  for (int records = 0; records < 48 && at + 3 <= size; ++records) {
    uint8_t ctl = data[at], sel = data[at + 1], len = data[at + 2];
    at += 3;
    size_t n = std::min<size_t>(len, size - at);
    ByteView body(data + at, n);
    at += n;
    w.step(kSteps[ctl & 0x0f], false);
    const Endpoint from =
        std::array{w.alice.addr, w.bob.addr, w.stranger, w.carol.addr}[(ctl >> 4) & 3];
    std::vector<uint8_t> msg;
    if ((sel & 3) == 0) {
      msg.assign(body.begin(), body.end());
    } else {
      uint32_t type = 1 + (sel >> 2) % 4;
      msg.assign(message_size(type, n), 0);
      store_le32(msg.data(), type);
      std::memcpy(msg.data() + 4, body.data(), std::min(n, msg.size() - 4));
      size_t receiver = type == 2 ? noise::kResponseReceiverOffset : 4;
      if (type >= 2 && (sel & 0x30))
        store_le32(&msg[receiver], sel & 0x10 ? w.alice_index : w.bob_index);
      if (type <= 2 && (sel & 0x40)) {
        noise::PeerKeys keys(sel & 0x80 ? w.alice.public_key() : w.bob.public_key(),
                             w.carol.device.identity());
        noise::CookieGenerator macs;
        macs.set_keys(keys.mac1_key, keys.cookie_key);
        macs.add_macs(msg, w.mono);
      }
    }
    if (msg.size() < 4) continue;  // the node drops these before the device
    w.deliver(msg, from);
    if (ctl & 0x40) w.step(0s, true);
    if (ctl & 0x80) w.settle();
    if (const Relay* relay = w.reg.device.relay();
        relay && relay->route_count() > Relay::kMaxRoutes)
      fail("routes beyond their bound");
  }
  w.settle();
  return 0;
}
