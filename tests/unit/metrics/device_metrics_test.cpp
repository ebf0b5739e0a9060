// device_metrics: a hand-made snapshot in, the exposition out, checked line
// by line: per-peer families, state sets, drops with zeros, the registry's
// and discovery's counters read from status fields, and nothing private.
#include "metrics/device_metrics.h"

#include <gtest/gtest.h>

#include <regex>
#include <sstream>

#include "crypto/x25519.h"

namespace wgp::metrics {
namespace {

PublicKey key_of(uint8_t fill) {
  PublicKey k;
  k.fill(fill);
  return k;
}

DeviceSnapshot sample_snapshot() {
  DeviceSnapshot s;
  s.interface_name = "wg0";
  uint8_t priv[32];
  for (int i = 0; i < 32; ++i) priv[i] = uint8_t(i + 1);
  s.private_key = PrivateKey(std::span<const uint8_t, 32>(priv));
  s.listen_port = 51820;
  PeerSnapshot& a = s.peers.emplace_back();
  a.public_key = key_of(1);
  a.rx_bytes = 1234;
  a.tx_bytes = 5678;
  a.last_handshake = WallTime(std::chrono::seconds(1700000000));
  a.endpoint = Endpoint::parse("192.0.2.7:51820");
  a.path = PeerPath::kDirect;
  a.extra.emplace_back("endpoint_source", "config");
  PeerSnapshot& b = s.peers.emplace_back();
  b.public_key = key_of(2);
  b.extra.emplace_back("endpoint_source", "teleported");  // a source this file does not know
  for (const char* r : {"malformed", "bad_mac1", "no_route"})
    s.drop_counts.emplace_back(r, std::string(r) == "no_route" ? 3 : 0);
  s.extra = {{"dropped_no_route", "3"},           {"dropped_dns_unexpected", "4"},
             {"registry_zone", "example.net."},   {"registry_published_records", "2"},
             {"registry_queries_answered", "10"}, {"registry_answered_in_tunnel", "6"},
             {"registry_answered_plain", "4"},    {"public_endpoint", "203.0.113.9:4000"},
             {"udp_send_errors", "not a number"}, {"offloads", "udp-gso udp-gro"}};
  return s;
}

std::string render(const DeviceSnapshot& s) {
  return format_exposition(device_metrics(s, "9.8.7"));
}

bool has_line(const std::string& text, const std::string& line) {
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);)
    if (l == line) return true;
  return false;
}

TEST(DeviceMetrics, PerPeerTrafficAndHandshake) {
  std::string text = render(sample_snapshot());
  std::string a = key_to_base64(key_of(1)), b = key_to_base64(key_of(2));
  EXPECT_TRUE(has_line(text, "# TYPE wgpunch_peer_receive_bytes_total counter"));
  EXPECT_TRUE(has_line(text, "wgpunch_peer_receive_bytes_total{public_key=\"" + a + "\"} 1234"));
  EXPECT_TRUE(has_line(text, "wgpunch_peer_transmit_bytes_total{public_key=\"" + a + "\"} 5678"));
  EXPECT_TRUE(has_line(text, "wgpunch_peer_receive_bytes_total{public_key=\"" + b + "\"} 0"));
  EXPECT_TRUE(has_line(
      text, "wgpunch_peer_last_handshake_timestamp_seconds{public_key=\"" + a + "\"} 1700000000"));
  EXPECT_TRUE(
      has_line(text, "wgpunch_peer_last_handshake_timestamp_seconds{public_key=\"" + b + "\"} 0"));
  EXPECT_TRUE(has_line(text, "wgpunch_peers 2"));
  EXPECT_TRUE(has_line(text, "wgpunch_listen_port 51820"));
}

TEST(DeviceMetrics, PathAndEndpointSourceAreStateSets) {
  std::string text = render(sample_snapshot());
  std::string a = key_to_base64(key_of(1)), b = key_to_base64(key_of(2));
  auto path = [&](const std::string& k, const char* p, int v) {
    return "wgpunch_peer_path{public_key=\"" + k + "\",path=\"" + p + "\"} " + std::to_string(v);
  };
  EXPECT_TRUE(has_line(text, path(a, "direct", 1)));
  EXPECT_TRUE(has_line(text, path(a, "none", 0)));
  EXPECT_TRUE(has_line(text, path(a, "relay", 0)));
  EXPECT_TRUE(has_line(text, path(b, "none", 1)));
  auto source = [&](const std::string& k, const char* s, int v) {
    return "wgpunch_peer_endpoint_source{public_key=\"" + k + "\",source=\"" + s + "\"} " +
           std::to_string(v);
  };
  EXPECT_TRUE(has_line(text, source(a, "config", 1)));
  EXPECT_TRUE(has_line(text, source(a, "discovered", 0)));
  EXPECT_TRUE(has_line(text, source(b, "config", 0)));
  EXPECT_TRUE(has_line(text, source(b, "teleported", 1)));
}

TEST(DeviceMetrics, DropsByReasonWithZerosAndExtraReasons) {
  std::string text = render(sample_snapshot());
  EXPECT_TRUE(has_line(text, "wgpunch_dropped_packets_total{reason=\"malformed\"} 0"));
  EXPECT_TRUE(has_line(text, "wgpunch_dropped_packets_total{reason=\"no_route\"} 3"));
  EXPECT_TRUE(has_line(text, "wgpunch_dropped_packets_total{reason=\"dns_unexpected\"} 4"));
  // no_route once, although both the typed counts and status have it
  EXPECT_EQ(text.find("reason=\"no_route\""), text.rfind("reason=\"no_route\""));
}

TEST(DeviceMetrics, RegistryCountersFromStatusFields) {
  std::string text = render(sample_snapshot());
  EXPECT_TRUE(has_line(text, "# TYPE wgpunch_registry_published_records gauge"));
  EXPECT_TRUE(has_line(text, "wgpunch_registry_published_records 2"));
  EXPECT_TRUE(has_line(text, "wgpunch_registry_queries_answered_total 10"));
  EXPECT_TRUE(has_line(text, "wgpunch_registry_answers_total{path=\"tunnel\"} 6"));
  EXPECT_TRUE(has_line(text, "wgpunch_registry_answers_total{path=\"plain\"} 4"));
  // Status omits this one while it is zero; the registry is on, so it exists from 0.
  EXPECT_TRUE(has_line(text, "wgpunch_registry_dropped_malformed_total 0"));
  // A field this status does not have is not exposed (no made-up zeros).
  EXPECT_EQ(text.find("wgpunch_registry_notifies_sent_total"), std::string::npos);
  EXPECT_EQ(text.find("path=\"tcp\""), std::string::npos);
  // No discovery: none of its families.
  EXPECT_EQ(text.find("wgpunch_discovery_"), std::string::npos);
  // A field that is not a number is not a metric.
  EXPECT_EQ(text.find("wgpunch_udp_send_errors_total"), std::string::npos);
}

TEST(DeviceMetrics, DiscoveryCounters) {
  DeviceSnapshot s;
  s.interface_name = "wg1";
  s.extra = {{"discovery_zone", "example.net."},
             {"discovery_answers", "5"},
             {"discovery_failures", "0"},
             {"discovery_notifies_received", "2"},
             {"discovery_last_answer_unix", "1700000123"}};
  std::string text = render(s);
  EXPECT_TRUE(has_line(text, "wgpunch_discovery_answers_total 5"));
  EXPECT_TRUE(has_line(text, "wgpunch_discovery_failures_total 0"));
  EXPECT_TRUE(has_line(text, "wgpunch_discovery_notifies_received_total 2"));
  EXPECT_TRUE(has_line(text, "# TYPE wgpunch_discovery_last_answer_timestamp_seconds gauge"));
  EXPECT_TRUE(has_line(text, "wgpunch_discovery_last_answer_timestamp_seconds 1700000123"));
  EXPECT_TRUE(has_line(text, "wgpunch_interface_info{interface=\"wg1\"} 1"));
}

// Issue 20: the port mapping's protocol, lease left and renewals.
TEST(DeviceMetrics, PortMapping) {
  DeviceSnapshot s;
  s.extra = {{"port_mapping", "pcp"},
             {"port_mapping_external", "192.0.3.1:51820"},
             {"port_mapping_lease_left_seconds", "3599"},
             {"port_mapping_renewals", "2"}};
  std::string text = render(s);
  EXPECT_TRUE(has_line(text, "wgpunch_port_mapping{protocol=\"pcp\"} 1"));
  EXPECT_TRUE(has_line(text, "wgpunch_port_mapping{protocol=\"none\"} 0"));
  EXPECT_TRUE(has_line(text, "wgpunch_port_mapping_lease_left_seconds 3599"));
  EXPECT_TRUE(has_line(text, "wgpunch_port_mapping_renewals_total 2"));
  // PortMapping = no (or no [Discovery]): the reason, and no family at all.
  s.extra = {{"port_mapping", "off"}, {"port_mapping_reason", "PortMapping = no"}};
  EXPECT_EQ(render(s).find("wgpunch_port_mapping"), std::string::npos);
}

TEST(DeviceMetrics, BuildAndInterfaceInfoButNothingPrivate) {
  DeviceSnapshot s = sample_snapshot();
  std::string text = render(s);
  EXPECT_TRUE(has_line(text, "wgpunch_build_info{version=\"9.8.7\"} 1"));
  std::string pub = key_to_base64(derive_public_key(*s.private_key));
  EXPECT_TRUE(
      has_line(text, "wgpunch_interface_info{interface=\"wg0\",public_key=\"" + pub + "\"} 1"));
  EXPECT_EQ(text.find(key_to_base64(std::span<const uint8_t, 32>(s.private_key->data(), 32))),
            std::string::npos);
  // Where peers are (endpoints, our public address) is not exposed.
  EXPECT_EQ(text.find("192.0.2.7"), std::string::npos);
  EXPECT_EQ(text.find("203.0.113.9"), std::string::npos);
}

TEST(DeviceMetrics, EveryLineIsWellFormed) {
  std::string text = render(sample_snapshot());
  std::regex sample(
      R"(^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*"(,[a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*")*\})? [0-9.e+-]+$)");
  std::regex comment(R"(^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+$)");
  std::istringstream in(text);
  int lines = 0;
  for (std::string l; std::getline(in, l); ++lines)
    EXPECT_TRUE(std::regex_match(l, sample) || std::regex_match(l, comment)) << l;
  EXPECT_GT(lines, 30);
}

}  // namespace
}  // namespace wgp::metrics
