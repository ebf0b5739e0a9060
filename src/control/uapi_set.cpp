#include "control/uapi_set.h"

#include <charconv>
#include <limits>

#include "crypto/x25519.h"
#include "util/bytes.h"

namespace wgp::control {
namespace {

// Go's strconv.ParseUint(value, 10, bits): decimal digits only, no sign, no
// spaces, no empty string, no overflow.
template <typename T>
std::optional<T> parse_decimal(std::string_view text) {
  if (text.empty()) return std::nullopt;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  uint64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  if (value > std::numeric_limits<T>::max()) return std::nullopt;
  return static_cast<T>(value);
}

// Booleans in a set request are the literal `true`; wg-go rejects anything else.
bool is_true(std::string_view value) { return value == "true"; }

std::optional<Secret<kKeySize>> parse_secret(std::string_view hex) {
  return secret_key_from_hex(hex);
}

// An unknown key for an error text: short and printable, so a line that is
// really a pasted key cannot leak much of it into a log.
std::string printable_key(std::string_view key) {
  std::string out(key.substr(0, 24));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
  }
  if (key.size() > 24) out += "...";
  return out;
}

}  // namespace

int UapiSetRequest::fail(int code, std::string text) {
  error_ = code;
  error_text_ = std::move(text);
  return error_;
}

int UapiSetRequest::feed_line(std::string_view line) {
  if (error_ != kUapiOk) return error_;
  size_t eq = line.find('=');
  if (eq == std::string_view::npos) return fail(kUapiEproto, "line is not key=value");
  std::string_view key = line.substr(0, eq);
  std::string_view value = line.substr(eq + 1);
  if (key == "public_key") {
    in_peers_ = true;
    return public_key_line(value);
  }
  return in_peers_ ? peer_line(key, value) : device_line(key, value);
}

int UapiSetRequest::finish() { return error_; }

int UapiSetRequest::device_line(std::string_view key, std::string_view value) {
  if (key == "private_key") {
    auto sk = parse_secret(value);
    if (!sk) return fail(kUapiEinval, "private_key: not 64 hex digits");
    // wg-go clamps on set (except the all-zero "remove" key), so `get`
    // returns the clamped key.
    if (!sk->is_zero()) clamp_private_key(*sk);
    device_.set_private_key(*sk);
    return kUapiOk;
  }
  if (key == "listen_port") {
    auto port = parse_decimal<uint16_t>(value);
    if (!port) return fail(kUapiEinval, "listen_port: not a number in 0-65535");
    if (auto ec = device_.set_listen_port(*port)) {
      return fail(kUapiEaddrinuse, "listen_port: cannot bind: " + ec.message());
    }
    return kUapiOk;
  }
  if (key == "fwmark") {
    auto mark = parse_decimal<uint32_t>(value);
    if (!mark) return fail(kUapiEinval, "fwmark: not a number in 0-4294967295");
    if (auto ec = device_.set_fwmark(*mark)) {
      return fail(kUapiEaddrinuse, "fwmark: cannot apply: " + ec.message());
    }
    return kUapiOk;
  }
  if (key == "replace_peers") {
    if (!is_true(value)) return fail(kUapiEinval, "replace_peers: value is not 'true'");
    device_.remove_all_peers();
    return kUapiOk;
  }
  return fail(kUapiEinval, "unknown device key '" + printable_key(key) + "'");
}

int UapiSetRequest::public_key_line(std::string_view value) {
  auto key = from_hex_exact<kKeySize>(value);
  if (!key) return fail(kUapiEinval, "public_key: not 64 hex digits");
  peer_ = *key;
  bool existed = device_.has_peer(peer_);
  // add_peer refuses our own public key: the block then applies to nothing.
  bool exists = device_.add_peer(peer_);
  dummy_ = !exists;
  created_ = exists && !existed;
  return kUapiOk;
}

int UapiSetRequest::peer_line(std::string_view key, std::string_view value) {
  if (key == "update_only") {
    if (!is_true(value)) return fail(kUapiEinval, "update_only: value is not 'true'");
    if (created_ && !dummy_) {  // it did not exist before: undo and ignore the block
      device_.remove_peer(peer_);
      dummy_ = true;
    }
    return kUapiOk;
  }
  if (key == "remove") {
    if (!is_true(value)) return fail(kUapiEinval, "remove: value is not 'true'");
    if (!dummy_) device_.remove_peer(peer_);
    dummy_ = true;
    return kUapiOk;
  }
  if (key == "preshared_key") {
    auto psk = parse_secret(value);
    if (!psk) return fail(kUapiEinval, "preshared_key: not 64 hex digits");
    if (!dummy_) device_.set_peer_preshared_key(peer_, *psk);
    return kUapiOk;
  }
  if (key == "endpoint") {
    auto endpoint = Endpoint::parse(value);
    if (!endpoint) return fail(kUapiEinval, "endpoint: not a numeric address:port");
    if (!dummy_) device_.set_peer_endpoint(peer_, *endpoint);
    return kUapiOk;
  }
  if (key == "persistent_keepalive_interval") {
    auto seconds = parse_decimal<uint16_t>(value);
    if (!seconds) return fail(kUapiEinval, "persistent_keepalive_interval: not in 0-65535");
    if (!dummy_) device_.set_peer_persistent_keepalive(peer_, *seconds);
    return kUapiOk;
  }
  if (key == "replace_allowed_ips") {
    if (!is_true(value)) return fail(kUapiEinval, "replace_allowed_ips: value is not 'true'");
    if (!dummy_) device_.clear_peer_allowed_ips(peer_);
    return kUapiOk;
  }
  if (key == "allowed_ip") {
    bool remove = !value.empty() && value.front() == '-';
    if (remove) value.remove_prefix(1);
    // Like Go's netip.ParsePrefix, the length is required here.
    auto prefix = value.find('/') == std::string_view::npos ? std::nullopt : IpPrefix::parse(value);
    if (!prefix) return fail(kUapiEinval, "allowed_ip: not an address/length prefix");
    if (dummy_) return kUapiOk;
    if (remove) {
      device_.remove_peer_allowed_ip(peer_, *prefix);
    } else {
      device_.add_peer_allowed_ip(peer_, *prefix);
    }
    return kUapiOk;
  }
  if (key == "protocol_version") {
    if (value != "1") return fail(kUapiEinval, "protocol_version: only 1 is supported");
    return kUapiOk;
  }
  return fail(kUapiEinval, "unknown peer key '" + printable_key(key) + "'");
}

int apply_set_request(DeviceControl& device, std::string_view body, std::string* error_text) {
  UapiSetRequest request(device);
  while (!body.empty()) {
    size_t nl = body.find('\n');
    std::string_view line = body.substr(0, nl);
    if (line.empty()) break;  // the blank line ends the request
    if (request.feed_line(line) != kUapiOk) break;
    if (nl == std::string_view::npos) break;
    body.remove_prefix(nl + 1);
  }
  int result = request.finish();
  if (error_text) *error_text = request.error_text();
  return result;
}

}  // namespace wgp::control
