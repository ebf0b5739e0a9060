// A peer's TXT record as wgsd serves it (DESIGN.md §11), at its instance name
// <B32>._wireguard._udp.<zone>: three DNS-SD key=value strings (RFC 6763
// §6.3), byte for byte what wgsd writes,
//
//   "txtvers=1" "pub=<base64 key>" "allowed=<prefix>,<prefix>"
//
// (the registry's AllowedIPs for the peer, in its order, as `wg` prints
// them), plus "name=<label>" when the registry names the peer.
#pragma once

#include <string>
#include <vector>

#include "crypto/keys.h"
#include "net/ip.h"
#include "util/bytes.h"

namespace wgp::dnssd {

constexpr uint16_t kTypeTxt = 16;

struct PeerTxt {
  PublicKey key{};
  std::vector<IpPrefix> allowed;  // in the record's order
  std::string name;               // empty: none
};

// The RDATA of the record. A character-string holds at most 255 bytes: the
// allowed= string keeps the prefixes that fit (about 14 IPv4 or 6 IPv6 ones;
// the config warns beyond), whole ones only.
std::vector<uint8_t> build_peer_txt(const PeerTxt& txt);

}  // namespace wgp::dnssd
