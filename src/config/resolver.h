// Name resolution for Endpoint = host:port, behind a function type so the
// parser can be tested without DNS. Only names reach a Resolver: the parser
// handles numeric addresses itself.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "net/ip.h"

namespace wgp {

struct ResolveResult {
  std::vector<IpAddress> addresses;  // in the resolver's order of preference
  std::string error;                 // why there are none (set when addresses is empty)
};

// Resolves `host` (a DNS name, never a numeric address) to IPv4/IPv6 addresses.
using Resolver = std::function<ResolveResult(const std::string& host)>;

// getaddrinfo(host, AF_UNSPEC, SOCK_DGRAM), as `wg setconf` resolves endpoints:
// its first answer is the one used. Blocks; for start-up only.
ResolveResult system_resolver(const std::string& host);

}  // namespace wgp
