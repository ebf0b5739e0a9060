#include "control/status_json.h"

#include <chrono>
#include <cstdio>

#include "control/status_text.h"
#include "crypto/x25519.h"

namespace wgp::control {
namespace {

// A moment (device_control.h) becomes a number of seconds, or null for never.
void print_extras(const ExtraFields& extra, std::ostream& out) {
  out << '{';
  for (size_t i = 0; i < extra.size(); ++i) {
    std::string_view key = extra[i].first;
    out << (i ? "," : "");
    if (key.ends_with(kUnixTimeSuffix)) {
      if (auto seconds = parse_unix_seconds(extra[i].second)) {
        out << json_string(key.substr(0, key.size() - kUnixTimeSuffix.size())) << ':';
        if (*seconds == 0)
          out << "null";
        else
          out << *seconds;
        continue;
      }
    }
    out << json_string(key) << ':' << json_string(extra[i].second);
  }
  out << '}';
}

void print_peer(const PeerSnapshot& peer, std::ostream& out) {
  out << "{\"public_key\":" << json_string(key_to_base64(peer.public_key))
      << ",\"has_preshared_key\":" << (peer.preshared_key.is_zero() ? "false" : "true")
      << ",\"endpoint\":" << (peer.endpoint ? json_string(peer.endpoint->to_string()) : "null")
      << ",\"allowed_ips\":[";
  for (size_t i = 0; i < peer.allowed_ips.size(); ++i) {
    out << (i ? "," : "") << json_string(peer.allowed_ips[i].to_string());
  }
  out << "],\"latest_handshake\":";
  if (peer.last_handshake) {
    out << std::chrono::floor<std::chrono::seconds>(peer.last_handshake->time_since_epoch())
               .count();
  } else {
    out << "null";
  }
  // The path (DESIGN.md §9) is a first-class field: "direct", "relay" or
  // "none"; the extras keep the whole text ("relay via KEY").
  for (const auto& [key, value] : peer.extra)
    if (key == "path") out << ",\"path\":" << json_string(value.substr(0, value.find(' ')));
  out << ",\"rx_bytes\":" << peer.rx_bytes << ",\"tx_bytes\":" << peer.tx_bytes
      << ",\"persistent_keepalive\":" << peer.persistent_keepalive << ",\"extra\":";
  print_extras(peer.extra, out);
  out << '}';
}

void print_device(const DeviceSnapshot& device, std::ostream& out) {
  out << "{\"name\":" << json_string(device.interface_name) << ",\"public_key\":";
  if (device.private_key && !device.private_key->is_zero()) {
    out << json_string(key_to_base64(derive_public_key(*device.private_key)));
  } else {
    out << "null";
  }
  out << ",\"listen_port\":" << device.listen_port << ",\"fwmark\":" << device.fwmark
      << ",\"extra\":";
  print_extras(device.extra, out);
  out << ",\"peers\":[";
  auto peers = peers_in_show_order(device);
  for (size_t i = 0; i < peers.size(); ++i) {
    if (i) out << ',';
    print_peer(*peers[i], out);
  }
  out << "]}";
}

}  // namespace

std::string json_string(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (u < 0x20 || u == 0x7f) {
          char esc[8];
          std::snprintf(esc, sizeof(esc), "\\u%04x", u);
          out += esc;
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

void print_status_json(const std::vector<DeviceSnapshot>& devices, std::ostream& out) {
  out << "{\"interfaces\":[";
  for (size_t i = 0; i < devices.size(); ++i) {
    if (i) out << ',';
    print_device(devices[i], out);
  }
  out << "]}\n";
}

}  // namespace wgp::control
