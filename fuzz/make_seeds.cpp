// Writes the generated part of the seed corpora: real messages made by the
// project's own builders, so the fuzzers start from inputs that reach deep
// (a §6.3 handshake that the harness's device completes, responses of a real
// Responder, well-formed inner packets). Run by hand after changing a format:
//   build-fuzz/fuzz_make_seeds fuzz/corpus
// Hand-written seeds (UAPI, configs) and captured dig queries live beside.
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "crypto/x25519.h"
#include "dnssd/candidate_update.h"
#include "dnssd/discovery_query.h"
#include "dnssd/inner_udp.h"
#include "dnssd/notify.h"
#include "dnssd/responder.h"
#include "noise/cookie.h"
#include "net/checksum.h"
#include "unit/tun/packet_builder.h"
#include "wireguard_harness.h"

namespace {

using namespace wgp;
using namespace wgp::fuzz;
using Bytes = std::vector<uint8_t>;

std::string g_dir;

void write(const std::string& target, const std::string& name, const Bytes& bytes) {
  std::string path = g_dir + "/" + target + "/" + name;
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  if (!f) {
    std::fprintf(stderr, "cannot write %s\n", path.c_str());
    std::exit(1);
  }
}

void raw_record(Bytes& out, ByteView datagram, uint8_t ctl = 0) {
  out.push_back(uint8_t(datagram.size()));
  out.push_back(uint8_t(datagram.size() >> 8));
  out.push_back(ctl);
  out.insert(out.end(), datagram.begin(), datagram.end());
}

PublicKey key_n(int n) {  // the keys the DNS targets publish and ask for
  PublicKey k;
  for (size_t i = 0; i < k.size(); ++i) k[i] = uint8_t(n * 131 + i * 7 + 1);
  return k;
}

// Alice of §6.3 as a second device, to answer the harness's own initiation.
struct Alice final : DeviceOutput {
  Alice() : device(rng, *this) {
    auto priv = hex_bytes("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
    device.set_private_key(PrivateKey(std::span<const uint8_t, 32>(priv.data(), 32)));
    auto bob_priv = hex_bytes(kBobPrivateHex);
    bob = device.add_peer(
        derive_public_key(PrivateKey(std::span<const uint8_t, 32>(bob_priv.data(), 32))));
    device.allowed_ips().insert(*IpPrefix::parse("10.0.0.2/32"), bob);
  }
  void send_datagram(const Endpoint&, ByteView d) override {
    sent.emplace_back(d.begin(), d.end());
  }
  void write_tun(ByteView) override {}
  ScriptedRandom rng;
  Device device;
  Peer* bob;
  std::vector<Bytes> sent;
};

Bytes icmp_packet() {
  return hex_bytes("4500001c00000000400166df0a0000010a0000020800f7fd00010001");
}

Bytes udp_packet(const char* src, uint16_t sport, const char* dst, uint16_t dport,
                 ByteView payload) {
  auto s = *IpAddress::parse(src), d = *IpAddress::parse(dst);
  Bytes out(dnssd::udp_packet_size(s.family, payload.size()));
  if (!dnssd::build_udp_packet(s, sport, d, dport, payload, out)) std::abort();
  return out;
}

void wireguard_seeds() {
  const char* t = "fuzz_wireguard";
  auto m1 = hex_bytes(kMessage1Hex);
  auto keepalive = hex_bytes(
      "040000002222222200000000000000"
      "00f0e79bbad4994a4cc7b71fc2216b7104");
  auto data = hex_bytes(
      "04000000222222220100000000000000"
      "29114e530be647ab0ee89c74424c1297def0e91b7fd7d2586c002baf28eb0a3c"
      "23d872ab4d8b8e6390522275ca17ef17");
  auto cookie = hex_bytes(
      "0300000044332211000102030405060708090a0b0c0d0e0f1011121314151617"
      "e08dbb71ee2da25230be478070fe3ef38803a872eb7ad9fa45cb37a50f92f7f1");

  // §6.3 as Bob sees it: initiation, keepalive, data (then a replay of it), cookie reply.
  Bytes s{kRaw};
  raw_record(s, m1);
  raw_record(s, keepalive, 0x01);
  raw_record(s, data, 0x01);
  raw_record(s, data, 0x11);  // replayed from another address
  raw_record(s, cookie);
  write(t, "raw_transcript", s);

  s = {kRaw};
  raw_record(s, m1);
  raw_record(s, m1, 0x03);  // the same initiation again 20 ms later: a replay
  write(t, "raw_initiation_replay", s);

  // Bob initiates; Alice's real device answers; Alice then sends data.
  {
    Harness h(true);
    h.bob_initiates();
    Alice a;
    Bytes initiation = h.sent.at(0);
    (void)a.device.receive_datagram(initiation, Harness::source(0), h.now());
    Bytes response = a.sent.at(0);
    // A cookie reply to Bob's initiation, as Alice would send under load.
    noise::CookieChecker checker;
    checker.set_keys(a.device.identity().mac1_key, a.device.identity().cookie_key);
    std::array<uint8_t, 18> src;
    size_t n = Endpoint::parse("192.0.2.2:51820")->cookie_input(src);
    std::array<uint8_t, noise::kCookieReplySize> reply;
    checker.make_reply(initiation, kBobIndex, ByteView(src.data(), n), h.now().mono, a.rng, reply);

    s = {uint8_t(kRaw | kBobInitiates)};
    raw_record(s, Bytes(reply.begin(), reply.end()));
    raw_record(s, response, 0x01);
    write(t, "raw_bob_initiates", s);

    // Feed the response to Bob so that Alice can use the session.
    // then Bob's key confirmation to Alice, so that she may send.
    if (h.deliver(response, 0x01)) std::abort();
    if (a.device.receive_datagram(h.sent.back(), Harness::source(0), h.now())) std::abort();
    a.device.send_to_peer(*a.bob, icmp_packet(), h.now());
    Bytes alice_data = a.sent.back();
    // The seed must reach Bob's transport path: his TUN gets the packet.
    if (h.deliver(alice_data, 0x01) || h.tun_writes != 1) std::abort();
    s = {uint8_t(kRaw | kBobInitiates)};
    raw_record(s, response, 0x01);
    raw_record(s, alice_data, 0x01);
    raw_record(s, response, 0x01);  // a response for an index that is now a keypair
    write(t, "raw_bob_initiates_data", s);
  }

  // Structure-aware: message 1 with a recomputed mac1, each type at an exact size.
  s = {kTyped, 0x00, 0x80, 0x00};
  s.insert(s.end(), m1.begin() + 4, m1.end());
  s.insert(s.end(), {0x13, 0x01, 0x00});  // type 4, live index, keepalive size
  s.insert(s.end(), keepalive.begin() + 4, keepalive.end());
  s.insert(s.end(), {0x11, 0x80, 0x00});  // type 2 at the live index, with mac1
  s.resize(s.size() + noise::kResponseSize - 4, 0x5a);
  s.insert(s.end(), {0x12, 0x00, 0x00});  // type 3
  s.insert(s.end(), cookie.begin() + 4, cookie.end());
  write(t, "typed_all", s);

  // Bob under load: the initiation first gets a cookie, then passes with mac2.
  {
    Harness h;
    h.flood();
    size_t before = h.datagrams_sent;  // the flood's last response got a cookie too
    Bytes msg = m1;
    if (h.deliver_with_macs(msg, 0) || h.datagrams_sent != before + 2) std::abort();
  }
  s = {uint8_t(kTyped | kFlood), 0x00, 0x80, 0x00};
  s.insert(s.end(), m1.begin() + 4, m1.end());
  s.insert(s.end(), {0x00, 0x81, 0x00});  // the same initiation 1 ms later: a flood/replay
  s.insert(s.end(), m1.begin() + 4, m1.end());
  write(t, "typed_under_load", s);

  // Inner packets through a live session.
  Bytes dns;
  dnssd::build_query(0x1234, dnssd::service_name("example.net."), dnssd::kQueryTypePtr, dns);
  auto inner = [&](std::initializer_list<Bytes> packets) {
    Bytes out{kInner};
    for (const auto& p : packets) raw_record(out, p, 0x01);
    return out;
  };
  Bytes padded = icmp_packet();
  padded.resize(32, 0);
  write(t, "inner_icmp", inner({icmp_packet(), padded}));
  write(t, "inner_udp_v6",
        inner({udp_packet("fd00::1", 5353, "fd00::2", 53, dns),
               udp_packet("10.0.0.1", 5353, "10.0.0.2", 53, dns)}));
  write(t, "inner_spoofed_source", inner({udp_packet("10.9.9.9", 1, "10.0.0.2", 53, dns)}));
}

// One query per kind of name and type the responder distinguishes.
std::vector<std::pair<std::string, Bytes>> dns_queries() {
  using namespace dnssd;
  std::string zone = "example.net.";
  std::vector<std::pair<std::string, Bytes>> out;
  auto add = [&](std::string name, std::string qname, uint16_t type, uint16_t id) {
    Bytes q;
    if (!build_query(id, qname, type, q)) std::abort();
    out.emplace_back(std::move(name), std::move(q));
  };
  add("srv_instance", instance_name(key_n(1), zone), kQueryTypeSrv, 0x5101);
  add("srv_instance_v6", instance_name(key_n(2), "EXAMPLE.net"), kQueryTypeSrv, 0x5102);
  add("ptr_service", service_name(zone), kQueryTypePtr, 0x5103);
  add("a_host", target_name(key_n(1), zone), kQueryTypeA, 0x5104);
  add("aaaa_host", target_name(key_n(2), zone), kQueryTypeAaaa, 0x5105);
  add("any_instance", instance_name(key_n(3), zone), 255, 0x5106);
  add("soa_apex", zone, 6, 0x5107);
  add("nxdomain", instance_name(key_n(9), zone), kQueryTypeSrv, 0x5108);
  add("refused_outside", "example.org.", kQueryTypeA, 0x5109);
  add("axfr", zone, 252, 0x510a);
  Bytes notify;
  build_notify(0x510b, key_n(1), zone, notify);
  out.emplace_back("notify", notify);
  // Candidate UPDATEs from the fuzz harness's sender (key 3*i+1 bytes).
  PublicKey sender;
  for (size_t i = 0; i < sender.size(); ++i) sender[i] = uint8_t(3 * i + 1);
  Bytes update;
  build_candidate_update(0x510c, sender, zone,
                         {51820, {*IpAddress::parse("10.1.0.2"), *IpAddress::parse("2001:db8:1::2")}},
                         update);
  out.emplace_back("update_candidates", update);
  Bytes withdraw;
  build_candidate_update(0x510d, sender, zone, {}, withdraw);
  out.emplace_back("update_withdraw", withdraw);
  return out;
}

void dns_seeds() {
  dnssd::Responder responder("example.net.");
  responder.set_peers({{key_n(1), *Endpoint::parse("192.0.2.10:51820")},
                       {key_n(2), *Endpoint::parse("[2001:db8::2]:4500")},
                       {key_n(3), *Endpoint::parse("198.51.100.3:1")}});
  for (auto& [name, q] : dns_queries()) {
    Bytes seed{0x02};  // 65535-byte output, access allowed
    seed.insert(seed.end(), q.begin(), q.end());
    write("fuzz_dns_query", "gen_" + name, seed);
    Bytes answer(65535);
    auto r = responder.answer(q, dnssd::QueryAccess::kAllowed, answer);
    if (r.length == 0) continue;
    Bytes a{0x01};  // expected ID = the answer's own, zone example.net.
    a.insert(a.end(), answer.begin(), answer.begin() + r.length);
    write("fuzz_dns_answer", "answer_" + name, a);
  }
  Bytes notify;
  dnssd::build_notify(0x7777, key_n(4), "example.net.", notify);
  Bytes seed{0x01};
  seed.insert(seed.end(), notify.begin(), notify.end());
  write("fuzz_dns_answer", "notify", seed);
  Bytes ack;
  dnssd::build_notify_ack({0x7777, key_n(4)}, "example.net.", ack);
  seed = {0x01};
  seed.insert(seed.end(), ack.begin(), ack.end());
  write("fuzz_dns_answer", "notify_ack", seed);
}

void inner_udp_seeds() {
  Bytes dns;
  dnssd::build_query(0x1234, dnssd::service_name("example.net."), dnssd::kQueryTypePtr, dns);
  write("fuzz_inner_udp", "v4_dns", udp_packet("10.0.0.1", 40000, "10.0.0.2", 53, dns));
  write("fuzz_inner_udp", "v6_dns", udp_packet("fd00::1", 40000, "fd00::2", 53, dns));
  write("fuzz_inner_udp", "v4_icmp", icmp_packet());
  // IPv4 with an options word (IHL 6) and WireGuard padding after it.
  Bytes opt = udp_packet("10.0.0.1", 1, "10.0.0.2", 53, dns);
  opt.insert(opt.begin() + 20, {0x01, 0x01, 0x01, 0x00});  // NOP NOP NOP EOL
  opt[0] = 0x46;
  store_be16(opt.data() + 2, uint16_t(opt.size()));
  opt[10] = opt[11] = 0;
  uint32_t sum = 0;
  for (size_t i = 0; i < 24; i += 2) sum += load_be16(opt.data() + i);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  store_be16(opt.data() + 10, uint16_t(~sum));
  opt.resize(opt.size() + 12, 0);
  write("fuzz_inner_udp", "v4_options_padded", opt);
}

// TUN frames as a vnet-header read returns them: TSO/USO super-packets
// (packet_builder's gso_frame), NEEDS_CSUM single packets, a plain one.
void tun_frame_seeds() {
  const char* t = "fuzz_tun_frame";
  pkt::Spec v4;
  v4.options = pkt::timestamps(0x01020304, 0x0a0b0c0d);
  v4.flags = pkt::kAck | pkt::kPsh;
  v4.payload = pkt::pattern(8 * 1448);
  write(t, "tso_v4_timestamps", pkt::gso_frame(v4, 1448));
  v4.payload = pkt::pattern(3 * 1000 + 77, 3);  // the last segment 77 bytes
  v4.flags = pkt::kAck | pkt::kFin;
  write(t, "tso_v4_short_last_fin", pkt::gso_frame(v4, 1000));
  pkt::Spec ecn = v4;
  ecn.options.clear();
  ecn.flags = pkt::kAck | pkt::kCwr;
  ecn.payload = pkt::pattern(4 * 500, 9);
  write(t, "tso_v4_ecn_cwr", pkt::gso_frame(ecn, 500, kGsoTcpV4 | kGsoEcn));

  pkt::Spec v6;
  v6.v6 = true;
  v6.payload = pkt::pattern(6 * 1428 + 1, 1);
  write(t, "tso_v6", pkt::gso_frame(v6, 1428));

  // The largest IPv6 super-packet: 45 segments and a short one, 65535 bytes.
  v6.payload = pkt::pattern(65535 - 60, 7);
  write(t, "tso_v6_max", pkt::gso_frame(v6, 1428));
  // With an 8-byte hop-by-hop header before TCP (the checksum's pseudo-header
  // length, TCP header + payload, does not change).
  v6.payload = pkt::pattern(3 * 1000, 8);
  Bytes hbh = pkt::gso_frame(v6, 1000);
  size_t ip6 = kVnetHeaderSize;
  hbh.insert(hbh.begin() + long(ip6 + 40), {kIpProtoTcp, 0, 5, 2, 0, 0, 1, 0});  // router alert
  hbh[ip6 + 6] = 0;  // next header: hop-by-hop
  store_be16(&hbh[ip6 + 4], uint16_t(hbh.size() - ip6 - 40));
  VnetHeader h = VnetHeader::parse(hbh);
  h.csum_start = 48;
  h.hdr_len = uint16_t(h.hdr_len + 8);
  h.write(hbh);
  write(t, "tso_v6_hop_by_hop", hbh);

  pkt::Spec udp;
  udp.udp = true;
  udp.payload = pkt::pattern(4 * 1200 + 300, 2);
  write(t, "uso_v4", pkt::gso_frame(udp, 1200));
  udp.v6 = true;
  write(t, "uso_v6", pkt::gso_frame(udp, 1200));

  // gso NONE with NEEDS_CSUM: one packet whose checksum field holds the
  // pseudo-header sum, completed by the reader.
  auto needs_csum = [](pkt::Spec s) {
    auto f = pkt::gso_frame(s, 1000);
    VnetHeader h = VnetHeader::parse(f);
    h.gso_type = kGsoNone;
    h.gso_size = 0;
    h.write(f);
    return f;
  };
  pkt::Spec tcp;
  tcp.payload = pkt::pattern(700, 4);
  write(t, "needs_csum_tcp_v4", needs_csum(tcp));
  pkt::Spec udp6;
  udp6.udp = true;
  udp6.v6 = true;
  udp6.payload = pkt::pattern(333, 5);
  write(t, "needs_csum_udp_v6", needs_csum(udp6));

  Bytes icmp(kVnetHeaderSize, 0);  // no offload: the packet as is
  Bytes ping = icmp_packet();
  icmp.insert(icmp.end(), ping.begin(), ping.end());
  write(t, "plain_icmp_v4", icmp);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR (e.g. fuzz/corpus)\n", argv[0]);
    return 2;
  }
  g_dir = argv[1];
  wireguard_seeds();
  dns_seeds();
  inner_udp_seeds();
  tun_frame_seeds();
  return 0;
}
