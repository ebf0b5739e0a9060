// Line rules of the config file: comments, whitespace, section headers and
// one handler per section for its keys (PROTOCOL.md §7.4, DESIGN.md §3).
#include "config/parser.h"

#include <sodium.h>

#include <cctype>
#include <optional>

#include "config/config_values.h"

namespace wgp::config {
namespace {

struct KeyInfo {
  std::string_view name;  // canonical spelling, used in messages
  Section section;
};

constexpr KeyInfo kKeys[] = {
    {"PrivateKey", Section::kInterface}, {"ListenPort", Section::kInterface},
    {"Address", Section::kInterface},    {"MTU", Section::kInterface},
    {"FwMark", Section::kInterface},     {"MetricsListen", Section::kInterface},
    {"PortMapping", Section::kInterface},
    {"PublicKey", Section::kPeer},
    {"PresharedKey", Section::kPeer},    {"AllowedIPs", Section::kPeer},
    {"Endpoint", Section::kPeer},        {"PersistentKeepalive", Section::kPeer},
    {"Name", Section::kPeer},
    {"Zone", Section::kRegistry},        {"Public", Section::kRegistry},
    {"Relay", Section::kRegistry},       {"NameServer", Section::kRegistry},
    {"Secondary", Section::kRegistry},   {"TransferKey", Section::kRegistry},
    {"Self", Section::kRegistry},        {"SelfEndpoint", Section::kRegistry},
    {"LocalCandidates", Section::kDiscovery},
    {"Registry", Section::kDiscovery},   {"Zone", Section::kDiscovery},
    {"Interval", Section::kDiscovery},
};

// wg-quick keys that run scripts or change the host beyond the interface.
// wgpunch leaves those to the administrator (or to wg-quick itself, which can
// drive wgpunch as its userspace implementation).
struct Unsupported {
  std::string_view name;
  std::string_view advice;
};
constexpr Unsupported kUnsupported[] = {
    {"DNS", "set the resolver yourself (resolvconf, systemd-resolved)"},
    {"Table",
     "wgpunch routes each peer's AllowedIPs in the main table; add policy routes yourself"},
    {"PreUp", "run the command yourself before 'wgpunch up'"},
    {"PostUp", "run the command yourself once 'wgpunch up' is running"},
    {"PreDown", "run the command yourself before stopping wgpunch"},
    {"PostDown", "run the command yourself after wgpunch has stopped"},
    {"SaveConfig", "wgpunch never writes its config; save 'wg showconf IFACE' yourself"},
};
constexpr std::string_view kWgQuickHint =
    " (or let wg-quick do it: WG_QUICK_USERSPACE_IMPLEMENTATION=wgpunch wg-quick up IFACE)";

std::string_view section_name(Section s) {
  switch (s) {
    case Section::kInterface:
      return "[Interface]";
    case Section::kPeer:
      return "[Peer]";
    case Section::kRegistry:
      return "[Registry]";
    case Section::kDiscovery:
      return "[Discovery]";
    case Section::kNone:
      break;
  }
  return "(no section)";
}

// "'text' is" when the value may be repeated in a message, else "the value is".
std::string value_is(std::string_view value) {
  return safe_to_echo(value) ? "'" + std::string(value) + "' is" : "the value is";
}

// "entry 'text' is" for a list entry that looks like an address or prefix (hex
// digits, '.', ':', '/') and is short; anything else might be misplaced key
// material, so it is not repeated.
std::string entry_is(std::string_view value) {
  bool shown = !value.empty() && value.size() <= 50;
  for (char c : value)
    if (!std::isxdigit(static_cast<unsigned char>(c)) && c != '.' && c != ':' && c != '/')
      shown = false;
  return shown ? "entry '" + std::string(value) + "' is" : "an entry is";
}

// The known key (or wg-quick key) that `text` misspells, if any.
std::optional<std::string_view> misspelt_key(std::string_view text) {
  for (const KeyInfo& k : kKeys)
    if (near_name(text, k.name)) return k.name;
  for (const Unsupported& u : kUnsupported)
    if (near_name(text, u.name)) return u.name;
  return std::nullopt;
}

// The known key that a line without '=' begins with ("ListenPort 51820").
std::optional<std::string_view> leading_key(std::string_view text) {
  std::optional<std::string_view> best;
  for (const KeyInfo& k : kKeys)
    if (istarts_with(text, k.name) && (!best || k.name.size() > best->size())) best = k.name;
  return best;
}

constexpr std::string_view kKeyFormat =
    "not a valid key: expected 44 characters of base64 (as 'wgpunch genkey' prints)";

}  // namespace

void Parser::fail(int line, std::string_view key, const std::string& problem) const {
  throw ConfigError(path_, line, std::string(key), problem);
}

void Parser::warn(int line, std::string_view key, const std::string& problem) {
  config_.warnings.push_back(ConfigError(path_, line, std::string(key), problem).what());
}

void Parser::feed_line(int number, std::string_view raw) {
  // As wg reads a line: cut at '#', then drop every whitespace character.
  std::string text;
  text.reserve(raw.size());  // no reallocation, so no unwiped copy of a key left behind
  struct Wipe {
    std::string& s;
    ~Wipe() { sodium_memzero(s.data(), s.size()); }
  } wipe{text};
  for (char c : raw.substr(0, raw.find('#')))
    if (!std::isspace(static_cast<unsigned char>(c))) text.push_back(c);
  if (text.empty()) return;
  if (text.front() == '[') return section_header(number, text);
  size_t eq = text.find('=');
  if (eq == std::string::npos) {
    if (auto key = leading_key(text))
      fail(number, *key, "no '=' after the key (expected " + std::string(*key) + " = VALUE)");
    if (safe_to_echo(text)) fail(number, text, "no '=' on this line (expected KEY = VALUE)");
    fail(number, "", "line is neither [Section] nor KEY = VALUE (text not shown)");
  }
  // The value keeps any further '=': base64 keys end in one.
  key_value(number, std::string_view(text).substr(0, eq), std::string_view(text).substr(eq + 1));
}

void Parser::section_header(int line, std::string_view text) {
  if (text.size() < 3 || text.back() != ']')
    fail(line, "", "a section header is [NAME] with nothing after the ']'");
  std::string_view inner = text.substr(1, text.size() - 2);
  Section s = iequals(inner, "interface")   ? Section::kInterface
              : iequals(inner, "peer")      ? Section::kPeer
              : iequals(inner, "registry")  ? Section::kRegistry
              : iequals(inner, "discovery") ? Section::kDiscovery
                                            : Section::kNone;
  if (s == Section::kNone) {
    std::optional<std::string_view> meant;
    for (Section known :
         {Section::kInterface, Section::kPeer, Section::kRegistry, Section::kDiscovery}) {
      std::string_view bracketed = section_name(known);
      if (near_name(inner, bracketed.substr(1, bracketed.size() - 2))) meant = bracketed;
    }
    std::string shown = safe_to_echo(inner) || meant ? "[" + std::string(inner) + "]" : "";
    if (meant) fail(line, shown, "unknown section; did you mean " + std::string(*meant) + "?");
    fail(line, shown, "unknown section; expected [Interface], [Peer], [Registry] or [Discovery]");
  }
  if (s == Section::kInterface && interface_line_)
    fail(line, section_name(s),
         "appears twice (first on line " + std::to_string(interface_line_) + ")");
  if (s != Section::kInterface && !interface_line_)
    fail(line, section_name(s), "[Interface] must come first in the file");
  if (s == Section::kRegistry && registry_line_)
    fail(line, section_name(s),
         "appears twice (first on line " + std::to_string(registry_line_) + ")");
  if (s == Section::kDiscovery && discovery_line_)
    fail(line, section_name(s),
         "appears twice (first on line " + std::to_string(discovery_line_) + ")");

  section_ = s;
  section_line_ = line;
  seen_.clear();
  switch (s) {
    case Section::kInterface:
      interface_line_ = line;
      break;
    case Section::kPeer:
      config_.peers.emplace_back().line = line;
      peer_lines_.emplace_back();
      break;
    case Section::kRegistry:
      registry_line_ = line;
      config_.registry.emplace();
      break;
    case Section::kDiscovery:
      discovery_line_ = line;
      config_.discovery.emplace();
      break;
    case Section::kNone:
      break;
  }
}

void Parser::key_value(int line, std::string_view key, std::string_view value) {
  if (key.empty()) fail(line, "", "'=' with no key before it");
  for (const Unsupported& u : kUnsupported)
    if (iequals(key, u.name))
      fail(line, u.name,
           "wg-quick key that wgpunch does not support; remove it and " + std::string(u.advice) +
               std::string(kWgQuickHint));

  const KeyInfo* elsewhere = nullptr;
  for (const KeyInfo& k : kKeys) {
    if (!iequals(key, k.name)) continue;
    if (k.section != section_) {
      elsewhere = &k;
      continue;
    }
    std::string canonical(k.name);
    switch (section_) {
      case Section::kInterface:
        return interface_key(line, canonical, value);
      case Section::kPeer:
        return peer_key(line, canonical, value);
      case Section::kRegistry:
        return registry_key(line, canonical, value);
      case Section::kDiscovery:
        return discovery_key(line, canonical, value);
      case Section::kNone:
        break;
    }
  }
  std::optional<std::string_view> meant = misspelt_key(key);
  std::string shown = elsewhere                    ? std::string(elsewhere->name)
                      : safe_to_echo(key) || looks_like_a_name(key) || meant ? std::string(key)
                                                   : std::string();
  if (section_ == Section::kNone)
    fail(line, shown, "outside any section; the file must begin with [Interface]");
  if (elsewhere)
    fail(line, elsewhere->name,
         "belongs in " + std::string(section_name(elsewhere->section)) + ", not in " +
             std::string(section_name(section_)));
  std::string problem = "unknown key in " + std::string(section_name(section_));
  if (meant) fail(line, shown, problem + "; did you mean " + std::string(*meant) + "?");
  if (shown.empty()) fail(line, shown, problem + " (name not shown: it may be key material)");
  fail(line, shown, problem);
}

void Parser::once(int line, const std::string& key) {
  auto [it, fresh] = seen_.emplace(key, line);
  if (!fresh)
    fail(line, key,
         "given twice in this section (first on line " + std::to_string(it->second) + ")");
}

void Parser::interface_key(int line, const std::string& key, std::string_view value) {
  if (key == "PrivateKey") {
    once(line, key);
    auto k = secret_key_from_base64(value);
    if (!k) fail(line, key, std::string(kKeyFormat));
    if (k->is_zero()) fail(line, key, "all zero, which wg reads as no key; use 'wgpunch genkey'");
    config_.private_key = std::move(*k);
    have_private_key_ = true;
    private_key_line_ = line;
  } else if (key == "ListenPort") {
    once(line, key);
    auto port = parse_decimal(value, 65535);
    if (!port) fail(line, key, value_is(value) + " not a port number 0-65535");
    if (*port == 0)
      config_.listen_port.reset();  // 0 asks for any free port, as in wg
    else
      config_.listen_port = uint16_t(*port);
  } else if (key == "Address") {
    for (std::string_view item : split_list(value)) {
      if (item.empty()) fail(line, key, "empty entry in the comma-separated list");
      auto a = InterfaceAddress::parse(item);
      if (!a) fail(line, key, entry_is(item) + " not ADDRESS or ADDRESS/LENGTH");
      config_.addresses.push_back(*a);
    }
  } else if (key == "MTU") {
    once(line, key);
    auto mtu = parse_decimal(value, 65535);
    if (!mtu) fail(line, key, value_is(value) + " not a number 576-65535");
    if (*mtu < kMinMtu)
      fail(line, key,
           std::to_string(*mtu) +
               " is below 576, the datagram size every IPv4 host must accept (RFC 791)");
    config_.mtu = uint16_t(*mtu);
    mtu_line_ = line;
  } else if (key == "FwMark") {
    once(line, key);
    auto mark = parse_fwmark(value);
    if (!mark) fail(line, key, value_is(value) + " neither off nor a number 0-0xffffffff");
    if (*mark == 0)
      config_.fwmark.reset();  // wg reads 0 as off
    else
      config_.fwmark = *mark;
  } else if (key == "MetricsListen") {
    once(line, key);
    std::string why;
    config_.metrics_listen = parse_listen_address(value, why);
    if (!config_.metrics_listen) fail(line, key, why);
    if (!is_loopback(config_.metrics_listen->address))
      warn(line, key, config_.metrics_listen->to_string() +
                          " is not a loopback address: whoever reaches it reads every peer's "
                          "public key and traffic counters (no authentication)");
  } else if (key == "PortMapping") {
    once(line, key);
    if (!iequals(value, "auto") && !iequals(value, "no"))
      fail(line, key, value_is(value) + " neither auto nor no");
    config_.port_mapping = iequals(value, "auto");
  }
}

void Parser::peer_key(int line, const std::string& key, std::string_view value) {
  PeerConfig& peer = config_.peers.back();
  PeerLines& lines = peer_lines_.back();
  if (key == "PublicKey") {
    once(line, key);
    auto k = public_key_from_base64(value);
    if (!k) fail(line, key, std::string(kKeyFormat));
    peer.public_key = *k;
    lines.public_key = line;
  } else if (key == "PresharedKey") {
    once(line, key);
    auto k = secret_key_from_base64(value);
    if (!k) fail(line, key, std::string(kKeyFormat) + " ('wgpunch genpsk')");
    if (k->is_zero())
      peer.preshared_key.reset();  // all zero means none, in wg and in the protocol
    else
      peer.preshared_key = std::move(*k);
  } else if (key == "AllowedIPs") {
    for (std::string_view item : split_list(value)) {
      if (item.empty()) fail(line, key, "empty entry in the comma-separated list");
      auto prefix = IpPrefix::parse(item);
      if (!prefix) fail(line, key, entry_is(item) + " not ADDRESS or ADDRESS/LENGTH");
      auto as_written = InterfaceAddress::parse(item);
      if (as_written && as_written->address != prefix->address)
        warn(line, key,
             as_written->to_string() + " has host bits set; it means " + prefix->to_string());
      peer.allowed_ips.push_back(*prefix);
    }
  } else if (key == "Endpoint") {
    once(line, key);
    std::string why;
    if (!split_host_port(value, why)) fail(line, key, why);
    peer.endpoint_text = std::string(value);
    lines.endpoint = line;
  } else if (key == "PersistentKeepalive") {
    once(line, key);
    auto k = parse_keepalive(value);
    if (!k) fail(line, key, value_is(value) + " neither off nor a number 0-65535");
    peer.persistent_keepalive = *k;
  } else if (key == "Name") {
    once(line, key);
    std::string why;
    auto label = parse_host_label(value, why);
    if (!label) fail(line, key, why);
    peer.name = *label;
    lines.name = line;
  }
}

}  // namespace wgp::config
