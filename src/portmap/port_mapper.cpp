#include "portmap/port_mapper.h"

#include <algorithm>

namespace wgp::portmap {

namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// When each try goes out, after the protocol was first asked.
constexpr milliseconds kUdpTries[] = {milliseconds(0), milliseconds(250), milliseconds(750)};
constexpr milliseconds kUdpGiveUp{1750};
constexpr milliseconds kUpnpTries[] = {milliseconds(0), milliseconds(1000)};
constexpr milliseconds kUpnpGiveUp{3000};
// Once the device answered: its description, then two SOAP calls.
constexpr milliseconds kUpnpMapping{8000};

std::span<const milliseconds> tries_of(Protocol p) {
  if (p == Protocol::kUpnp) return kUpnpTries;
  return kUdpTries;
}

// An external endpoint a peer could use: a port, and a unicast address.
bool usable(const Endpoint& e) {
  const uint8_t* b = e.address.bytes.data();
  if (e.port == 0) return false;
  if (e.address.is_v4()) return b[0] != 0 && b[0] != 127 && b[0] < 224;
  return e.address != IpAddress{IpAddress::Family::kV6, {}} && b[0] != 0xff;
}

Protocol next_of(Protocol p) {
  switch (p) {
    case Protocol::kPcp:
      return Protocol::kNatPmp;
    case Protocol::kNatPmp:
      return Protocol::kUpnp;
    default:
      return Protocol::kNone;
  }
}

}  // namespace

std::string_view protocol_name(Protocol p) {
  switch (p) {
    case Protocol::kPcp:
      return "pcp";
    case Protocol::kNatPmp:
      return "nat-pmp";
    case Protocol::kUpnp:
      return "upnp";
    case Protocol::kNone:
      break;
  }
  return "none";
}

std::string_view protocol_title(Protocol p) {
  switch (p) {
    case Protocol::kPcp:
      return "PCP";
    case Protocol::kNatPmp:
      return "NAT-PMP";
    case Protocol::kUpnp:
      return "UPnP";
    case Protocol::kNone:
      break;
  }
  return "none";
}

PortMapper::PortMapper(Random& rng, uint16_t internal_port, uint32_t lifetime)
    : rng_(rng), internal_port_(internal_port), lifetime_(lifetime) {}

void PortMapper::on_network(std::optional<Gateway> gateway, Instant now) {
  if (stopped_) return;
  if (gateway == gateway_) {
    // Same gateway: only a search that found nothing is worth repeating,
    // and not more often than kRestartGap (address changes come in bursts).
    if (failed_ && asking_ == Protocol::kNone && gateway_ &&
        (!last_start_ || now - *last_start_ >= kRestartGap))
      start_over(now);
    return;
  }
  // Another gateway, or another address of ours: the old mapping is of no
  // use and maybe unreachable, so it is dropped, not deleted.
  gateway_ = gateway;
  set_mapping(std::nullopt);
  start_over(now);
}

void PortMapper::set_internal_port(uint16_t port, Instant now) {
  if (stopped_ || port == internal_port_) return;
  if (mapping_ && gateway_) {
    Request del{Request::Kind::kDelete,
                mapping_->protocol,
                *gateway_,
                internal_port_,
                0,
                mapping_->external,
                nonce_,
                false};
    requests_.push_back(del);
  }
  internal_port_ = port;
  set_mapping(std::nullopt);
  start_over(now);
}

void PortMapper::start_over(Instant now) {
  cancel_asking();
  renew_at_.reset();
  retry_at_.reset();
  reasons_.clear();
  failed_ = false;
  if (!gateway_ || internal_port_ == 0) return;
  last_start_ = now;
  rng_.fill(nonce_);  // a new mapping, a new nonce (RFC 6887 §11.2)
  start(Protocol::kPcp, now);
}

void PortMapper::start(Protocol protocol, Instant now) {
  asking_ = protocol;
  tries_ = 0;
  asked_at_ = now;
  give_up_at_ = now + (protocol == Protocol::kUpnp ? kUpnpGiveUp : kUdpGiveUp);
  send(false);
}

void PortMapper::send(bool retry) {
  ++tries_;
  Request r{Request::Kind::kMap,
            asking_,
            *gateway_,
            internal_port_,
            lifetime_,
            mapping_ ? std::optional<Endpoint>(mapping_->external) : std::nullopt,
            nonce_,
            retry};
  requests_.push_back(r);
}

void PortMapper::cancel_asking() {
  if (asking_ == Protocol::kNone) return;
  Request r;
  r.kind = Request::Kind::kCancel;
  r.protocol = asking_;
  if (gateway_) r.gateway = *gateway_;
  requests_.push_back(r);
  asking_ = Protocol::kNone;
}

void PortMapper::on_reply(Protocol from, const Reply& reply, Instant now) {
  if (stopped_ || from != asking_ || asking_ == Protocol::kNone) return;
  switch (reply.kind) {
    case Reply::Kind::kProgress:
      give_up_at_ = std::max(give_up_at_, now + kUpnpMapping);
      return;
    case Reply::Kind::kMapped:
      if (!usable(reply.external) || reply.lifetime == 0)
        return give_up("unusable answer (" + reply.external.to_string() + ")", now);
      break;
    case Reply::Kind::kRefused:
    case Reply::Kind::kUnsupported:
      return give_up(reply.detail, now);
    case Reply::Kind::kNoServer:
      // PCP and NAT-PMP share the port: a closed one ends both.
      if (from == Protocol::kPcp && !mapping_) {
        cancel_asking();
        reasons_.emplace_back(Protocol::kPcp, reply.detail);
        reasons_.emplace_back(Protocol::kNatPmp, reply.detail);
        return start(Protocol::kUpnp, now);
      }
      return give_up(reply.detail, now);
  }
  const bool renewal = mapping_ && mapping_->protocol == from;
  Mapping m{from, reply.external, reply.lifetime, now + seconds(reply.lifetime)};
  cancel_asking();
  if (renewal) ++renewals_;
  set_mapping(m);
  reasons_.clear();
  failed_ = false;
  // Half the lifetime (RFC 6886 §3.3, RFC 6887 §11.2.1), at least a second.
  renew_at_ = now + std::max<Duration>(seconds(1), seconds(reply.lifetime) / 2);
}

void PortMapper::give_up(const std::string& why, Instant now) {
  const Protocol was = asking_;
  cancel_asking();
  if (mapping_ && mapping_->protocol == was) {
    // A renewal that failed: try again while the mapping lasts.
    Duration left = mapping_->expires - now;
    if (left / 2 >= kMinRenewalRetry)
      renew_at_ = now + left / 2;
    else
      renew_at_.reset();  // it ends at its expiry (run_timers)
    return;
  }
  reasons_.emplace_back(was, why);
  if (Protocol next = next_of(was); next != Protocol::kNone) return start(next, now);
  failed_ = true;
  retry_at_ = now + kRetryAfterFailure;
}

void PortMapper::set_mapping(std::optional<Mapping> m) {
  auto endpoint = [](const std::optional<Mapping>& x) {
    return x ? std::optional<Endpoint>(x->external) : std::nullopt;
  };
  if (endpoint(m) != endpoint(mapping_)) mapping_changed_ = true;
  mapping_ = std::move(m);
}

void PortMapper::run_timers(Instant now) {
  if (stopped_) return;
  if (mapping_ && now >= mapping_->expires) {
    set_mapping(std::nullopt);
    start_over(now);
    return;
  }
  if (asking_ != Protocol::kNone) {
    if (now >= give_up_at_) return give_up("no answer", now);
    auto tries = tries_of(asking_);
    if (tries_ < tries.size() && now >= asked_at_ + tries[tries_]) send(true);
    return;
  }
  if (renew_at_ && now >= *renew_at_) {
    renew_at_.reset();
    start(mapping_->protocol, now);
    return;
  }
  if (retry_at_ && now >= *retry_at_) start_over(now);
}

std::optional<Instant> PortMapper::next_deadline() const {
  if (stopped_) return std::nullopt;
  std::optional<Instant> next;
  auto consider = [&](Instant t) {
    if (!next || t < *next) next = t;
  };
  if (mapping_) consider(mapping_->expires);
  if (asking_ != Protocol::kNone) {
    consider(give_up_at_);
    auto tries = tries_of(asking_);
    if (tries_ < tries.size()) consider(asked_at_ + tries[tries_]);
  } else {
    if (renew_at_) consider(*renew_at_);
    if (retry_at_) consider(*retry_at_);
  }
  return next;
}

void PortMapper::stop(Instant) {
  if (stopped_) return;
  cancel_asking();
  if (mapping_ && gateway_)
    requests_.push_back({Request::Kind::kDelete, mapping_->protocol, *gateway_, internal_port_, 0,
                         mapping_->external, nonce_, false});
  set_mapping(std::nullopt);
  stopped_ = true;
}

std::string PortMapper::reason() const {
  if (mapping_) return "";
  if (stopped_) return "stopped";
  if (!gateway_) return "no default gateway";
  if (asking_ != Protocol::kNone && reasons_.empty()) return "asking";
  std::string out;
  for (const auto& [protocol, why] : reasons_)
    out += (out.empty() ? "" : "; ") + std::string(protocol_title(protocol)) + ": " + why;
  if (asking_ != Protocol::kNone) out += "; asking " + std::string(protocol_title(asking_));
  return out;
}

}  // namespace wgp::portmap
