// Device, relaying for two other peers (wg/relay.h has the why and the
// rules): which datagrams are theirs, who sent them, where they go.
#include "noise/cookie.h"
#include "wg/device.h"

namespace wgp {

using namespace noise;

namespace {

// Where the receiver index sits in a message that has one (types 2–4).
std::optional<size_t> receiver_offset(uint32_t type, size_t size) {
  if (type == uint32_t(MessageType::kResponse) && size == kResponseSize) return kResponseReceiverOffset;
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

bool Device::relay_datagram(ByteView msg, const Endpoint& from, Now now) {
  const uint32_t type = load_le32(msg.data());
  Peer* target = nullptr;
  Peer* sender = nullptr;
  if (type == uint32_t(MessageType::kInitiation) && msg.size() == kInitiationSize) {
    // For us when mac1 is keyed with our public key: the normal path.
    if (cookie_checker_.check_mac1(msg)) return false;
    sender = peer_at(from, nullptr);
    if (!sender || !in_session(*sender, now.mono)) return false;
    // Whom it is for: the permitted partner whose key makes mac1 valid.
    relay_->for_each_partner(sender->public_key(), now.mono, [&](const PublicKey& key) {
      Peer* p = target ? nullptr : find_peer_mut(key);
      if (p && mac1_matches(p->keys.mac1_key, msg)) target = p;
    });
    if (!target || !in_session(*target, now.mono)) return false;
    // Whatever names the initiator's index from now on goes back to it.
    relay_->learn(load_le32(&msg[kInitiationSenderOffset]), sender->public_key(),
                  target->public_key(), now.mono);
  } else {
    auto at = receiver_offset(type, msg.size());
    if (!at) return false;
    uint32_t receiver = load_le32(&msg[*at]);
    if (indices_.find(receiver)) return false;  // ours
    const Relay::Route* route = relay_->route(receiver, now.mono);
    if (!route) return false;
    sender = peer_at(from, nullptr);
    target = find_peer_mut(route->to);
    // Only the peer the route was made for may use it, from where it is.
    if (!sender || sender->public_key() != route->from || !target || !in_session(*target, now.mono) ||
        !relay_->permitted(sender->public_key(), target->public_key(), now.mono))
      return drop(DropReason::kRelayRefused), true;
    if (type == uint32_t(MessageType::kResponse))
      relay_->learn(load_le32(&msg[kResponseSenderOffset]), sender->public_key(),
                    target->public_key(), now.mono);
  }
  relay_->count(sender->public_key(), msg.size());
  relayed_total_ += msg.size();
  out_.send_datagram(*target->endpoint, msg);
  return true;
}

}  // namespace wgp
