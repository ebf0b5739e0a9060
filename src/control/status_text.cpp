#include "control/status_text.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>

#include "crypto/x25519.h"

namespace wgp::control {
namespace {

int64_t unix_seconds(WallTime t) {
  return std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count();
}

// wg prints "latest handshake" only when tv_sec != 0.
bool has_handshake(const PeerSnapshot& peer) {
  return peer.last_handshake && unix_seconds(*peer.last_handshake) != 0;
}

std::string ago(WallTime handshake, WallTime now) {
  int64_t then = unix_seconds(handshake), current = unix_seconds(now);
  if (current == then) return "Now";
  if (current < then) return "(System clock wound backward; connection problems may ensue.)";
  return pretty_duration(static_cast<uint64_t>(current - then)) + " ago";
}

// " (no reply for 12 s)" when the extras say the path went silent, else "".
std::string path_silence(const ExtraFields& extra) {
  for (const auto& [key, value] : extra)
    if (key == kPathNoReplyField) return " (no reply for " + value + " s)";
  return "";
}

// Extra fields print like wg's own lines: "  some key: value"; a moment
// (device_control.h) as "5 seconds ago" or "never".
void print_extras(const ExtraFields& extra, WallTime now, std::ostream& out) {
  for (const auto& [key, value] : extra) {
    std::string label = key;
    std::string shown = value;
    if (key == kPathNoReplyField) continue;  // part of the path's line
    if (key == "path") shown += path_silence(extra);
    if (label.ends_with(kUnixTimeSuffix)) {
      label.resize(label.size() - kUnixTimeSuffix.size());
      auto seconds = parse_unix_seconds(value);
      shown = !seconds        ? value
              : *seconds == 0 ? "never"
                              : ago(WallTime(std::chrono::seconds(*seconds)), now);
    }
    std::replace(label.begin(), label.end(), '_', ' ');
    out << "  " << label << ": " << shown << '\n';
  }
}

void print_peer(const PeerSnapshot& peer, WallTime now, std::ostream& out) {
  out << "peer: " << key_to_base64(peer.public_key) << '\n';
  if (!peer.preshared_key.is_zero()) out << "  preshared key: (hidden)\n";
  if (peer.endpoint) out << "  endpoint: " << peer.endpoint->to_string() << '\n';
  out << "  allowed ips: ";
  if (peer.allowed_ips.empty()) out << "(none)";
  for (size_t i = 0; i < peer.allowed_ips.size(); ++i) {
    out << (i ? ", " : "") << peer.allowed_ips[i].to_string();
  }
  out << '\n';
  if (has_handshake(peer)) out << "  latest handshake: " << ago(*peer.last_handshake, now) << '\n';
  if (peer.rx_bytes || peer.tx_bytes) {
    out << "  transfer: " << pretty_bytes(peer.rx_bytes) << " received, "
        << pretty_bytes(peer.tx_bytes) << " sent\n";
  }
  if (peer.persistent_keepalive) {
    out << "  persistent keepalive: every " << pretty_duration(peer.persistent_keepalive) << '\n';
  }
  print_extras(peer.extra, now, out);
}

}  // namespace

std::optional<int64_t> parse_unix_seconds(std::string_view text) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 0) return std::nullopt;
  return value;
}

std::string pretty_duration(uint64_t left) {
  constexpr uint64_t kMinute = 60, kHour = 60 * kMinute, kDay = 24 * kHour, kYear = 365 * kDay;
  const std::pair<uint64_t, const char*> units[] = {
      {kYear, "year"}, {kDay, "day"}, {kHour, "hour"}, {kMinute, "minute"}, {1, "second"}};
  std::string out;
  for (const auto& [size, name] : units) {
    uint64_t n = left / size;
    left %= size;
    if (n == 0) continue;
    if (!out.empty()) out += ", ";
    out += std::to_string(n) + " " + name + (n == 1 ? "" : "s");
  }
  return out;
}

std::string pretty_bytes(uint64_t bytes) {
  if (bytes < 1024) return std::to_string(bytes) + " B";
  const char* units[] = {"KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes) / 1024;
  uint64_t limit = 1024ull * 1024;
  size_t unit = 0;
  while (unit < 3 && bytes >= limit) {
    value /= 1024;
    limit *= 1024;
    ++unit;
  }
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.2f %s", value, units[unit]);
  return buf;
}

std::vector<const PeerSnapshot*> peers_in_show_order(const DeviceSnapshot& device) {
  std::vector<const PeerSnapshot*> peers;
  for (const auto& peer : device.peers) peers.push_back(&peer);
  // wg compares the full timespec; "never" (0/0) sorts after any handshake.
  auto key = [](const PeerSnapshot* p) {
    return p->last_handshake ? p->last_handshake->time_since_epoch() : WallTime::duration::zero();
  };
  std::stable_sort(peers.begin(), peers.end(),
                   [&](const PeerSnapshot* a, const PeerSnapshot* b) { return key(a) > key(b); });
  return peers;
}

void print_status_text(const DeviceSnapshot& device, WallTime now, std::ostream& out) {
  out << "interface: " << device.interface_name << '\n';
  if (device.private_key && !device.private_key->is_zero()) {
    out << "  public key: " << key_to_base64(derive_public_key(*device.private_key)) << '\n';
    out << "  private key: (hidden)\n";
  }
  if (device.listen_port) out << "  listening port: " << device.listen_port << '\n';
  if (device.fwmark) {
    char hex[16];
    std::snprintf(hex, sizeof(hex), "0x%x", device.fwmark);
    out << "  fwmark: " << hex << '\n';
  }
  print_extras(device.extra, now, out);
  auto peers = peers_in_show_order(device);
  if (!peers.empty()) out << '\n';
  for (size_t i = 0; i < peers.size(); ++i) {
    if (i) out << '\n';
    print_peer(*peers[i], now, out);
  }
}

}  // namespace wgp::control
