// The wgpunch config file (DESIGN.md §3): wg-quick's format, its [Interface]
// and [Peer] sections as wg and wg-quick read them (PROTOCOL.md §7.4), plus
// [Registry] and [Discovery] for DNS-SD. Parsing is strict: every mistake is a
// ConfigError naming file, line and key, and key material never appears in one.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "config/resolver.h"
#include "crypto/hmac_sha256.h"
#include "crypto/keys.h"
#include "net/ip.h"

namespace wgp {

struct PeerConfig {
  PublicKey public_key{};
  std::optional<PresharedKey> preshared_key;
  std::vector<IpPrefix> allowed_ips;  // host bits cleared (a warning says when they were set)
  std::optional<Endpoint> endpoint;   // resolved at load time
  std::string endpoint_text;          // as written, for messages
  uint16_t persistent_keepalive = 0;  // seconds; 0 = off
  // Name (DESIGN.md §11): one DNS label, lower case; a registry publishes
  // <name>.<zone> A/AAAA (the peer's host addresses among its AllowedIPs)
  // and "name=<name>" in its TXT. Empty: none.
  std::string name;
  int line = 0;  // line of its [Peer] header
};

// [Registry] TransferKey: the TSIG key (RFC 8945, hmac-sha256) that signs the
// registry's exchanges with its secondaries. The secret is never printed.
struct TransferKey {
  std::string name;  // lower case, ends in '.'
  HmacKey secret;
  bool operator==(const TransferKey& o) const { return name == o.name && secret == o.secret; }
};

// [Registry]: this node answers DNS-SD for its peers under `zone`, and is
// the hidden primary of the secondaries listed (DESIGN.md §10).
struct RegistryConfig {
  std::string zone;        // lower case, ends in '.'
  bool is_public = false;  // answer plain DNS on the WireGuard port from any source
  bool relay = false;      // forward datagrams between peers that reach no direct path (§9)
  // NameServer: the apex's NS targets, lower case, ending in '.'; empty: the apex.
  std::vector<std::string> name_servers;
  // Secondary: where NOTIFYs go (port 53 unless given); their addresses alone
  // may transfer the zone and ask in plain DNS. No repeats.
  std::vector<Endpoint> secondaries;
  // Shared, so that copies of the config hold one secret, wiped with the last.
  std::shared_ptr<const TransferKey> transfer_key;
  // Self = yes (DESIGN.md §11, wgsd's `self`): the registry publishes its own
  // record too, at `self_endpoint` when set (SelfEndpoint, for a registry
  // behind a NAT), else at its ListenPort on the address a query came to.
  bool self = false;
  std::optional<Endpoint> self_endpoint;
};

// [Discovery]: this node looks its peers up at the registries, peers of its
// own that share no state (DESIGN.md §10): it keeps a session with each and
// asks whichever answers.
struct DiscoveryConfig {
  std::vector<PublicKey> registries;  // PublicKeys of Config::peers, at least one, no repeats
  std::string zone;                // lower case, ends in '.'
  uint32_t interval_seconds = 10;  // >= 1
  bool local_candidates = true;    // register our interface addresses with the registries (§9)
};

struct Config {
  std::string path;
  PrivateKey private_key;
  PublicKey public_key{};                   // derived from private_key
  std::optional<uint16_t> listen_port;      // nullopt: any free port (ListenPort = 0 too)
  std::vector<InterfaceAddress> addresses;  // host bits kept, as wg-quick's Address
  uint16_t mtu = 1420;
  std::optional<uint32_t> fwmark;  // nullopt: off (FwMark = off or 0, as wg)
  std::optional<Endpoint> metrics_listen;  // MetricsListen: Prometheus over HTTP; nullopt: off
  // PortMapping = auto (true, the default) | no: with [Discovery], ask the
  // default gateway for a port mapping (PCP, NAT-PMP, UPnP) and register it
  // as a candidate (DESIGN.md §9).
  bool port_mapping = true;
  std::optional<RegistryConfig> registry;
  std::optional<DiscoveryConfig> discovery;
  std::vector<PeerConfig> peers;  // in file order
  // Problems that do not stop the node (config readable by others, AllowedIPs
  // with host bits set), one line each, for the caller to print. Never secrets.
  std::vector<std::string> warnings;
};

// MTU limits. 576 is the datagram size every IPv4 host must accept (RFC 791);
// below it the tunnel cannot carry IPv4 that the rest of the Internet assumes
// works. IPv6 needs 1280 on every link (RFC 8200 §5), and Linux disables IPv6
// on a device whose MTU drops below that, so a config that puts an IPv6
// Address on the interface must have MTU >= 1280. 65535 is the largest MTU a
// TUN device takes and the largest IPv4 packet.
constexpr uint16_t kMinMtu = 576;
constexpr uint16_t kMinMtuIpv6 = 1280;
constexpr uint16_t kDefaultMtu = 1420;

// Every mistake in a config file. what() is one line, either
// "FILE:LINE: KEY: problem", "FILE:LINE: problem" (when the line's text is not
// safe to repeat) or "FILE: problem" (when no line applies).
class ConfigError : public std::runtime_error {
 public:
  ConfigError(const std::string& file, int line, const std::string& key,
              const std::string& problem);
  ConfigError(const std::string& file, const std::string& problem);

  const std::string& file() const { return file_; }
  int line() const { return line_; }               // 0 when none applies
  const std::string& key() const { return key_; }  // empty when none applies
  const std::string& problem() const { return problem_; }

 private:
  std::string file_;
  int line_ = 0;
  std::string key_;
  std::string problem_;
};

// Reads and parses the file at `path`. Adds a warning to Config::warnings when
// the file is readable or writable by group or others (as wg-quick warns),
// since it holds the private key; read permission for `trusted_group` (the
// group of `up --user`, which must read the file again on reload) is not
// warned about. Throws ConfigError when the file cannot be read (not a
// regular file, larger than 1 MiB, I/O error) or does not parse.
Config load_config(const std::string& path, std::optional<gid_t> trusted_group = std::nullopt);

// Parses `text` (a whole file). `path_for_messages` is the FILE of error and
// warning messages and Config::path. Endpoint names are resolved through
// `resolve`, after the whole file has been checked; numeric endpoints never
// reach it. Throws ConfigError on the first mistake.
Config parse_config(std::string_view text, const std::string& path_for_messages,
                    const Resolver& resolve = system_resolver);

}  // namespace wgp
