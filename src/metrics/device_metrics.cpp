// DeviceSnapshot -> metric families. Typed snapshot fields map directly; the
// registry's and discovery's counters are read from the status fields those
// roles publish (DnssdRoles::add_status), by the table below: a status key
// renamed there must be renamed here too (tests/unit/metrics and
// test_metrics.sh name them).
#include "metrics/device_metrics.h"

#include <algorithm>
#include <charconv>
#include <optional>

#include "crypto/keys.h"
#include "crypto/x25519.h"

namespace wgp::metrics {
namespace {

// The states of a peer's endpoint source (wg/peer.h EndpointSource), so that
// each peer has one sample per state, 1 for the current one (a "state set").
constexpr std::string_view kEndpointSources[] = {"none", "config", "control", "roamed",
                                                 "discovered"};
constexpr PeerPath kPaths[] = {PeerPath::kNone, PeerPath::kDirect, PeerPath::kRelay};

// A status field that is a number, and the metric it feeds. A field the
// roles leave out while it is zero is exposed as 0 while its role is on
// (`zero_while` names the role), so the counter exists from the first scrape.
// Fields of other versions of the roles may be listed: an absent one is
// simply not exposed.
struct FieldMetric {
  std::string_view field;  // ExtraFields key
  std::string_view name;   // metric name
  MetricType type;
  std::string_view help;
  std::string_view label_name = {};  // optional constant label, for families fed by several fields
  std::string_view label_value = {};
  std::string_view zero_while = {};  // "registry"/"discovery": 0 when absent while that role is on
};

constexpr FieldMetric kFieldMetrics[] = {
    {"udp_send_errors", "wgpunch_udp_send_errors_total", MetricType::kCounter,
     "Datagrams the UDP socket failed to send."},
    {"tun_write_errors", "wgpunch_tun_write_errors_total", MetricType::kCounter,
     "Packets the TUN device refused to take."},
    {"tun_bad_frames", "wgpunch_tun_bad_frames_total", MetricType::kCounter,
     "Frames read from the TUN device that could not be parsed."},
    {"tun_frames_split", "wgpunch_tun_frames_split_total", MetricType::kCounter,
     "TUN super-packets (TSO/USO) split into segments."},
    {"tun_packets_coalesced", "wgpunch_tun_packets_coalesced_total", MetricType::kCounter,
     "Received packets coalesced into TUN super-packets."},
    {"crypto_workers", "wgpunch_crypto_workers", MetricType::kGauge,
     "Threads sharing encryption and decryption with the event loop."},
    {"registry_published_records", "wgpunch_registry_published_records", MetricType::kGauge,
     "Peers the registry publishes DNS-SD records for."},
    {"registry_queries_answered", "wgpunch_registry_queries_answered_total", MetricType::kCounter,
     "DNS queries the registry answered."},
    {"registry_answered_in_tunnel", "wgpunch_registry_answers_total", MetricType::kCounter,
     "Registry answers by path: in the tunnel (UDP or TCP), or plain DNS on the WireGuard port.",
     "path", "tunnel"},
    {"registry_answered_tcp",
     "wgpunch_registry_answers_total",
     MetricType::kCounter,
     {},
     "path",
     "tcp"},
    {"registry_answered_plain",
     "wgpunch_registry_answers_total",
     MetricType::kCounter,
     {},
     "path",
     "plain"},
    {"registry_refused", "wgpunch_registry_refused_total", MetricType::kCounter,
     "Queries the registry refused (outside its zone)."},
    {"registry_ignored_strangers", "wgpunch_registry_ignored_strangers_total", MetricType::kCounter,
     "Plain DNS queries from sources that are no peer's endpoint, ignored."},
    {"registry_notifies_sent", "wgpunch_registry_notifies_sent_total", MetricType::kCounter,
     "DNS NOTIFY messages the registry sent to peers."},
    {"registry_dropped_malformed",
     "wgpunch_registry_dropped_malformed_total",
     MetricType::kCounter,
     "Malformed DNS messages the registry dropped.",
     {},
     {},
     "registry"},
    {"registry_zone_serial", "wgpunch_registry_zone_serial", MetricType::kGauge,
     "SOA serial of the registry's zone (its last version)."},
    {"registry_transfers_axfr", "wgpunch_registry_zone_transfers_total", MetricType::kCounter,
     "Zone transfers served to secondaries, by kind.", "kind", "axfr"},
    {"registry_transfers_ixfr", "wgpunch_registry_zone_transfers_total", MetricType::kCounter, {},
     "kind", "ixfr"},
    {"registry_transfers_refused", "wgpunch_registry_zone_transfers_refused_total",
     MetricType::kCounter,
     "Transfer requests refused: not a listed secondary, no or a wrong TSIG, another zone."},
    {"registry_zone_notifies_sent", "wgpunch_registry_zone_notifies_sent_total",
     MetricType::kCounter, "DNS NOTIFY messages sent to secondaries (retries included)."},
    {"discovery_answers", "wgpunch_discovery_answers_total", MetricType::kCounter,
     "Registry answers discovery received."},
    {"discovery_failures", "wgpunch_discovery_failures_total", MetricType::kCounter,
     "Discovery queries that failed."},
    {"discovery_notifies_received", "wgpunch_discovery_notifies_received_total",
     MetricType::kCounter, "DNS NOTIFY messages discovery received from the registry."},
    {"discovery_last_answer_unix", "wgpunch_discovery_last_answer_timestamp_seconds",
     MetricType::kGauge,
     "Time of the registry's latest answer, seconds since the Unix epoch; 0 if never."},
    {"port_mapping_lease_left_seconds", "wgpunch_port_mapping_lease_left_seconds",
     MetricType::kGauge, "Seconds left of the port mapping's lease at the gateway."},
    {"port_mapping_renewals", "wgpunch_port_mapping_renewals_total", MetricType::kCounter,
     "Renewals of the port mapping at the gateway."},
};

// The port mapping's protocol as a state set ("none" without one), when
// PortMapping is on.
constexpr std::string_view kPortMappingProtocols[] = {"none", "pcp", "nat-pmp", "upnp"};

const std::string* find_field(const ExtraFields& fields, std::string_view key) {
  for (const auto& [k, v] : fields)
    if (k == key) return &v;
  return nullptr;
}

std::optional<uint64_t> as_number(const std::string& text) {
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return n;
}

// The family of `name` in `out`, added (with `help` and `type`) if absent.
// The reference is valid until the next call (it may grow `out`).
Family& family(std::vector<Family>& out, std::string_view name, MetricType type,
               std::string_view help) {
  for (Family& f : out)
    if (f.name == name) return f;
  return out.emplace_back(Family{std::string(name), std::string(help), type, {}});
}

void add_peer_metrics(const DeviceSnapshot& s, std::vector<Family>& out) {
  Family rx{"wgpunch_peer_receive_bytes_total",
            "Bytes received from the peer (WireGuard payload, as wg show counts).",
            MetricType::kCounter,
            {}};
  Family tx{"wgpunch_peer_transmit_bytes_total",
            "Bytes sent to the peer (WireGuard payload, as wg show counts).",
            MetricType::kCounter,
            {}};
  Family hs{"wgpunch_peer_last_handshake_timestamp_seconds",
            "Time of the latest completed handshake with the peer, seconds since the Unix epoch; "
            "0 if never.",
            MetricType::kGauge,
            {}};
  Family path{"wgpunch_peer_path",
              "How packets reach the peer: 1 for the current path (direct, relay, none), 0 for "
              "the others.",
              MetricType::kGauge,
              {}};
  Family source{"wgpunch_peer_endpoint_source",
                "Where the peer's endpoint came from: 1 for the current source, 0 for the others.",
                MetricType::kGauge,
                {}};
  for (const PeerSnapshot& p : s.peers) {
    std::string key = key_to_base64(p.public_key);
    auto labels = [&] { return std::vector<Label>{{"public_key", key}}; };
    rx.samples.push_back({labels(), p.rx_bytes});
    tx.samples.push_back({labels(), p.tx_bytes});
    double when = 0;
    if (p.last_handshake)
      when = std::chrono::duration<double>(p.last_handshake->time_since_epoch()).count();
    hs.samples.push_back({labels(), when});
    for (PeerPath state : kPaths)
      path.samples.push_back({{{"public_key", key}, {"path", std::string(peer_path_name(state))}},
                              uint64_t(state == p.path)});
    const std::string* current = find_field(p.extra, "endpoint_source");
    bool known = false;
    for (std::string_view state : kEndpointSources) {
      bool is = current && *current == state;
      known |= is;
      source.samples.push_back(
          {{{"public_key", key}, {"source", std::string(state)}}, uint64_t(is)});
    }
    if (current && !known)  // a source added later shows up rather than vanishing
      source.samples.push_back({{{"public_key", key}, {"source", *current}}, uint64_t(1)});
  }
  for (Family* f : {&rx, &tx, &hs, &path, &source}) out.push_back(std::move(*f));
}

void add_drop_metrics(const DeviceSnapshot& s, std::vector<Family>& out) {
  Family& drops = family(out, "wgpunch_dropped_packets_total", MetricType::kCounter,
                         "Packets dropped, by reason (the reasons of wgpunch status).");
  auto add = [&](std::string_view reason, uint64_t n) {
    for (Sample& existing : drops.samples)
      if (existing.labels[0].value == reason) return;
    drops.samples.push_back({{{"reason", std::string(reason)}}, n});
  };
  for (const auto& [reason, n] : s.drop_counts) add(reason, n);
  // Drops counted outside the data path (e.g. DNS that nobody expected).
  for (const auto& [key, value] : s.extra)
    if (key.starts_with("dropped_"))
      if (auto n = as_number(value)) add(std::string_view(key).substr(8), *n);
}

void add_port_mapping_metrics(const DeviceSnapshot& s, std::vector<Family>& out) {
  const std::string* current = find_field(s.extra, "port_mapping");
  // "off" (PortMapping = no, or no [Discovery]): no family.
  if (!current || std::find(std::begin(kPortMappingProtocols), std::end(kPortMappingProtocols),
                            *current) == std::end(kPortMappingProtocols))
    return;
  Family& f = family(out, "wgpunch_port_mapping", MetricType::kGauge,
                     "1 for the protocol of the port mapping at the gateway (none: no mapping).");
  for (std::string_view p : kPortMappingProtocols)
    f.samples.push_back({{{"protocol", std::string(p)}}, uint64_t(*current == p)});
}

void add_field_metrics(const DeviceSnapshot& s, std::vector<Family>& out) {
  bool registry_on = find_field(s.extra, "registry_zone") != nullptr;
  bool discovery_on = find_field(s.extra, "discovery_zone") != nullptr;
  for (const FieldMetric& m : kFieldMetrics) {
    std::optional<uint64_t> value;
    if (const std::string* text = find_field(s.extra, m.field)) value = as_number(*text);
    bool role_on = (m.zero_while == "registry" && registry_on) ||
                   (m.zero_while == "discovery" && discovery_on);
    if (!value && role_on) value = 0;
    if (!value) continue;
    Family& f = family(out, m.name, m.type, m.help);
    std::vector<Label> labels;
    if (!m.label_name.empty())
      labels.push_back({std::string(m.label_name), std::string(m.label_value)});
    f.samples.push_back({std::move(labels), *value});
  }
}

}  // namespace

std::vector<Family> device_metrics(const DeviceSnapshot& s, std::string_view version) {
  std::vector<Family> out;
  family(out, "wgpunch_build_info", MetricType::kGauge,
         "Always 1; the labels say which wgpunch this is.")
      .samples.push_back({{{"version", std::string(version)}}, uint64_t(1)});
  Family& info = family(out, "wgpunch_interface_info", MetricType::kGauge,
                        "Always 1; the labels name the interface and its public key.");
  std::vector<Label> labels{{"interface", s.interface_name}};
  if (s.private_key)
    labels.push_back({"public_key", key_to_base64(derive_public_key(*s.private_key))});
  info.samples.push_back({std::move(labels), uint64_t(1)});
  family(out, "wgpunch_listen_port", MetricType::kGauge, "The UDP port the node listens on.")
      .samples.push_back({{}, uint64_t(s.listen_port)});
  family(out, "wgpunch_peers", MetricType::kGauge, "Peers configured on the interface.")
      .samples.push_back({{}, uint64_t(s.peers.size())});
  add_peer_metrics(s, out);
  add_drop_metrics(s, out);
  add_field_metrics(s, out);
  add_port_mapping_metrics(s, out);
  return out;
}

}  // namespace wgp::metrics
