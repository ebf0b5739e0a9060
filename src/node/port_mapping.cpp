#include "node/port_mapping.h"

#include <net/if.h>

#include "net/default_gateway.h"
#include "net/local_addresses.h"
#include "util/log.h"

namespace wgp {

namespace asio = boost::asio;
using portmap::Protocol;
using portmap::Reply;
using portmap::Request;

namespace {

// How long a deletion may hold up shutdown (or a ListenPort change).
constexpr auto kDeleteBudget = std::chrono::milliseconds(750);
constexpr auto kUpnpDeleteBudget = std::chrono::milliseconds(2000);

int64_t ms_between(Instant from, Instant to) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(to - from).count();
}

}  // namespace

PortMapping::PortMapping(asio::io_context& io, Random& rng, uint16_t listen_port,
                         std::string tun_name, OnChange on_change)
    : io_(io),
      mapper_(rng, listen_port),
      tun_name_(std::move(tun_name)),
      on_change_(std::move(on_change)),
      timer_(io) {
  auto reply_from = [this](Protocol p) { return [this, p](const Reply& r) { on_reply(p, r); }; };
  pcp_ = make_pcp_client(io, reply_from(Protocol::kPcp));
  natpmp_ = make_natpmp_client(io, reply_from(Protocol::kNatPmp));
  upnp_ = make_upnp_client(io, reply_from(Protocol::kUpnp));
}

PortMapping::~PortMapping() { stop(); }

void PortMapping::start() {
  try {
    UniqueFd fd = open_route_watch();
    watch_ = std::make_unique<asio::posix::stream_descriptor>(io_, fd.release());
  } catch (const std::system_error& e) {
    Log::info("warning: port mapping: no route change notifications (", e.what(), ")");
  }
  refresh_gateway();
  wait_network_change();
}

void PortMapping::refresh_gateway() {
  if (stopped_) return;
  int tun = int(if_nametoindex(tun_name_.c_str()));
  std::optional<portmap::Gateway> gateway;
  if (auto route = read_default_route(tun))
    if (auto local = address_towards(route->gateway, route->ifindex))
      gateway = portmap::Gateway{route->gateway, *local};
  mapper_.on_network(gateway, now());
  settle();
}

void PortMapping::wait_network_change() {
  if (!watch_ || stopped_) return;
  watch_->async_wait(asio::posix::stream_descriptor::wait_read, [this](auto ec) {
    if (ec || stopped_) return;
    drain_address_watch(watch_->native_handle());
    refresh_gateway();
    wait_network_change();
  });
}

void PortMapping::set_listen_port(uint16_t port) {
  if (stopped_) return;
  mapper_.set_internal_port(port, now());
  settle();
}

void PortMapping::on_reply(Protocol from, const Reply& reply) {
  if (stopped_) return;
  mapper_.on_reply(from, reply, now());
  settle();
}

void PortMapping::settle() {
  // A client may answer from inside request() (a socket that cannot open):
  // that nests another settle(), which drains what is left in order.
  for (const Request& r : mapper_.take_requests()) perform(r);
  if (mapper_.take_mapping_changed() && !stopped_) {
    const auto& m = mapper_.mapping();
    on_change_(m ? std::optional<Endpoint>(m->external) : std::nullopt);
  }
  log_outcome();
  arm_timer();
}

void PortMapping::perform(const Request& r) {
  switch (r.kind) {
    case Request::Kind::kMap:
      if (!r.retry) {
        asked_at_[size_t(r.protocol)] = now();
        if (r.protocol == Protocol::kPcp && !r.current) search_began_ = now();
      }
      client(r.protocol).request(r);
      break;
    case Request::Kind::kCancel:
      client(r.protocol).cancel();
      break;
    case Request::Kind::kDelete:
      client(r.protocol)
          .delete_now(r, r.protocol == Protocol::kUpnp ? kUpnpDeleteBudget : kDeleteBudget);
      Log::info("port mapping: ", portmap::protocol_title(r.protocol), " mapping ",
                r.current ? r.current->to_string() : "?", " deleted");
      break;
  }
}

void PortMapping::log_outcome() {
  if (stopped_) return;
  const auto& m = mapper_.mapping();
  std::string outcome;
  if (m)
    outcome = std::string(portmap::protocol_title(m->protocol)) + " " + m->external.to_string();
  else if (mapper_.asking() == Protocol::kNone)
    outcome = "none (" + mapper_.reason() + ")";
  if (outcome.empty() || outcome == logged_) return;
  logged_ = outcome;
  if (!m) return Log::info("port mapping: ", outcome);
  Instant t = now();
  Log::info("port mapping: ", portmap::protocol_title(m->protocol), " at gateway ",
            mapper_.gateway()->address.to_string(), " maps ", m->external.to_string(),
            " to our port for ", m->lifetime, " s (", portmap::protocol_title(m->protocol),
            " answered in ", ms_between(asked_at_[size_t(m->protocol)], t), " ms, ",
            ms_between(search_began_, t), " ms after the search began)");
}

void PortMapping::arm_timer() {
  if (stopped_) return;
  auto deadline = mapper_.next_deadline();
  if (deadline == armed_) return;
  armed_ = deadline;
  if (!deadline) {
    timer_.cancel();
    return;
  }
  timer_.expires_after(std::max(Duration::zero(), *deadline - now()));
  timer_.async_wait([this, deadline](auto ec) {
    if (ec || stopped_ || armed_ != deadline) return;
    armed_.reset();
    mapper_.run_timers(now());
    settle();
  });
}

void PortMapping::stop() {
  if (stopped_) return;
  stopped_ = true;
  boost::system::error_code ignored;
  timer_.cancel();
  if (watch_) watch_->cancel(ignored);
  mapper_.stop(now());
  for (const Request& r : mapper_.take_requests()) perform(r);
}

PortMapClient& PortMapping::client(Protocol p) {
  switch (p) {
    case Protocol::kNatPmp:
      return *natpmp_;
    case Protocol::kUpnp:
      return *upnp_;
    default:
      return *pcp_;
  }
}

void PortMapping::add_status(ExtraFields& extra) const {
  const auto& m = mapper_.mapping();
  extra.emplace_back("port_mapping",
                     std::string(portmap::protocol_name(m ? m->protocol : Protocol::kNone)));
  if (m) {
    auto left = std::chrono::duration_cast<std::chrono::seconds>(m->expires - now()).count();
    extra.emplace_back("port_mapping_external", m->external.to_string());
    extra.emplace_back("port_mapping_lease_left_seconds",
                       std::to_string(std::max<int64_t>(0, left)));
  } else {
    extra.emplace_back("port_mapping_reason", mapper_.reason());
  }
  if (mapper_.gateway())
    extra.emplace_back("port_mapping_gateway", mapper_.gateway()->address.to_string());
  extra.emplace_back("port_mapping_renewals", std::to_string(mapper_.renewals()));
}

}  // namespace wgp
