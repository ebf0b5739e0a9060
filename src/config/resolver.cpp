#include "config/resolver.h"

#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <memory>

namespace wgp {

ResolveResult system_resolver(const std::string& host) {
  ResolveResult result;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_protocol = IPPROTO_UDP;
  addrinfo* list = nullptr;
  int rc = getaddrinfo(host.c_str(), nullptr, &hints, &list);
  if (rc != 0) {
    result.error = gai_strerror(rc);
    return result;
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> owner(list, &freeaddrinfo);
  for (const addrinfo* ai = list; ai; ai = ai->ai_next) {
    if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
    IpAddress a = Endpoint::from_sockaddr(ai->ai_addr).address;
    // getaddrinfo repeats an address once per socket type it could serve.
    if (std::find(result.addresses.begin(), result.addresses.end(), a) == result.addresses.end())
      result.addresses.push_back(a);
  }
  if (result.addresses.empty()) result.error = "no IPv4 or IPv6 address";
  return result;
}

}  // namespace wgp
