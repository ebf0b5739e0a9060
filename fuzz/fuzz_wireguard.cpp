// Arbitrary and structure-aware datagrams into a real Device (PROTOCOL.md §2–4):
// every message type reaches the real handshake consumer, the cookie checker,
// the transport decrypt and the inner-packet checks. Input format: see
// wireguard_harness.h.
#include <algorithm>
#include <cstdio>

#include "wireguard_harness.h"

namespace {

using namespace wgp;
using namespace wgp::fuzz;

// The harness relies on §6.3 and on the order in which the device draws
// randomness. If either assumption broke, the fuzzer would silently stop
// reaching the transport path; check it once and refuse to run instead.
void check_harness_reaches_transport() {
  Harness h;
  auto m1 = hex_bytes(kMessage1Hex);
  bool ok = !h.deliver(m1, 0) && h.datagrams_sent == 1;
  // §6.3 data message (counter 1): an ICMP echo 10.0.0.1 -> 10.0.0.2.
  auto plain = hex_bytes("4500001c00000000400166df0a0000010a0000020800f7fd00010001");
  plain.resize(32, 0);
  auto data = h.seal_from_alice(plain, 1);
  // Counter and ciphertext as in the transcript (the receiver index differs).
  auto expected = hex_bytes(
      "0100000000000000"
      "29114e530be647ab0ee89c74424c1297def0e91b7fd7d2586c002baf28eb0a3c"
      "23d872ab4d8b8e6390522275ca17ef17");
  ok = ok && std::equal(expected.begin(), expected.end(), data.begin() + 8, data.end());
  ok = ok && !h.deliver(data, 0) && h.tun_writes == 1;
  if (!ok) {
    std::fprintf(stderr,
                 "fuzz_wireguard: the harness no longer reaches the transport path "
                 "(see wireguard_harness.h)\n");
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  check_harness_reaches_transport();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 8192) return -1;  // 48 records of a few hundred bytes are plenty
  Harness h;
  run_wireguard_input(h, data, size);
  return 0;
}
