// [Registry] and [Discovery]: the two sections wgpunch adds to wg-quick's
// format (DESIGN.md §3-§5, §10).
#include <sodium.h>

#include <algorithm>

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

// DNS's own port: where a secondary listens for NOTIFY unless told otherwise.
constexpr uint16_t kDnsPort = 53;
// Longest TransferKey secret accepted (decoded). HMAC hashes anything over
// 64 bytes anyway; tsig-keygen and keymgr make 32 for hmac-sha256.
constexpr size_t kMaxTsigSecret = 256;

constexpr std::string_view kTransferKeyForm =
    "expected hmac-sha256:NAME:SECRET (the key's name, then its secret in base64, as "
    "`tsig-keygen` or `keymgr -t` print them)";

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
  } else if (key == "NameServer") {
    for (std::string_view item : split_list(value)) {
      if (item.empty()) fail(line, key, "empty entry in the comma-separated list");
      std::string why;
      auto name = normalise_dns_name(item, why);
      if (!name) fail(line, key, "not a DNS name: " + why);
      if (std::find(registry.name_servers.begin(), registry.name_servers.end(), *name) !=
          registry.name_servers.end())
        fail(line, key, "names " + *name + " twice");
      registry.name_servers.push_back(*name);
    }
  } else if (key == "Secondary") {
    for (std::string_view item : split_list(value)) secondary(line, key, item);
  } else if (key == "TransferKey") {
    once(line, key);
    transfer_key(line, key, value);
  } else if (key == "Self") {
    once(line, key);
    auto b = parse_bool(value);
    if (!b) fail(line, key, "not yes, no, true or false");
    registry.self = *b;
    self_line_ = line;
  } else if (key == "SelfEndpoint") {
    once(line, key);
    std::string why;
    registry.self_endpoint = parse_listen_address(value, why);
    if (!registry.self_endpoint)
      fail(line, key, why + " (the registry's public address and port, as peers reach it)");
    self_endpoint_line_ = line;
  }
}

void Parser::secondary(int line, const std::string& key, std::string_view item) {
  if (item.empty()) fail(line, key, "empty entry in the comma-separated list");
  Endpoint at;
  if (auto address = IpAddress::parse(item)) {
    at = Endpoint{*address, kDnsPort};
  } else {
    std::string why;
    auto endpoint = parse_listen_address(item, why);
    if (!endpoint)
      fail(line, key, why + " (a secondary is IP or IP:PORT, [IPv6]:PORT; port 53 if none)");
    at = *endpoint;
  }
  std::vector<Endpoint>& all = config_.registry->secondaries;
  if (std::find(all.begin(), all.end(), at) != all.end())
    fail(line, key, "names " + at.to_string() + " twice");
  all.push_back(at);
  if (!secondary_line_) secondary_line_ = line;
}

void Parser::transfer_key(int line, const std::string& key, std::string_view value) {
  // ALGORITHM:NAME:SECRET. Nothing of it is ever repeated in a message: a
  // mistake may have put the secret in any field.
  size_t first = value.find(':');
  size_t last = value.rfind(':');
  if (first == std::string_view::npos || first == last)
    fail(line, key, std::string(kTransferKeyForm));
  std::string_view algorithm = value.substr(0, first);
  std::string_view name = value.substr(first + 1, last - first - 1);
  std::string_view secret = value.substr(last + 1);
  if (!iequals(algorithm, "hmac-sha256"))
    fail(line, key,
         "the algorithm (first field) must be hmac-sha256, the only one wgpunch signs "
         "with; " +
             std::string(kTransferKeyForm));
  std::string why;
  auto canonical = normalise_dns_name(name, why);
  if (!canonical)
    fail(line, key,
         "the key's name (second field) is not a DNS name: " + why + "; " +
             std::string(kTransferKeyForm));
  Secret<kMaxTsigSecret> bytes;
  size_t size = 0;
  if (secret.empty() ||
      sodium_base642bin(bytes.data(), bytes.size(), secret.data(), secret.size(), nullptr, &size,
                        nullptr, sodium_base64_VARIANT_ORIGINAL) != 0)
    fail(line, key,
         "the secret (third field) is not base64 of at most " + std::to_string(kMaxTsigSecret) +
             " bytes; " + std::string(kTransferKeyForm));
  auto hmac = HmacKey::from_bytes(ByteView(bytes.data(), size));
  if (!hmac) fail(line, key, "the secret (third field) is empty");
  config_.registry->transfer_key =
      std::make_shared<const TransferKey>(TransferKey{*canonical, std::move(*hmac)});
  transfer_key_line_ = line;
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
  if (secondary_line_ && !config_.listen_port)
    fail(secondary_line_, "Secondary",
         "needs a fixed [Interface] ListenPort: secondaries reach the registry there (UDP for "
         "queries, TCP with the same number for zone transfers)");
  if (transfer_key_line_ && !secondary_line_)
    warn(transfer_key_line_, "TransferKey", "no Secondary is listed, so the key signs nothing");
  if (self_endpoint_line_ && !config_.registry->self)
    fail(self_endpoint_line_, "SelfEndpoint",
         "given without Self = yes, so nothing would publish it; add Self = yes");
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
