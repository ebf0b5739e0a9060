// Finding the gateway's UPnP Internet Gateway Device (UPnP Device
// Architecture 1.1 §1.3) without asking anyone else: the search goes as a
// unicast M-SEARCH to the default gateway's port 1900 (§1.3.2 allows
// unicast searches), never to the multicast group, and only a device whose
// description lies on our own link (an IPv4 literal in our subnet) is used.
// The answer is an HTTP response in a datagram, read with Boost.Beast; the
// description and the SOAP calls then go through libminiupnpc.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "net/ip.h"
#include "util/bytes.h"

namespace wgp::portmap {

constexpr uint16_t kSsdpPort = 1900;
constexpr std::string_view kIgdSearchTarget = "urn:schemas-upnp-org:device:InternetGatewayDevice:1";

// The M-SEARCH for an IGD, addressed to `gateway` (HOST: gateway:1900). MX
// is 1: a device may wait up to a second before it answers (§1.3.3).
std::string build_msearch(const IpAddress& gateway);

// The LOCATION of an SSDP answer: an HTTP/1.1 200 response with a LOCATION
// header. nullopt for anything else (not HTTP, another status, no or an
// empty LOCATION, over 2 KiB).
std::optional<std::string> read_ssdp_location(ByteView datagram);

// An http:// URL whose host is an IPv4 literal ("http://10.0.0.1:5000/x").
struct HttpUrl {
  IpAddress host;
  uint16_t port = 80;
  std::string path = "/";
};
// nullopt for any other scheme, a host name, a bad port, or a URL with
// user info.
std::optional<HttpUrl> parse_http_url(std::string_view url);

// True when `url` names a device on `link` (our address and prefix length
// towards the gateway): http:// to an IPv4 literal inside that subnet, not
// our own address.
bool url_on_link(std::string_view url, const InterfaceAddress& link);

}  // namespace wgp::portmap
