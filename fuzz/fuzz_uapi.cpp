// The UAPI control protocol (PROTOCOL.md §7): the request machine of one
// connection (src/control/uapi_protocol.h) fed in arbitrary chunks, the `set`
// body parser (src/control/uapi_set.h) applied to an in-memory device, and
// the client's parser of `get` replies (src/control/uapi_reply.h).
//
// Input: byte 0 = mode (bits 0-1) and chunk size / limits (bits 2-7); the
// rest is what arrives on the socket. Property: whatever state a set request
// leaves the device in, its get reply parses back to the same device.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "control/uapi_get.h"
#include "control/uapi_protocol.h"
#include "control/uapi_reply.h"
#include "control/uapi_set.h"
#include "unit/control/fake_device.h"

namespace {

using namespace wgp;
using namespace wgp::control;
using wgp::testing::FakeDevice;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_uapi: %s\n", what);
  std::abort();
}

void prepare(FakeDevice& device) {
  // RFC 7748 Alice as the device key, one peer, a busy port.
  auto priv =
      from_hex_exact<32>("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
  device.set_private_key(PrivateKey(std::span<const uint8_t, 32>(*priv)));
  PublicKey peer;
  peer.fill(1);
  device.add_peer(peer);
  device.add_peer_allowed_ip(peer, *IpPrefix::parse("10.0.0.0/24"));
  device.busy_ports.insert(1234);
}

void check_get_round_trip(const FakeDevice& device) {
  DeviceSnapshot before = device.snapshot();
  std::string reply = format_get_reply(before);
  DeviceSnapshot after;
  GetReplyResult r = parse_get_reply(reply, after);
  if (!r.ok) fail("our own get reply does not parse");
  if (after.listen_port != before.listen_port || after.fwmark != before.fwmark ||
      after.peers.size() != before.peers.size() ||
      after.private_key.has_value() != before.private_key.has_value() ||
      (before.private_key && !(*after.private_key == *before.private_key)))
    fail("get reply round trip changed the device fields");
  for (size_t i = 0; i < before.peers.size(); ++i) {
    const PeerSnapshot &a = before.peers[i], &b = after.peers[i];
    if (a.public_key != b.public_key || a.endpoint != b.endpoint ||
        a.persistent_keepalive != b.persistent_keepalive || a.allowed_ips != b.allowed_ips ||
        !(a.preshared_key == b.preshared_key))
      fail("get reply round trip changed a peer");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > 16384) return -1;
  uint8_t ctl = data[0];
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  FakeDevice device;
  prepare(device);
  device.fail_fwmark = ctl & 0x80;

  switch (ctl & 3) {
    case 0:
    case 3: {  // a connection: chunks of 1..32 bytes, small or real limits
      size_t chunk = 1 + ((ctl >> 2) & 31);
      size_t max_line = (ctl & 0x80) ? 64 : 4096;
      UapiProtocol protocol(device, max_line, 8192);
      bool closed = false;
      for (size_t at = 0; at < input.size() && !closed; at += chunk) {
        protocol.receive(input.substr(at, chunk));
        for (int guard = 0; guard < 10000; ++guard) {
          auto status = protocol.step();
          if (status == UapiProtocol::Status::kReply) {
            std::string reply = protocol.take_reply();
            if (reply.size() < 2 || reply.compare(reply.size() - 2, 2, "\n\n") != 0)
              fail("reply does not end with a blank line");
            continue;
          }
          if (guard == 9999) fail("step() never settles");
          closed = status == UapiProtocol::Status::kClose;
          break;
        }
      }
      break;
    }
    case 1: {  // a set body straight into the parser
      std::string why;
      int rc = apply_set_request(device, input, &why);
      if (rc > 0) fail("positive errno from a set request");
      if (rc != 0 && why.empty()) fail("failed set request without a reason");
      break;
    }
    case 2: {  // a reply from a (hostile) server, as `wgpunch status` reads it
      DeviceSnapshot out;
      (void)parse_get_reply(input, out);
      return 0;
    }
  }
  check_get_round_trip(device);
  return 0;
}
