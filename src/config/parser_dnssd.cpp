// [Registry] and [Discovery]: the two sections wgpunch adds to wg-quick's
// format (DESIGN.md §3-§5).
#include "config/config_values.h"
#include "config/parser.h"

namespace wgp::config {
namespace {

// The longest name published under a zone is <B32>._wireguard._udp.<zone>
// (DESIGN.md §4): a 56-character label, then 10 and 4, each with its length
// byte. A DNS name is at most 255 bytes in wire form, so the zone (root byte
// included) may take at most 255 - 57 - 11 - 5 = 182.
constexpr size_t kMaxZoneWire = 255 - (1 + 56) - (1 + 10) - (1 + 4);
static_assert(kMaxZoneWire == 182);

}  // namespace

std::string Parser::zone(int line, const std::string& key, std::string_view value) {
  std::string why;
  size_t wire = 0;
  auto name = normalise_dns_name(value, why, &wire);
  if (!name) fail(line, key, "not a DNS zone name: " + why);
  if (wire > kMaxZoneWire)
    fail(line, key,
         "too long: names published below it (<key in base32>._wireguard._udp.ZONE) would "
         "pass 255 bytes; a zone may take " +
             std::to_string(kMaxZoneWire) + " bytes in wire form, this one takes " +
             std::to_string(wire));
  return *name;
}

void Parser::registry_key(int line, const std::string& key, std::string_view value) {
  RegistryConfig& registry = *config_.registry;
  if (key == "Zone") {
    once(line, key);
    registry.zone = zone(line, key, value);
  } else if (key == "Public") {
    once(line, key);
    auto b = parse_bool(value);
    if (!b) fail(line, key, "not yes, no, true or false");
    registry.is_public = *b;
  } else if (key == "Relay") {
    once(line, key);
    auto b = parse_bool(value);
    if (!b) fail(line, key, "not yes, no, true or false");
    registry.relay = *b;
  }
}

void Parser::discovery_key(int line, const std::string& key, std::string_view value) {
  DiscoveryConfig& discovery = *config_.discovery;
  if (key == "Registry") {
    // A comma list, and the line may repeat: every key is one more registry.
    for (std::string_view item : split_list(value)) {
      if (item.empty()) fail(line, key, "empty entry in the comma-separated list");
      auto k = public_key_from_base64(item);
      if (!k)
        fail(line, key,
             "not a valid key: expected the 44-character base64 PublicKey of a registry's [Peer]");
      for (const PublicKey& known : discovery.registries)
        if (known == *k) fail(line, key, "names the same registry twice");
      discovery.registries.push_back(*k);
      registry_key_lines_.push_back(line);
    }
  } else if (key == "Zone") {
    once(line, key);
    discovery.zone = zone(line, key, value);
  } else if (key == "Interval") {
    once(line, key);
    auto seconds = parse_decimal(value, UINT32_MAX);
    if (!seconds || *seconds == 0) fail(line, key, "not a whole number of seconds, 1 or more");
    discovery.interval_seconds = uint32_t(*seconds);
  } else if (key == "LocalCandidates") {
    once(line, key);
    auto b = parse_bool(value);
    if (!b) fail(line, key, "not yes, no, true or false");
    discovery.local_candidates = *b;
  }
}

void Parser::check_registry_and_discovery() {
  if (config_.registry && config_.registry->zone.empty())
    fail(registry_line_, "Zone", "missing: [Registry] needs the zone it answers for");
  if (!config_.discovery) return;
  if (config_.discovery->zone.empty())
    fail(discovery_line_, "Zone", "missing: [Discovery] needs the zone to look peers up in");
  if (registry_key_lines_.empty())
    fail(discovery_line_, "Registry",
         "missing: [Discovery] needs the PublicKey of the [Peer] that runs the registry");
  // Checked after the whole file: a registry's [Peer] may come after [Discovery].
  const auto& registries = config_.discovery->registries;
  for (size_t i = 0; i < registries.size(); ++i) {
    bool found = false;
    for (const PeerConfig& peer : config_.peers) found |= peer.public_key == registries[i];
    if (!found)
      fail(registry_key_lines_[i], "Registry",
           "names no [Peer] of this file; it must be the PublicKey of the peer that runs the "
           "registry");
  }
}

}  // namespace wgp::config
