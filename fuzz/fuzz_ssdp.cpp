// SSDP answers and the URLs in them (src/portmap/ssdp.h): the datagram that
// answered our unicast M-SEARCH (Boost.Beast reads it as an HTTP response),
// then its LOCATION through parse_http_url and url_on_link, as the UPnP
// client does. Input: the datagram, no control byte. Besides "no crash, no
// overread", checked: a location is never empty nor over 2 KiB; a URL
// url_on_link accepts parses to an IPv4 host inside 10.2.0.0/24 that is not
// 10.2.0.2 (our address in the seeds' topology).
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "portmap/ssdp.h"

namespace {

using namespace wgp;
using namespace wgp::portmap;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_ssdp: %s\n", what);
  std::abort();
}

void check_url(std::string_view url, const InterfaceAddress& link) {
  auto parsed = parse_http_url(url);
  if (parsed && (parsed->path.empty() || parsed->path[0] != '/')) fail("a path without '/'");
  if (!url_on_link(url, link)) return;
  if (!parsed) fail("on the link but not a URL");
  if (!parsed->host.is_v4() || parsed->host == link.address) fail("on the link: not a neighbour");
  if (parsed->host.bytes[0] != 10 || parsed->host.bytes[1] != 2 || parsed->host.bytes[2] != 0)
    fail("on the link: outside the subnet");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const InterfaceAddress link = *InterfaceAddress::parse("10.2.0.2/24");
  auto location = read_ssdp_location(ByteView(data, size));
  if (location) {
    if (location->empty() || location->size() > 2048) fail("a location of the wrong size");
    check_url(*location, link);
  }
  // The bytes as a URL too (a description's control URL is one).
  check_url(std::string_view(reinterpret_cast<const char*>(data), size), link);
  return 0;
}
