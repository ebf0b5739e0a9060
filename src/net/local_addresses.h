// This host's own addresses as candidates (DESIGN.md §9): where a peer on the
// same LAN, or over IPv6, may reach this node without its NAT. The addresses
// are read with getifaddrs; a NETLINK_ROUTE socket subscribed to address
// changes tells when to read them again.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "net/ip.h"
#include "util/unique_fd.h"

namespace wgp {

// The one cap on candidates: the addresses a node registers as its own at
// most, so the most a registry's answer carries besides the observed
// mapping (dnssd/candidate_update.h, dnssd/discovery_query.h). A Device
// keeps more than an answer can carry per peer (wg/peer.h), so an answer
// never pushes out what it carries itself.
constexpr size_t kMaxOwnCandidates = 8;

// Worth publishing: IPv4 that is not unspecified, loopback (127/8), link-local
// (169.254/16), multicast or broadcast; IPv6 global unicast (2000::/3) only,
// so not loopback, link-local, unique-local (fc00::/7, most often the
// tunnel's own) or mapped. Pure.
bool is_candidate_address(const IpAddress& address);

// Where a handshake to a peer may be sent at all, whoever named the address
// (a candidate from a registry's answer): not unspecified, "this network"
// (0/8), loopback, multicast, broadcast or reserved (224/3), IPv6 loopback,
// link-local (useless without its scope), multicast, IPv4-mapped or
// -compatible. Looser than is_candidate_address: a peer's observed mapping
// may be a private or unique-local address. Pure.
bool is_peer_destination(const IpAddress& address);

// Every address of every interface of this host (loopback and the tunnel's
// included): where a node never sends a candidate probe.
std::vector<IpAddress> host_addresses();

// The host's candidate addresses now, in interface order without repeats,
// except those on interface `exclude_interface` (the TUN) and those in
// `exclude` (the tunnel's own addresses).
std::vector<IpAddress> local_candidate_addresses(const std::string& exclude_interface,
                                                 std::span<const IpAddress> exclude);

// A non-blocking NETLINK_ROUTE socket that becomes readable when an IPv4 or
// IPv6 address is added or removed anywhere on the host. Throws
// std::system_error when it cannot be opened.
UniqueFd open_address_watch();
// Reads and discards whatever waits on it; true when anything did.
bool drain_address_watch(int fd);

}  // namespace wgp
