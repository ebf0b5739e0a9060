#include "control/uapi_get.h"

#include <chrono>

#include "util/bytes.h"

namespace wgp::control {
namespace {

void put(std::string& out, std::string_view key, std::string_view value) {
  out.append(key);
  out.push_back('=');
  out.append(value);
  out.push_back('\n');
}

void put(std::string& out, std::string_view key, uint64_t value) {
  put(out, key, std::to_string(value));
}

void put_extras(std::string& out, const ExtraFields& extra) {
  for (const auto& [key, value] : extra) {
    std::string k(kExtraKeyPrefix);
    k += sanitize_extra_key(key);
    put(out, k, sanitize_extra_value(value));
  }
}

// Seconds and nanoseconds since the Unix epoch, as wg-go's
// last_handshake_time_sec/_nsec; 0/0 means never.
std::pair<int64_t, int64_t> split_wall_time(const std::optional<WallTime>& t) {
  if (!t) return {0, 0};
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t->time_since_epoch()).count();
  int64_t sec = ns / 1'000'000'000;
  int64_t nsec = ns % 1'000'000'000;
  if (nsec < 0) {  // before 1970: keep nsec in [0, 1e9) as a timespec would
    nsec += 1'000'000'000;
    sec -= 1;
  }
  return {sec, nsec};
}

void put_peer(std::string& out, const PeerSnapshot& peer) {
  put(out, "public_key", to_hex(peer.public_key));
  put(out, "preshared_key", to_hex(peer.preshared_key.span()));
  put(out, "protocol_version", 1);
  if (peer.endpoint) put(out, "endpoint", peer.endpoint->to_string());
  auto [sec, nsec] = split_wall_time(peer.last_handshake);
  put(out, "last_handshake_time_sec", std::to_string(sec));
  put(out, "last_handshake_time_nsec", std::to_string(nsec));
  put(out, "tx_bytes", peer.tx_bytes);
  put(out, "rx_bytes", peer.rx_bytes);
  put(out, "persistent_keepalive_interval", peer.persistent_keepalive);
  for (const auto& prefix : peer.allowed_ips) put(out, "allowed_ip", prefix.to_string());
  put_extras(out, peer.extra);
}

}  // namespace

std::string sanitize_extra_key(std::string_view key) {
  std::string out(key);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) c = '_';
  }
  return out;
}

std::string sanitize_extra_value(std::string_view value) {
  std::string out(value);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return out;
}

void format_get_reply(const DeviceSnapshot& device, std::string& out) {
  if (device.private_key && !device.private_key->is_zero()) {
    put(out, "private_key", to_hex(device.private_key->span()));
  }
  if (device.listen_port != 0) put(out, "listen_port", device.listen_port);
  if (device.fwmark != 0) put(out, "fwmark", device.fwmark);
  put_extras(out, device.extra);  // still before the first public_key
  for (const auto& peer : device.peers) put_peer(out, peer);
  out.append("errno=0\n\n");
}

std::string format_get_reply(const DeviceSnapshot& device) {
  std::string out;
  format_get_reply(device, out);
  return out;
}

}  // namespace wgp::control
