#include "control/status_json.h"

#include <charconv>
#include <chrono>
#include <nlohmann/json.hpp>

#include "control/status_fields.h"
#include "control/status_text.h"
#include "crypto/x25519.h"

namespace wgp::control {
namespace {

// Insertion order kept: the order the schema in wgpunch(8) lists.
using Json = nlohmann::ordered_json;

Json number_or_text(std::string_view text) {
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec == std::errc() && end == text.data() + text.size()) return n;
  return std::string(text);
}

Json list(std::string_view text, std::string_view separator) {
  Json out = Json::array();
  while (!text.empty()) {
    size_t at = text.find(separator);
    out.push_back(std::string(text.substr(0, at)));
    if (at == std::string_view::npos) break;
    text.remove_prefix(at + separator.size());
  }
  return out;
}

// One extra field as its kind says (status_fields.h); the key loses the
// "_unix" of a moment.
void put_extra(Json& extra, std::string_view key, std::string_view value) {
  switch (field_kind(key, value)) {
    case FieldKind::kMoment: {
      auto seconds = parse_unix_seconds(value);
      std::string name(key.substr(0, key.size() - kUnixTimeSuffix.size()));
      extra[name] = !seconds || *seconds == 0 ? Json(nullptr) : Json(*seconds);
      return;
    }
    case FieldKind::kNumber:
      extra[std::string(key)] = number_or_text(value);
      return;
    case FieldKind::kList:
      extra[std::string(key)] = list(value, key == "offloads" ? " " : ", ");
      return;
    case FieldKind::kFlag:
      extra[std::string(key)] = value == "yes";
      return;
    case FieldKind::kText:
      extra[std::string(key)] = std::string(value);
      return;
  }
}

Json peer_json(const PeerSnapshot& peer) {
  Json p;
  p["public_key"] = key_to_base64(peer.public_key);
  p["has_preshared_key"] = !peer.preshared_key.is_zero();
  p["endpoint"] = peer.endpoint ? Json(peer.endpoint->to_string()) : Json(nullptr);
  p["allowed_ips"] = Json::array();
  for (const IpPrefix& prefix : peer.allowed_ips) p["allowed_ips"].push_back(prefix.to_string());
  p["latest_handshake"] =
      peer.last_handshake
          ? Json(std::chrono::floor<std::chrono::seconds>(peer.last_handshake->time_since_epoch())
                     .count())
          : Json(nullptr);
  p["rx_bytes"] = peer.rx_bytes;
  p["tx_bytes"] = peer.tx_bytes;
  p["persistent_keepalive"] = peer.persistent_keepalive;
  // The path (DESIGN.md §9) once, as fields: "direct", "relay" or "none",
  // the relay's key, and whether anything came back lately.
  std::string path = "none";
  Json relay_via = nullptr, no_reply_for = nullptr;
  Json extra = Json::object();
  for (const auto& [key, value] : peer.extra) {
    if (key == "path") {
      path = value.substr(0, value.find(' '));
      if (auto via = value.find(" via "); via != std::string::npos)
        relay_via = value.substr(via + 5);
    } else if (key == kPathNoReplyField) {
      no_reply_for = number_or_text(value);
    } else {
      put_extra(extra, key, value);
    }
  }
  p["path"] = path;
  p["relay_via"] = relay_via;
  p["path_alive"] = no_reply_for.is_null();
  p["no_reply_for"] = no_reply_for;
  p["extra"] = std::move(extra);
  return p;
}

Json device_json(const DeviceSnapshot& device) {
  Json d;
  d["name"] = device.interface_name;
  d["public_key"] = device.private_key && !device.private_key->is_zero()
                        ? Json(key_to_base64(derive_public_key(*device.private_key)))
                        : Json(nullptr);
  d["listen_port"] = device.listen_port;
  d["fwmark"] = device.fwmark;
  Json extra = Json::object();
  for (const auto& [key, value] : device.extra) put_extra(extra, key, value);
  d["extra"] = std::move(extra);
  d["peers"] = Json::array();
  for (const PeerSnapshot* peer : peers_in_show_order(device))
    d["peers"].push_back(peer_json(*peer));
  return d;
}

}  // namespace

void print_status_json(const std::vector<DeviceSnapshot>& devices, std::ostream& out) {
  Json all;
  all["interfaces"] = Json::array();
  for (const DeviceSnapshot& device : devices) all["interfaces"].push_back(device_json(device));
  // Bytes that are not UTF-8 (a value is whatever the node sent) become
  // U+FFFD instead of an exception.
  out << all.dump(-1, ' ', false, Json::error_handler_t::replace) << '\n';
}

}  // namespace wgp::control
