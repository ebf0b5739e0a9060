#include "support/sim_network.h"

namespace wgp::testing {

std::vector<uint8_t> ipv4_packet(const char* src, const char* dst, size_t payload_len) {
  std::vector<uint8_t> p(28 + payload_len, 0);
  p[0] = 0x45;
  store_be16(&p[2], uint16_t(p.size()));
  p[8] = 64;
  p[9] = 17;  // UDP
  auto s = IpAddress::parse(src), d = IpAddress::parse(dst);
  std::memcpy(&p[12], s->bytes.data(), 4);
  std::memcpy(&p[16], d->bytes.data(), 4);
  store_be16(&p[20], 1234);
  store_be16(&p[22], 5678);
  store_be16(&p[24], uint16_t(8 + payload_len));
  for (size_t i = 0; i < payload_len; ++i) p[28 + i] = uint8_t(i);
  return p;
}

SimNetwork::SimNetwork(bool lend)
    : a(1, endpoint("192.0.2.1:51820"), wire),
      b(2, endpoint("192.0.2.2:51820"), wire),
      mono_(std::chrono::hours(1)),
      wall_(std::chrono::seconds(1700000000)) {
  a_peer = a.device.add_peer(b.public_key());
  b_peer = b.device.add_peer(a.public_key());
  a.device.set_endpoint(*a_peer, b.addr, EndpointSource::kConfig);
  b.device.set_endpoint(*b_peer, a.addr, EndpointSource::kConfig);
  a.device.allowed_ips().insert(prefix("10.0.0.2/32"), a_peer);
  b.device.allowed_ips().insert(prefix("10.0.0.1/32"), b_peer);
  a.lend = b.lend = lend;
}

bool SimNetwork::deliver_one() {
  if (wire.empty()) return false;
  Datagram d = std::move(wire.front());
  wire.pop_front();
  history.push_back(d);
  if (filter && !filter(d)) return true;
  if (d.hops <= Device::kOpenerHops) return true;  // no NAT here: it dies on the way
  SimHost* to = d.to == a.addr ? &a : d.to == b.addr ? &b : nullptr;
  if (to) (void)to->device.receive_datagram(d.bytes, d.from, now());
  return true;
}

size_t SimNetwork::run() {
  size_t delivered = 0;
  for (int budget = 10000; budget > 0 && deliver_one(); --budget) ++delivered;
  return delivered;
}

void SimNetwork::advance(Duration d) {
  Instant end = mono_ + d;
  for (int budget = 100000; budget > 0; --budget) {
    std::optional<Instant> next;
    for (SimHost* h : {&a, &b}) {
      auto dl = h->device.next_deadline();
      if (dl && (!next || *dl < *next)) next = dl;
    }
    if (!next || *next > end) break;
    Duration step = std::max(Duration::zero(), *next - mono_);
    mono_ += step;
    wall_ += std::chrono::duration_cast<WallTime::duration>(step);
    a.device.run_timers(now());
    b.device.run_timers(now());
    run();
  }
  wall_ += std::chrono::duration_cast<WallTime::duration>(end - mono_);
  mono_ = end;
}

}  // namespace wgp::testing
