#include "control/status.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "control/status_json.h"
#include "control/status_text.h"
#include "server_fixture.h"
#include "test_keys.h"

namespace wgp::control {
namespace {

using namespace wgp::testing;

WallTime at(int64_t sec) { return WallTime(std::chrono::seconds(sec)); }

// Alice's device with Bob (handshake 65 s ago, PSK, traffic), peer 2
// (handshake 5 s ago) and peer 1 (never), listed in that device order.
DeviceSnapshot sample_device() {
  FakeDevice device("wg0");
  device.set_private_key(secret(kAlicePriv));
  (void)device.set_listen_port(51820);
  (void)device.set_fwmark(51820);
  device.extra() = {{"public_endpoint", "203.0.113.7:51820"}};
  device.add_peer(pub(kPeer1));
  device.add_peer(pub(kBobPub));
  FakePeer* bob = device.find(pub(kBobPub));
  bob->preshared_key = secret(kPsk);
  bob->endpoint = endpoint("198.51.100.2:51820");
  bob->last_handshake = at(1700000000);
  bob->rx_bytes = 1289748;  // 1.23 MiB
  bob->tx_bytes = 4669;     // 4.56 KiB
  bob->persistent_keepalive = 25;
  bob->allowed_ips = {prefix("10.0.0.2/32"), prefix("fd00::2/128")};
  bob->extra = {{"endpoint_source", "dns-sd"}};
  device.add_peer(pub(kPeer2));
  FakePeer* p2 = device.find(pub(kPeer2));
  p2->endpoint = endpoint("[2001:db8::1]:4500");
  p2->last_handshake = at(1700000060);
  p2->rx_bytes = 0;
  p2->tx_bytes = 1023;
  p2->persistent_keepalive = 65;
  p2->allowed_ips = {prefix("0.0.0.0/0")};
  return device.snapshot();
}

const WallTime kNow = at(1700000065);

// DeviceSnapshot is move-only (it holds a Secret), so no initializer lists.
std::vector<DeviceSnapshot> one(DeviceSnapshot device) {
  std::vector<DeviceSnapshot> v;
  v.push_back(std::move(device));
  return v;
}

TEST(StatusText, GoldenLikeWgShow) {
  std::ostringstream out;
  print_status_text(sample_device(), kNow, out);
  const std::string expected =
      "interface: wg0\n"
      "  public key: " +
      kAlicePub64 +
      "\n"
      "  private key: (hidden)\n"
      "  listening port: 51820\n"
      "  fwmark: 0xca6c\n"
      "  public endpoint: 203.0.113.7:51820\n"
      "\n"
      "peer: " +
      kPeer2B64 +
      "\n"
      "  endpoint: [2001:db8::1]:4500\n"
      "  allowed ips: 0.0.0.0/0\n"
      "  latest handshake: 5 seconds ago\n"
      "  transfer: 0 B received, 1023 B sent\n"
      "  persistent keepalive: every 1 minute, 5 seconds\n"
      "\n"
      "peer: " +
      kBobPub64 +
      "\n"
      "  preshared key: (hidden)\n"
      "  endpoint: 198.51.100.2:51820\n"
      "  allowed ips: 10.0.0.2/32, fd00::2/128\n"
      "  latest handshake: 1 minute, 5 seconds ago\n"
      "  transfer: 1.23 MiB received, 4.56 KiB sent\n"
      "  persistent keepalive: every 25 seconds\n"
      "  endpoint source: dns-sd\n"
      "\n"
      "peer: " +
      kPeer1B64 +
      "\n"
      "  allowed ips: (none)\n";
  EXPECT_EQ(out.str(), expected);
}

TEST(StatusText, NeverShowsSecrets) {
  std::ostringstream text, json;
  DeviceSnapshot device = sample_device();
  print_status_text(device, kNow, text);
  print_status_json(one(sample_device()), json);
  for (const std::string& secret_hex : {kAlicePriv, kAlicePrivClamped, kPsk}) {
    std::string b64 = key_to_base64(*from_hex_exact<kKeySize>(secret_hex));
    EXPECT_EQ(text.str().find(b64), std::string::npos);
    EXPECT_EQ(json.str().find(b64), std::string::npos);
    EXPECT_EQ(text.str().find(secret_hex), std::string::npos);
    EXPECT_EQ(json.str().find(secret_hex), std::string::npos);
  }
  EXPECT_NE(json.str().find("\"has_preshared_key\":true"), std::string::npos);
}

TEST(StatusText, BareInterface) {
  DeviceSnapshot device;
  device.interface_name = "wg9";
  std::ostringstream out;
  print_status_text(device, kNow, out);
  EXPECT_EQ(out.str(), "interface: wg9\n");
}

TEST(StatusText, HandshakeNowAndClockWoundBackward) {
  DeviceSnapshot device;
  device.interface_name = "wg0";
  auto& peer = device.peers.emplace_back();
  peer.public_key = pub(kPeer1);
  peer.last_handshake = kNow + std::chrono::milliseconds(300);
  std::ostringstream now_out;
  print_status_text(device, kNow, now_out);
  EXPECT_NE(now_out.str().find("  latest handshake: Now\n"), std::string::npos);
  peer.last_handshake = kNow + std::chrono::seconds(10);
  std::ostringstream back_out;
  print_status_text(device, kNow, back_out);
  EXPECT_NE(back_out.str().find(
                "  latest handshake: (System clock wound backward; connection problems may "
                "ensue.)\n"),
            std::string::npos);
}

TEST(StatusText, PrettyDuration) {
  EXPECT_EQ(pretty_duration(0), "");
  EXPECT_EQ(pretty_duration(1), "1 second");
  EXPECT_EQ(pretty_duration(59), "59 seconds");
  EXPECT_EQ(pretty_duration(60), "1 minute");
  EXPECT_EQ(pretty_duration(65), "1 minute, 5 seconds");
  EXPECT_EQ(pretty_duration(3600 + 1), "1 hour, 1 second");
  EXPECT_EQ(pretty_duration(2 * 86400 + 2 * 3600 + 2 * 60 + 2),
            "2 days, 2 hours, 2 minutes, 2 seconds");
  EXPECT_EQ(pretty_duration(365 * 86400), "1 year");
  EXPECT_EQ(pretty_duration(2 * 365 * 86400 + 86400), "2 years, 1 day");
  EXPECT_EQ(pretty_duration(65535), "18 hours, 12 minutes, 15 seconds");
}

TEST(StatusText, PrettyBytes) {
  EXPECT_EQ(pretty_bytes(0), "0 B");
  EXPECT_EQ(pretty_bytes(1023), "1023 B");
  EXPECT_EQ(pretty_bytes(1024), "1.00 KiB");
  EXPECT_EQ(pretty_bytes(4669), "4.56 KiB");
  EXPECT_EQ(pretty_bytes(1024 * 1024 - 1), "1024.00 KiB");  // wg rounds the same way
  EXPECT_EQ(pretty_bytes(1024 * 1024), "1.00 MiB");
  EXPECT_EQ(pretty_bytes(1289748), "1.23 MiB");
  EXPECT_EQ(pretty_bytes(5ull << 30), "5.00 GiB");
  EXPECT_EQ(pretty_bytes(3ull << 40), "3.00 TiB");
  EXPECT_EQ(pretty_bytes(4096ull << 40), "4096.00 TiB");
}

TEST(StatusText, PeerOrderNewestHandshakeFirstNeverLast) {
  DeviceSnapshot device;
  for (int i = 0; i < 4; ++i) device.peers.emplace_back().public_key[0] = uint8_t(i);
  device.peers[1].last_handshake = at(100);
  device.peers[2].last_handshake = at(300);
  device.peers[3].last_handshake = at(100) + std::chrono::nanoseconds(1000);
  auto order = peers_in_show_order(device);
  ASSERT_EQ(order.size(), 4u);
  EXPECT_EQ(order[0]->public_key[0], 2);
  EXPECT_EQ(order[1]->public_key[0], 3);  // nanoseconds count, as in wg's peer_cmp
  EXPECT_EQ(order[2]->public_key[0], 1);
  EXPECT_EQ(order[3]->public_key[0], 0);
}

TEST(StatusJson, Golden) {
  std::ostringstream out;
  print_status_json(one(sample_device()), out);
  const std::string none_path =
      "\"path\":\"none\",\"relay_via\":null,\"path_alive\":true,\"no_reply_for\":null,";
  const std::string expected =
      "{\"interfaces\":[{\"name\":\"wg0\",\"public_key\":\"" + kAlicePub64 +
      "\","
      "\"listen_port\":51820,\"fwmark\":51820,"
      "\"extra\":{\"public_endpoint\":\"203.0.113.7:51820\"},\"peers\":["
      "{\"public_key\":\"" +
      kPeer2B64 +
      "\",\"has_preshared_key\":false,"
      "\"endpoint\":\"[2001:db8::1]:4500\",\"allowed_ips\":[\"0.0.0.0/0\"],"
      "\"latest_handshake\":1700000060,\"rx_bytes\":0,\"tx_bytes\":1023,"
      "\"persistent_keepalive\":65," +
      none_path +
      "\"extra\":{}},"
      "{\"public_key\":\"" +
      kBobPub64 +
      "\",\"has_preshared_key\":true,"
      "\"endpoint\":\"198.51.100.2:51820\",\"allowed_ips\":[\"10.0.0.2/32\",\"fd00::2/128\"],"
      "\"latest_handshake\":1700000000,\"rx_bytes\":1289748,\"tx_bytes\":4669,"
      "\"persistent_keepalive\":25," +
      none_path +
      "\"extra\":{\"endpoint_source\":\"dns-sd\"}},"
      "{\"public_key\":\"" +
      kPeer1B64 +
      "\",\"has_preshared_key\":false,"
      "\"endpoint\":null,\"allowed_ips\":[],\"latest_handshake\":null,\"rx_bytes\":0,"
      "\"tx_bytes\":0,\"persistent_keepalive\":0," +
      none_path + "\"extra\":{}}]}]}\n";
  EXPECT_EQ(out.str(), expected);
}

TEST(StatusJson, EmptyListAndNoKey) {
  std::ostringstream none, bare;
  print_status_json({}, none);
  EXPECT_EQ(none.str(), "{\"interfaces\":[]}\n");
  DeviceSnapshot device;
  device.interface_name = "wg1";
  print_status_json(one(std::move(device)), bare);
  EXPECT_EQ(bare.str(),
            "{\"interfaces\":[{\"name\":\"wg1\",\"public_key\":null,\"listen_port\":0,"
            "\"fwmark\":0,\"extra\":{},\"peers\":[]}]}\n");
}

// Moments (device_control.h, *_unix extras): the server sends seconds since
// the epoch, "0" for never; text says "never" or "N seconds ago", JSON a
// number or null (issue 9: never an empty " ago").
TEST(Status, MomentsAreNeverOrAgoInTextAndNullOrNumberInJson) {
  DeviceSnapshot device;
  device.interface_name = "wg1";
  device.extra = {{"discovery_last_answer_unix", "0"}, {"registry_zone", "example.net."}};
  std::ostringstream text, json;
  print_status_text(device, kNow, text);
  print_status_json(one(std::move(device)), json);
  EXPECT_NE(text.str().find("  discovery last answer: never\n"), std::string::npos) << text.str();
  EXPECT_EQ(text.str().find(" ago"), std::string::npos);
  EXPECT_NE(json.str().find("\"discovery_last_answer\":null"), std::string::npos) << json.str();

  DeviceSnapshot answered;
  answered.interface_name = "wg1";
  answered.extra = {{"discovery_last_answer_unix", "1700000060"}};
  std::ostringstream text2, json2, same_second;
  print_status_text(answered, kNow, text2);
  print_status_text(answered, at(1700000060), same_second);
  print_status_json(one(std::move(answered)), json2);
  EXPECT_NE(text2.str().find("  discovery last answer: 5 seconds ago\n"), std::string::npos)
      << text2.str();
  EXPECT_NE(same_second.str().find("  discovery last answer: Now\n"), std::string::npos)
      << same_second.str();
  EXPECT_NE(json2.str().find("\"discovery_last_answer\":1700000060"), std::string::npos)
      << json2.str();
  // A peer's path is a field of its own in JSON: the first word of the text.
  DeviceSnapshot relayed;
  relayed.interface_name = "wg1";
  relayed.peers.resize(1);
  relayed.peers[0].extra = {{"path", "relay via KEY="}};
  std::ostringstream json3;
  print_status_json(one(std::move(relayed)), json3);
  EXPECT_NE(json3.str().find("\"path\":\"relay\""), std::string::npos) << json3.str();
}

// Issue 22: counters are numbers, lists arrays, yes/no booleans; the path
// appears once, as fields; text values are escaped by the JSON library.
TEST(StatusJson, TypedFields) {
  DeviceSnapshot device;
  device.interface_name = "wg1";
  device.extra = {{"dropped_no_route", "3"},        {"discovery_registry", "K1=, K2="},
                  {"offloads", "tun-csum udp-gso"}, {"registry_relay", "no"},
                  {"registry_zone", "12345."},      {"discovery_last_failure", "a\"b\\c\n\x01"},
                  {"some_future_count", "7"},       {"some_future_text", "seven"}};
  auto& peer = device.peers.emplace_back();
  peer.extra = {{"path", "relay via KEY="},
                {std::string(kPathNoReplyField), "12"},
                {"candidates", "192.0.2.1:51820, 10.0.0.5:51820"},
                {"relayed_bytes", "1500"},
                {"discovery", "searching, round 1 of 4"}};
  std::ostringstream out;
  print_status_json(one(std::move(device)), out);
  auto json = nlohmann::json::parse(out.str());
  const auto& extra = json["interfaces"][0]["extra"];
  EXPECT_EQ(extra["dropped_no_route"], 3);
  EXPECT_EQ(extra["discovery_registry"], nlohmann::json::array({"K1=", "K2="}));
  EXPECT_EQ(extra["offloads"], nlohmann::json::array({"tun-csum", "udp-gso"}));
  EXPECT_EQ(extra["registry_relay"], false);
  EXPECT_EQ(extra["registry_zone"], "12345.");  // text, however it looks
  EXPECT_EQ(extra["discovery_last_failure"], "a\"b\\c\n\x01");
  EXPECT_EQ(extra["some_future_count"], 7);
  EXPECT_EQ(extra["some_future_text"], "seven");
  const auto& p = json["interfaces"][0]["peers"][0];
  EXPECT_EQ(p["path"], "relay");
  EXPECT_EQ(p["relay_via"], "KEY=");
  EXPECT_EQ(p["path_alive"], false);
  EXPECT_EQ(p["no_reply_for"], 12);
  EXPECT_FALSE(p["extra"].contains("path"));
  EXPECT_FALSE(p["extra"].contains(std::string(kPathNoReplyField)));
  EXPECT_EQ(p["extra"]["candidates"], nlohmann::json::array({"192.0.2.1:51820", "10.0.0.5:51820"}));
  EXPECT_EQ(p["extra"]["relayed_bytes"], 1500);
  EXPECT_EQ(p["extra"]["discovery"], "searching, round 1 of 4");
  // Bytes that are not UTF-8 do not stop the output.
  DeviceSnapshot odd;
  odd.interface_name = "wg2";
  odd.extra = {{"discovery_zone", "caf\xff."}};
  std::ostringstream out2;
  print_status_json(one(std::move(odd)), out2);
  EXPECT_TRUE(nlohmann::json::parse(out2.str())["interfaces"][0]["extra"]["discovery_zone"].is_string());
}

// The path line: "direct (no reply for 12 s)" when nothing came back lately.
TEST(StatusText, SilentPathSaysSo) {
  DeviceSnapshot device;
  device.interface_name = "wg1";
  auto& peer = device.peers.emplace_back();
  peer.extra = {{"path", "direct"}, {std::string(kPathNoReplyField), "12"}};
  std::ostringstream out;
  print_status_text(device, kNow, out);
  EXPECT_NE(out.str().find("  path: direct (no reply for 12 s)\n"), std::string::npos) << out.str();
  EXPECT_EQ(out.str().find("no reply seconds"), std::string::npos) << out.str();
}

TEST(StatusArgs, Parsing) {
  std::vector<std::string_view> none;
  auto o = parse_status_args(none);
  EXPECT_FALSE(o.interface_name);
  EXPECT_FALSE(o.json);
  EXPECT_EQ(o.socket_directory, "/var/run/wireguard");
  std::vector<std::string_view> both{"--json", "wg0"};
  o = parse_status_args(both);
  EXPECT_EQ(o.interface_name, "wg0");
  EXPECT_TRUE(o.json);
  for (auto bad : std::vector<std::vector<std::string_view>>{
           {"--yaml"}, {"wg0", "wg1"}, {"../etc"}, {"a/b"}, {"sixteen-chars-xx"}, {""}}) {
    EXPECT_THROW(parse_status_args(bad), std::invalid_argument);
  }
}

using StatusClientTest = ServerFixture;

TEST_F(StatusClientTest, FetchAndPrintOverTheSocket) {
  on_io([&] {
    device_.set_private_key(secret(kAlicePriv));
    (void)device_.set_listen_port(51820);
    device_.extra() = {{"registry", "yes"}};
    device_.add_peer(pub(kBobPub));
    device_.add_peer_allowed_ip(pub(kBobPub), prefix("10.0.0.2/32"));
  });
  start_server("wg0");
  StatusOptions options;
  options.socket_directory = dir_;
  std::ostringstream out, err;
  EXPECT_EQ(run_status(options, out, err, kNow), 0);
  EXPECT_EQ(err.str(), "");
  EXPECT_EQ(out.str(),
            "interface: wg0\n"
            "  public key: " +
                kAlicePub64 +
                "\n"
                "  private key: (hidden)\n"
                "  listening port: 51820\n"
                "  registry: yes\n"
                "\n"
                "peer: " +
                kBobPub64 +
                "\n"
                "  allowed ips: 10.0.0.2/32\n");
  options.json = true;
  options.interface_name = "wg0";
  std::ostringstream json;
  EXPECT_EQ(run_status(options, json, err, kNow), 0);
  EXPECT_EQ(
      json.str().rfind("{\"interfaces\":[{\"name\":\"wg0\",\"public_key\":\"" + kAlicePub64, 0),
      0u);
}

TEST_F(StatusClientTest, TwoInterfacesSeparatedByABlankLine) {
  start_server("wga");
  FakeDevice other("wgb");
  std::unique_ptr<UapiServer> second;
  on_io([&] { second = std::make_unique<UapiServer>(io_, "wgb", other, dir_); });
  StatusOptions options;
  options.socket_directory = dir_;
  std::ostringstream out, err;
  EXPECT_EQ(run_status(options, out, err, kNow), 0);
  EXPECT_EQ(out.str(), "interface: wga\n\ninterface: wgb\n");
  on_io([&] { second.reset(); });
}

TEST_F(StatusClientTest, NothingRunning) {
  StatusOptions options;
  options.socket_directory = dir_;
  std::ostringstream out, err;
  EXPECT_EQ(run_status(options, out, err, kNow), 1);
  EXPECT_EQ(out.str(), "");
  EXPECT_EQ(err.str(), "wgpunch status: no interface is running (no control socket answers in " +
                           dir_.string() + ")\n");
}

TEST_F(StatusClientTest, NamedInterfaceNotRunning) {
  start_server("wg0");
  StatusOptions options;
  options.socket_directory = dir_;
  options.interface_name = "wg7";
  std::ostringstream out, err;
  EXPECT_EQ(run_status(options, out, err, kNow), 1);
  EXPECT_EQ(out.str(), "");
  EXPECT_EQ(err.str().rfind("wgpunch status: interface wg7 is not running: cannot connect: ", 0),
            0u)
      << err.str();
  EXPECT_NE(err.str().find((dir_ / "wg7.sock").string()), std::string::npos);
}

}  // namespace
}  // namespace wgp::control
