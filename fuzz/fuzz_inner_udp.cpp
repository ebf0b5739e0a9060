// The IP/UDP inside decrypted data packets: the strict UDP-in-IP parser the
// registry runs on in-tunnel DNS (src/dnssd/inner_udp.h) and the IP header
// reader the device runs on every decrypted packet (src/wg/ip_packet.h), and
// the destination peek the in-tunnel DNS interception runs on every one.
// The input is the packet itself. Properties: the views point inside the
// input and agree with the header, and what parse_udp_packet accepts, rebuilt
// with build_udp_packet, parses back to the same fields.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "dnssd/inner_udp.h"
#include "wg/ip_packet.h"

namespace {

using namespace wgp;
using namespace wgp::dnssd;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_inner_udp: %s\n", what);
  std::abort();
}

bool inside(ByteView part, ByteView whole) {
  return part.empty() ||
         (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 65535 + 64) return -1;
  ByteView packet(data, size);

  if (auto ip = parse_ip_header(packet)) {
    if (ip->version != 4 && ip->version != 6) fail("ip version neither 4 nor 6");
    size_t addr = ip->version == 4 ? 4 : 16;
    if (ip->source.size() != addr || ip->destination.size() != addr) fail("address size");
    if (!inside(ip->source, packet) || !inside(ip->destination, packet)) fail("address outside");
    if (ip->total_length > size) fail("total_length beyond the packet");
  }

  // The data path's peek must agree with the full parse wherever that one
  // accepts the packet (it may accept more: it checks nothing but where the
  // packet goes).
  auto peeked = peek_udp_destination(packet);
  auto udp = parse_udp_packet(packet);
  if (udp && (!peeked || !(peeked->address == udp->destination) ||
              peeked->port != udp->destination_port))
    fail("peek_udp_destination disagrees with parse_udp_packet");
  if (!udp) return 0;
  if (!inside(udp->payload, packet)) fail("UDP payload outside the packet");
  if (udp->source.family != udp->destination.family) fail("mixed address families");

  size_t rebuilt_size = udp_packet_size(udp->source.family, udp->payload.size());
  // An IPv6 payload may be up to 65535 bytes after its header; ours are capped at 65535 in all.
  if (rebuilt_size > 65535) return 0;
  std::vector<uint8_t> rebuilt(rebuilt_size);
  size_t n = build_udp_packet(udp->source, udp->source_port, udp->destination,
                              udp->destination_port, udp->payload, rebuilt);
  if (n != rebuilt.size()) fail("cannot rebuild an accepted packet");
  auto again = parse_udp_packet(rebuilt);
  if (!again) fail("rebuilt packet does not parse");
  if (!(again->source == udp->source) || !(again->destination == udp->destination) ||
      again->source_port != udp->source_port || again->destination_port != udp->destination_port ||
      again->payload.size() != udp->payload.size() ||
      std::memcmp(again->payload.data(), udp->payload.data(), udp->payload.size()) != 0)
    fail("round trip changed the packet");
  return 0;
}
