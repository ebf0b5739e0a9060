// The responder behind a real UDP socket on 127.0.0.1, read by the stock
// tools: dig (BIND), kdig (Knot) and drill (ldns). Each test skips when its
// tool is not installed (fails under scripts/test, which installs them; see
// support/requirements.h). Every tool call is bounded by `timeout`.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include "support/requirements.h"
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "dnssd/base32.h"
#include "dnssd/responder.h"

namespace wgp::dnssd {
namespace {

// Alice and Bob of PROTOCOL.md; their labels checked in base32_test.cpp.
constexpr char kAlice[] = "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=";
constexpr char kBob[] = "Igge9KzRytKNwrgkzDE/8hrLu6Ly0OqVdvOPWhA5KR4=";
constexpr char kAliceLabel[] = "QUQPACMJGCTVI5ELPXOLIPXXLIG36OQNEY4BV5HLUSUY5KU3JZVA====";
constexpr char kBobLabel[] = "EIEB55FM2HFNFDOCXASMYMJ76INMXO5C6LIOVFLW6OHVUEBZFEPA====";

// Serves one Responder on a loopback UDP socket from a thread until destroyed.
class LoopbackServer {
 public:
  explicit LoopbackServer(std::vector<PublishedPeer> peers) : responder_("example.net.") {
    responder_.set_peers(std::move(peers));
    responder_.set_serial(1);
    fd_ = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      ADD_FAILURE() << "cannot bind a loopback UDP socket";
      return;
    }
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~LoopbackServer() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) close(fd_);
  }
  uint16_t port() const { return port_; }
  uint64_t answered() const { return answered_; }

 private:
  void serve() {
    std::vector<uint8_t> in(65535), out(65535);
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      sockaddr_storage from{};
      socklen_t from_len = sizeof from;
      ssize_t n =
          recvfrom(fd_, in.data(), in.size(), 0, reinterpret_cast<sockaddr*>(&from), &from_len);
      if (n < 0) continue;
      auto r = responder_.answer(ByteView(in.data(), size_t(n)), QueryAccess::kAllowed, out);
      if (r.length) {
        sendto(fd_, out.data(), r.length, 0, reinterpret_cast<sockaddr*>(&from), from_len);
        ++answered_;
      }
    }
  }

  Responder responder_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> answered_{0};
  std::thread thread_;
};

std::string run(const std::string& command) {
  std::string out;
  FILE* f = popen(command.c_str(), "r");
  if (!f) return out;
  char buf[512];
  while (size_t n = fread(buf, 1, sizeof buf, f)) out.append(buf, n);
  pclose(f);
  return out;
}

std::vector<std::string> words(const std::string& line) {
  std::vector<std::string> out;
  std::istringstream in(line);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// kdig writes '=' in names as "\=" (presentation format escaping); undo that.
std::string unescape(std::string text) {
  for (size_t at; (at = text.find("\\=")) != std::string::npos;) text.erase(at, 1);
  return text;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) {
    if (!l.empty()) out.push_back(l);
  }
  return out;
}

PublishedPeer peer(const char* key, const char* endpoint) {
  return {*public_key_from_base64(key), *Endpoint::parse(endpoint)};
}

class ToolsTest : public ::testing::Test {
 protected:
  ToolsTest() : server({peer(kAlice, "198.51.100.7:51820"), peer(kBob, "[2001:db8::b]:4500")}) {}

  std::string alice_instance() const {
    return std::string(kAliceLabel) + "._wireguard._udp.example.net.";
  }
  std::string alice_host() const { return std::string(kAliceLabel) + ".example.net."; }
  std::string bob_host() const { return std::string(kBobLabel) + ".example.net."; }

  // dig with its defaults (EDNS with a cookie option, AD set) and one try.
  std::string dig(const std::string& args) {
    return run("timeout 10 dig @127.0.0.1 -p " + std::to_string(server.port()) +
               " +time=2 +tries=1 " + args + " 2>&1");
  }
  std::string kdig(const std::string& args) {
    return unescape(run("timeout 10 kdig @127.0.0.1 -p " + std::to_string(server.port()) +
                        " +timeout=2 +retry=0 " + args + " 2>&1"));
  }
  std::string drill(const std::string& args) {
    return run("timeout 10 drill -p " + std::to_string(server.port()) + " " + args +
               " @127.0.0.1 2>&1");
  }

  LoopbackServer server;
};

TEST_F(ToolsTest, DigReadsEveryRecord) {
  WGP_REQUIRE_TOOL("dig");
  auto ptr = lines(dig("+short PTR _wireguard._udp.example.net"));
  ASSERT_EQ(ptr.size(), 2u) << dig("PTR _wireguard._udp.example.net");
  EXPECT_EQ(ptr[0], alice_instance());
  EXPECT_EQ(ptr[1], std::string(kBobLabel) + "._wireguard._udp.example.net.");

  auto srv = lines(dig("+short SRV " + alice_instance()));
  ASSERT_EQ(srv.size(), 1u);
  EXPECT_EQ(srv[0], "0 0 51820 " + alice_host());
  // The address is the first record of ADDITIONAL.
  auto additional = lines(dig("+noall +additional SRV " + alice_instance()));
  ASSERT_GE(additional.size(), 1u);
  EXPECT_EQ(words(additional[0]),
            (std::vector<std::string>{alice_host(), "0", "IN", "A", "198.51.100.7"}));

  EXPECT_EQ(dig("+short A " + alice_host()), "198.51.100.7\n");
  EXPECT_EQ(dig("+short A " + alice_instance()), "198.51.100.7\n");
  EXPECT_EQ(dig("+short AAAA " + bob_host()), "2001:db8::b\n");
  EXPECT_EQ(dig("+short A " + bob_host()), "");  // NODATA
}

TEST_F(ToolsTest, DigSrvTargetDecodesBackToTheKey) {
  WGP_REQUIRE_TOOL("dig");
  WGP_REQUIRE_TOOL("base32");
  std::string got = run("timeout 10 dig @127.0.0.1 -p " + std::to_string(server.port()) +
                        " +time=2 +tries=1 +short SRV " + alice_instance() +
                        " | awk '{print $4}' | cut -d. -f1 | base32 -d | base64");
  EXPECT_EQ(got, std::string(kAlice) + "\n");
  // And from the PTR list, for every peer.
  std::string keys =
      run("timeout 10 dig @127.0.0.1 -p " + std::to_string(server.port()) +
          " +time=2 +tries=1 +short PTR _wireguard._udp.example.net" +
          " | while read n; do echo \"$n\" | cut -d. -f1 | base32 -d | base64; done");
  EXPECT_EQ(keys, std::string(kAlice) + "\n" + kBob + "\n");
}

TEST_F(ToolsTest, DigSeesRcodes) {
  WGP_REQUIRE_TOOL("dig");
  std::string nx = dig("A nothing.example.net");
  EXPECT_NE(nx.find("status: NXDOMAIN"), std::string::npos) << nx;
  EXPECT_NE(nx.find("flags: qr aa rd;"), std::string::npos) << nx;
  auto soa = lines(dig("+noall +authority A nothing.example.net"));
  ASSERT_EQ(soa.size(), 1u);
  EXPECT_EQ(words(soa[0]),
            (std::vector<std::string>{"example.net.", "0", "IN", "SOA", "example.net.",
                                      "hostmaster.example.net.", "1", "60", "10", "86400", "0"}));
  std::string refused = dig("A www.example.com");
  EXPECT_NE(refused.find("status: REFUSED"), std::string::npos) << refused;
  std::string nodata = dig("TXT " + alice_host());
  EXPECT_NE(nodata.find("status: NOERROR"), std::string::npos);
  EXPECT_NE(nodata.find("ANSWER: 0, AUTHORITY: 1"), std::string::npos) << nodata;
  std::string badvers = dig("+edns=1 +noednsneg A " + alice_host());
  EXPECT_NE(badvers.find("status: BADVERS"), std::string::npos) << badvers;
}

TEST_F(ToolsTest, DigEchoesMixedCase) {
  WGP_REQUIRE_TOOL("dig");
  std::string mixed = alice_host();
  for (size_t i = 0; i < mixed.size(); i += 3) mixed[i] = char(std::tolower(mixed[i]));
  std::string out = dig("+noall +question A " + mixed);
  EXPECT_NE(out.find(";" + mixed), std::string::npos) << out;
  EXPECT_EQ(dig("+short A " + mixed), "198.51.100.7\n");
}

TEST_F(ToolsTest, KdigReadsEveryRecord) {
  WGP_REQUIRE_TOOL("kdig");
  auto ptr = lines(kdig("+short PTR _wireguard._udp.example.net"));
  ASSERT_EQ(ptr.size(), 2u) << kdig("PTR _wireguard._udp.example.net");
  EXPECT_EQ(ptr[0], alice_instance());
  EXPECT_EQ(lines(kdig("+short SRV " + alice_instance())),
            std::vector<std::string>{"0 0 51820 " + alice_host()});
  std::string full = kdig("SRV " + alice_instance());
  size_t add = full.find(";; ADDITIONAL SECTION:");
  ASSERT_NE(add, std::string::npos) << full;
  // The first additional record is the A.
  auto after = lines(full.substr(add));
  ASSERT_GE(after.size(), 2u);
  EXPECT_EQ(after[1].rfind(alice_host(), 0), 0u) << after[1];
  EXPECT_NE(after[1].find("A\t198.51.100.7"), std::string::npos) << after[1];

  EXPECT_EQ(kdig("+short A " + alice_host()), "198.51.100.7\n");
  EXPECT_EQ(kdig("+short AAAA " + bob_host()), "2001:db8::b\n");
  std::string nx = kdig("A nothing.example.net");
  EXPECT_NE(nx.find("status: NXDOMAIN"), std::string::npos) << nx;
  std::string refused = kdig("A www.example.com");
  EXPECT_NE(refused.find("status: REFUSED"), std::string::npos) << refused;
}

// drill prints sections as ";; NAME SECTION:" followed by records.
std::vector<std::string> drill_section(const std::string& out, const std::string& name) {
  std::vector<std::string> records;
  size_t at = out.find(";; " + name + " SECTION:");
  if (at == std::string::npos) return records;
  std::istringstream in(out.substr(at));
  std::string l;
  std::getline(in, l);
  while (std::getline(in, l) && !l.empty()) records.push_back(l);
  return records;
}

TEST_F(ToolsTest, DrillReadsEveryRecord) {
  WGP_REQUIRE_TOOL("drill");
  auto ptr = drill_section(drill("_wireguard._udp.example.net PTR"), "ANSWER");
  ASSERT_EQ(ptr.size(), 2u);
  EXPECT_EQ(ptr[0], "_wireguard._udp.example.net.\t0\tIN\tPTR\t" + alice_instance());

  std::string srv = drill(alice_instance() + " SRV");
  auto answer = drill_section(srv, "ANSWER");
  ASSERT_EQ(answer.size(), 1u) << srv;
  EXPECT_EQ(answer[0], alice_instance() + "\t0\tIN\tSRV\t0 0 51820 " + alice_host());
  auto additional = drill_section(srv, "ADDITIONAL");
  ASSERT_EQ(additional.size(), 2u) << srv;  // the address, then wgsd's TXT (§11)
  EXPECT_EQ(additional[0], alice_host() + "\t0\tIN\tA\t198.51.100.7");
  EXPECT_EQ(additional[1].rfind(alice_instance() + "\t0\tIN\tTXT\t\"txtvers=1\" \"pub=", 0), 0u)
      << additional[1];

  auto a = drill_section(drill(alice_host() + " A"), "ANSWER");
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0], alice_host() + "\t0\tIN\tA\t198.51.100.7");
  auto aaaa = drill_section(drill(bob_host() + " AAAA"), "ANSWER");
  ASSERT_EQ(aaaa.size(), 1u);
  EXPECT_EQ(aaaa[0], bob_host() + "\t0\tIN\tAAAA\t2001:db8::b");

  std::string nx = drill("nothing.example.net A");
  EXPECT_NE(nx.find("rcode: NXDOMAIN"), std::string::npos) << nx;
  auto soa = drill_section(nx, "AUTHORITY");
  ASSERT_EQ(soa.size(), 1u);
  EXPECT_NE(soa[0].find("SOA\texample.net. hostmaster.example.net. 1 "), std::string::npos);
  std::string refused = drill("www.example.com A");
  EXPECT_NE(refused.find("rcode: REFUSED"), std::string::npos) << refused;
}

TEST(ToolsTruncation, DigSeesTcWithManyPeers) {
  WGP_REQUIRE_TOOL("dig");
  std::vector<PublishedPeer> peers;
  for (int i = 0; i < 100; ++i) {
    PublicKey k{};
    k[0] = uint8_t(i);
    k[31] = 0x40;
    peers.push_back({k, {*IpAddress::parse("203.0.113.9"), uint16_t(2000 + i)}});
  }
  LoopbackServer server(std::move(peers));
  std::string base = "timeout 10 dig @127.0.0.1 -p " + std::to_string(server.port()) +
                     " +time=2 +tries=1 +ignore ";
  std::string plain = run(base + "+noedns PTR _wireguard._udp.example.net 2>&1");
  EXPECT_NE(plain.find("flags: qr aa tc rd;"), std::string::npos) << plain;
  EXPECT_NE(plain.find("ANSWER: 6,"), std::string::npos) << plain;
  EXPECT_NE(plain.find("MSG SIZE  rcvd: 471"), std::string::npos) << plain;
  std::string big = run(base + "+bufsize=16384 PTR _wireguard._udp.example.net 2>&1");
  EXPECT_EQ(big.find(" tc "), std::string::npos) << big;
  EXPECT_NE(big.find("ANSWER: 100,"), std::string::npos) << big;
}

}  // namespace
}  // namespace wgp::dnssd
