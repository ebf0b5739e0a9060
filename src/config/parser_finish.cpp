// Whole-file rules: what must be present, what must differ between peers, and
// endpoint resolution, which waits until the file is known to be correct so
// that a typo is reported before a slow DNS lookup.
#include <algorithm>
#include <cctype>
#include <map>

#include "config/config_values.h"
#include "config/parser.h"
#include "crypto/x25519.h"

namespace wgp::config {
namespace {

// A host name is repeated in messages only when it could be one: no '+', '/'
// or '=', so a base64 key pasted by mistake never is.
std::string host_shown(const std::string& host) {
  bool plain = std::all_of(host.begin(), host.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' ||
           c == ':' || c == '%';
  });
  return plain ? "'" + host + "'" : "the host";
}

}  // namespace

Config Parser::finish() {
  if (!interface_line_) fail(0, "", "no [Interface] section; the file must begin with one");
  check_interface();
  check_peers();
  check_registry_and_discovery();
  check_names();
  resolve_endpoints();
  return std::move(config_);
}

void Parser::check_interface() {
  if (!have_private_key_)
    fail(interface_line_, "PrivateKey", "missing: [Interface] needs one ('wgpunch genkey')");
  config_.public_key = derive_public_key(config_.private_key);
  // Address may come after MTU, so this waits for the whole file.
  if (config_.mtu < kMinMtuIpv6) {
    auto v6 = std::find_if(config_.addresses.begin(), config_.addresses.end(),
                           [](const InterfaceAddress& a) { return !a.address.is_v4(); });
    if (v6 != config_.addresses.end())
      fail(mtu_line_, "MTU",
           std::to_string(config_.mtu) + " is below 1280, the least IPv6 needs (RFC 8200), and " +
               "Address has the IPv6 address " + v6->to_string());
  }
}

void Parser::check_peers() {
  std::map<PublicKey, int> first_line;  // public key -> line of its first PublicKey
  for (size_t i = 0; i < config_.peers.size(); ++i) {
    const PeerConfig& peer = config_.peers[i];
    int key_line = peer_lines_[i].public_key;
    if (!key_line) fail(peer.line, "PublicKey", "missing: every [Peer] needs one");
    auto [it, fresh] = first_line.emplace(peer.public_key, key_line);
    if (!fresh)
      fail(key_line, "PublicKey",
           "same key as the [Peer] whose PublicKey is on line " + std::to_string(it->second));
    if (peer.public_key == config_.public_key)
      fail(key_line, "PublicKey", "this is the interface's own public key, not a peer's");
    // A low-order point gives an all-zero DH result: every handshake with this
    // peer would be refused (PROTOCOL.md §1), so say so now.
    Secret<kKeySize> shared;
    if (!x25519(shared, config_.private_key, peer.public_key))
      fail(key_line, "PublicKey", "not a usable key (a low-order point); no handshake can succeed");
  }
}

void Parser::check_names() {
  std::map<std::string, int> first_line;  // name -> line of its first Name
  for (size_t i = 0; i < config_.peers.size(); ++i) {
    const PeerConfig& peer = config_.peers[i];
    if (config_.registry) {
      // The TXT's "allowed=p1,p2" is one DNS character-string: 255 bytes.
      size_t text = 8, fit = 0;
      for (const IpPrefix& p : peer.allowed_ips) {
        text += (fit ? 1 : 0) + p.to_string().size();
        if (text > 255) break;
        ++fit;
      }
      if (fit < peer.allowed_ips.size())
        warn(peer.line, "AllowedIPs",
             "the registry's TXT record for this peer lists only the first " + std::to_string(fit) +
                 " of " + std::to_string(peer.allowed_ips.size()) +
                 " (one DNS string holds 255 bytes)");
    }
    int line = peer_lines_[i].name;
    if (peer.name.empty()) continue;
    auto [it, fresh] = first_line.emplace(peer.name, line);
    if (!fresh)
      fail(line, "Name",
           "'" + peer.name + "' is already the Name of the [Peer] on line " +
               std::to_string(it->second) + "; names are unique (case does not count)");
    if (!config_.registry) {
      warn(line, "Name", "only a [Registry] publishes names; this node has none");
      continue;
    }
    bool host = std::any_of(peer.allowed_ips.begin(), peer.allowed_ips.end(),
                            [](const IpPrefix& p) { return p.is_host(); });
    if (!host)
      warn(line, "Name",
           peer.name + "." + config_.registry->zone +
               " gets no address: AllowedIPs holds no single address (/32 or /128)");
  }
}

void Parser::resolve_endpoints() {
  for (size_t i = 0; i < config_.peers.size(); ++i) {
    PeerConfig& peer = config_.peers[i];
    if (peer.endpoint_text.empty()) continue;
    int line = peer_lines_[i].endpoint;
    std::string why;
    auto hp = split_host_port(peer.endpoint_text, why);  // checked when the line was read
    if (!hp) fail(line, "Endpoint", why);
    bool bracketed = peer.endpoint_text.front() == '[';
    auto numeric = IpAddress::parse(hp->host);
    if (bracketed && (!numeric || numeric->is_v4()))
      fail(line, "Endpoint", host_shown(hp->host) + " in brackets is not an IPv6 address");
    if (!numeric) {
      bool all_digits_and_dots = std::all_of(hp->host.begin(), hp->host.end(), [](char c) {
        return (c >= '0' && c <= '9') || c == '.';
      });
      if (all_digits_and_dots)
        fail(line, "Endpoint", host_shown(hp->host) + " is not an IPv4 address");
      ResolveResult r = resolve_(hp->host);
      if (r.addresses.empty())
        fail(line, "Endpoint",
             "cannot resolve " + host_shown(hp->host) + ": " +
                 (r.error.empty() ? "no address" : r.error));
      numeric = r.addresses.front();  // the first answer, as wg takes it
    }
    peer.endpoint = Endpoint{*numeric, hp->port};
  }
}

}  // namespace wgp::config
