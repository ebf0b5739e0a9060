// Device, relaying for two other peers (wg/relay.h has the why and the
// rules): which datagrams are theirs, who sent them, whether they may pass,
// where they go.
#include "noise/cookie.h"
#include "wg/device.h"

namespace wgp {

using namespace noise;

namespace {

// Where the receiver index sits in a message that has one (types 2–4).
std::optional<size_t> receiver_offset(uint32_t type, size_t size) {
  if (type == uint32_t(MessageType::kResponse) && size == kResponseSize)
    return kResponseReceiverOffset;
  if (type == uint32_t(MessageType::kCookieReply) && size == kCookieReplySize)
    return kCookieReplyReceiverOffset;
  if (type == uint32_t(MessageType::kTransport) && size >= kTransportMinSize)
    return kTransportReceiverOffset;
  return std::nullopt;
}

// A peer the relay may forward to or from: a confirmed endpoint and a
// session with us that has not expired.
bool in_session(const Peer& p, Instant now) {
  const Keypair* kp = p.keypairs.current();
  return p.endpoint && p.endpoint_confirmed && kp && kp->usable_for_receiving(now);
}

}  // namespace

bool Device::relay_datagram(ByteView msg, const Endpoint& from, Now now,
                            std::optional<DropReason>& dropped) {
  const uint32_t type = load_le32(msg.data());
  if (type == uint32_t(MessageType::kInitiation) && msg.size() == kInitiationSize)
    return relay_initiation(msg, from, now, dropped);
  auto at = receiver_offset(type, msg.size());
  if (!at) return false;
  const uint32_t receiver = load_le32(&msg[*at]);
  if (indices_.find(receiver)) return false;  // ours
  const Relay::Route* route = relay_->route(receiver, now.mono);
  if (!route) return false;
  // Relay traffic from here on: forwarded or dropped, never ours. Only the
  // peer the route was made for may use it, from its confirmed endpoint,
  // while both ends hold a session with us.
  Peer* sender = find_peer_mut(route->from);
  Peer* target = find_peer_mut(route->to);
  auto refuse = [&] {
    return drop(DropReason::kRelayRefused), dropped = DropReason::kRelayRefused, true;
  };
  if (!sender || !target || sender->endpoint != from || !in_session(*sender, now.mono) ||
      !in_session(*target, now.mono) || !Relay::carries(*route, type))
    return refuse();
  if (type == uint32_t(MessageType::kResponse) &&
      !relay_->answer(receiver, load_le32(&msg[kResponseSenderOffset]), now.mono))
    return refuse();
  forward(*sender, *target, msg);
  return true;
}

bool Device::relay_initiation(ByteView msg, const Endpoint& from, Now now,
                              std::optional<DropReason>& dropped) {
  // For us when mac1 is keyed with our public key: the normal path.
  if (cookie_checker_.check_mac1(msg)) return false;
  auto drop_as = [&](DropReason r) { return drop(r), dropped = r, true; };
  Peer* sender = peer_at(from, nullptr);
  if (!sender || !in_session(*sender, now.mono)) return drop_as(DropReason::kBadMac1);
  // Our own handshakes' load gate: counted like them, and under load only
  // within the source's budget, before any MAC is spent on it.
  if (note_handshake(now.mono) && !ratelimiter_.allow(from.address, now.mono))
    return drop_as(DropReason::kRateLimited);
  // Whom it is for: a recent partner whose key makes mac1 valid.
  Peer* target = nullptr;
  relay_->for_each_partner(sender->public_key(), now.mono, [&](const PublicKey& key) {
    Peer* p = find_peer_mut(key);
    ++relay_mac_checks_;
    if (p && mac1_matches(p->keys.mac1_key, msg)) target = p;
    return target != nullptr;
  });
  if (!target) return drop_as(DropReason::kBadMac1);
  if (!in_session(*target, now.mono)) return drop_as(DropReason::kRelayRefused);
  if (!relay_->allow_initiation(sender->public_key(), target->public_key(), now.mono))
    return drop_as(DropReason::kRelayRateLimited);
  // Whatever names the initiator's index from now on goes back to it, and
  // may only come from the responder; an index in use by another pair is
  // not theirs to take.
  Relay::Route back{sender->public_key(), target->public_key(), Relay::Kind::kInitiation};
  if (!relay_->bind(load_le32(&msg[kInitiationSenderOffset]), back, now.mono))
    return drop_as(DropReason::kRelayRefused);
  forward(*sender, *target, msg);
  return true;
}

void Device::forward(Peer& sender, const Peer& target, ByteView msg) {
  sender.relayed_bytes += msg.size();
  relayed_total_ += msg.size();
  out_.send_datagram(*target.endpoint, msg);
}

}  // namespace wgp
