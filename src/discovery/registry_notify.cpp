// RegistryService: whom a NOTIFY goes to besides the peer someone asked
// about (registry_service.cpp), and the relay offer. The registry remembers
// who asked about whom in the tunnel for kInterest (lookups_); when a peer's
// endpoint moves, that peer and those who asked about it are told at once,
// so the two sides of a tunnel punch the new mapping together within a
// second or so, whatever their Interval (docs/discovery.md, "When a NAT
// remaps"). A new port mapping is news the same way (notify_new_mapping).
#include "crypto/keys.h"
#include "discovery/registry_service.h"
#include "discovery/tunnel_route.h"
#include "dnssd/notify.h"
#include "dnssd/peer_txt.h"
#include "dnssd/relay_offer.h"
#include "util/log.h"

namespace wgp {

void RegistryService::send_notify(Peer& target, const PublicKey& about, Now now) {
  auto route = tunnel_route(device_, target, tunnel_addresses_);
  if (!route) return;
  notify_.clear();
  if (!dnssd::build_notify(next_notify_id_++, about, config_.zone, notify_)) return;
  size_t n =
      dnssd::build_udp_packet(route->ours, kDnsPort, route->theirs, kDnsPort, notify_, packet_);
  if (!n) return;
  ++notifies_sent_;
  device_.send_to_peer(target, ByteView(packet_.data(), n), now);
}

void RegistryService::on_endpoint_moved(Peer& peer, Now now) {
  const PublicKey key = peer.public_key();
  if (!discovering_.contains(key)) return;  // a stock peer: nobody to tell
  if (last_move_.find(key, now.mono)) return;
  last_move_.insert(key, true, now.mono);
  // The peer itself: "your record changed" (it opens its NAT towards the
  // peers it talks to and asks about them, which tells them too).
  send_notify(peer, key, now);
  size_t told = 0;
  for (const PublicKey& asker : lookups_.askers_of(key, now.mono, kInterest)) {
    if (!discovering_.contains(asker)) continue;
    if (Peer* p = device_.find_peer(asker)) {
      send_notify(*p, key, now);
      ++told;
    }
  }
  move_notifies_ += 1 + told;
  Log::info("registry: peer ", key_to_base64(key), " moved to ",
            peer.endpoint ? peer.endpoint->to_string() : "?", "; told it and ", told,
            told == 1 ? " peer that asked about it" : " peers that asked about it");
}

bool RegistryService::answer_relay_offer(Peer& asker, const dnssd::UdpPacketView& udp, Now now) {
  const PublicKey& self = device_.identity().public_key;
  auto id = dnssd::relay_offer_question(udp.payload, self, config_.zone);
  if (!id) return false;
  notify_.clear();
  // Published ourselves (Self = yes): wgsd's TXT is at this very name; the
  // answer is that record with the relay key added (relay_offer.h).
  std::vector<uint8_t> published;
  if (config_.self) {
    dnssd::PublishedPeer me = self_peer();
    published = dnssd::build_peer_txt({me.key, me.allowed, me.name});
  }
  if (!dnssd::build_relay_offer(*id, self, config_.zone, config_.relay, published, notify_))
    return true;
  size_t n = dnssd::build_udp_packet(udp.destination, kDnsPort, udp.source, udp.source_port,
                                     notify_, packet_);
  if (n) {
    ++tunnel_answered_;
    device_.send_to_peer(asker, ByteView(packet_.data(), n), now);
  }
  return true;
}

}  // namespace wgp
