// UPnP IGD: the unicast M-SEARCH on the event loop (portmap/ssdp.h), then,
// for a device on our link, libminiupnpc's blocking calls on a short-lived
// thread: the description (UPNP_GetIGDFromUrl fetches only the LOCATION we
// checked), GetExternalIPAddress and AddPortMapping on a control URL that
// must be on our link too. Each of libminiupnpc's socket operations gives up
// after 3 s; PortMapper gives the whole exchange 8 s, and the thread's
// result is dropped if it comes later or after we moved on. A renewal goes
// straight to AddPortMapping on the control URL already known.
#include <miniupnpc/miniupnpc.h>
#include <miniupnpc/upnpcommands.h>
#include <miniupnpc/upnperrors.h>

#include <boost/asio/ip/udp.hpp>
#include <boost/asio/post.hpp>
#include <future>
#include <mutex>
#include <optional>
#include <thread>

#include "node/port_map_clients.h"
#include "portmap/ssdp.h"

namespace wgp {

namespace asio = boost::asio;
using portmap::Reply;
using portmap::Request;

namespace {

// UPnP errors of AddPortMapping we handle (UPnP IGD WANIPConnection:2).
constexpr int kConflictInMappingEntry = 718;
constexpr int kOnlyPermanentLeasesSupported = 725;

struct Job {
  std::string location;  // empty: renew on the control URL below
  std::string control_url;
  std::string service_type;
  InterfaceAddress link;
  uint16_t internal_port = 0;
  uint16_t external_port = 0;  // suggested
  uint32_t lifetime = 0;
};

struct Outcome {
  std::string detail;  // empty on success
  std::string control_url;
  std::string service_type;
  Endpoint external;
  uint32_t lifetime = 0;
};

std::string upnp_error(const char* call, int code) {
  const char* text = strupnperror(code);
  return std::string(call) + " failed: " + (text ? text : "error " + std::to_string(code));
}

// Blocking; on the job's own thread.
Outcome run(Job job) {
  Outcome out;
  if (!job.location.empty()) {
    UPNPUrls urls{};
    IGDdatas data{};
    char lan[64] = {};
    if (UPNP_GetIGDFromUrl(job.location.c_str(), &urls, &data, lan, sizeof lan) != 1) {
      out.detail = "no usable IGD description at " + job.location;
      return out;
    }
    std::string control = urls.controlURL ? urls.controlURL : "";
    FreeUPNPUrls(&urls);
    if (!portmap::url_on_link(control, job.link)) {
      out.detail = "the device's control URL is not on our link";
      return out;
    }
    job.control_url = control;
    job.service_type = data.first.servicetype;
  }
  out.control_url = job.control_url;
  out.service_type = job.service_type;
  const char* url = job.control_url.c_str();
  const char* service = job.service_type.c_str();
  char external_ip[40] = {};
  if (int rc = UPNP_GetExternalIPAddress(url, service, external_ip); rc != 0) {
    out.detail = upnp_error("GetExternalIPAddress", rc);
    return out;
  }
  auto address = IpAddress::parse(external_ip);
  if (!address) {
    out.detail = "the device has no external address";
    return out;
  }
  std::string in_port = std::to_string(job.internal_port);
  std::string ext_port = std::to_string(job.external_port);
  std::string client = job.link.address.to_string();
  std::string lease = std::to_string(job.lifetime);
  int rc = UPNP_AddPortMapping(url, service, ext_port.c_str(), in_port.c_str(), client.c_str(),
                               "wgpunch", "UDP", nullptr, lease.c_str());
  if (rc == kOnlyPermanentLeasesSupported)  // renewed all the same, and deleted on stop
    rc = UPNP_AddPortMapping(url, service, ext_port.c_str(), in_port.c_str(), client.c_str(),
                             "wgpunch", "UDP", nullptr, "0");
  if (rc == kConflictInMappingEntry) {  // that port is taken: let the device choose (IGD:2)
    char reserved[8] = {};
    rc = UPNP_AddAnyPortMapping(url, service, ext_port.c_str(), in_port.c_str(), client.c_str(),
                                "wgpunch", "UDP", nullptr, lease.c_str(), reserved);
    if (rc == 0) ext_port = reserved;
  }
  if (rc != 0) {
    out.detail = upnp_error("AddPortMapping", rc);
    return out;
  }
  out.external = Endpoint{*address, uint16_t(std::atoi(ext_port.c_str()))};
  out.lifetime = job.lifetime;
  return out;
}

class UpnpClient final : public ReportingClient {
 public:
  UpnpClient(asio::io_context& io, OnReply on_reply)
      : ReportingClient(std::move(on_reply)), io_(io), channel_(std::make_shared<Channel>()) {
    channel_->io = &io_;
    channel_->self = this;
  }
  ~UpnpClient() override {
    cancel();
    std::lock_guard lock(channel_->mutex);
    channel_->io = nullptr;  // a job still running posts nothing now
    channel_->self = nullptr;
  }

  void request(const Request& r) override {
    if (r.retry) {
      if (socket_) send_search();
      return;
    }
    cancel();
    request_ = r;
    if (r.current && control_url_) {  // a renewal: the device is known
      start_job({});
      return;
    }
    socket_.emplace(io_);
    if (auto ec = open_to_gateway(*socket_, r.gateway, portmap::kSsdpPort))
      return fail("socket: " + ec.message());
    search_ = portmap::build_msearch(r.gateway.address);
    send_search();
    receive();
  }

  void cancel() override {
    ++generation_;
    close_socket();
  }

  void delete_now(const Request& r, Duration budget) override {
    if (!control_url_) return;
    std::packaged_task<void()> task(
        [url = *control_url_, service = service_type_, port = std::to_string(r.current->port)] {
          (void)UPNP_DeletePortMapping(url.c_str(), service.c_str(), port.c_str(), "UDP", nullptr);
        });
    std::future<void> done = task.get_future();
    std::thread(std::move(task)).detach();
    (void)done.wait_for(budget);  // past it, the thread ends on its own
  }

 private:
  // What a job's thread needs to find us again, if we still exist.
  struct Channel {
    std::mutex mutex;
    asio::io_context* io = nullptr;
    UpnpClient* self = nullptr;
  };

  void send_search() {
    boost::system::error_code ec;
    socket_->send(asio::buffer(search_), 0, ec);
    if (ec == asio::error::connection_refused) no_server(portmap::kSsdpPort);
  }

  void receive() {
    socket_->async_receive(asio::buffer(in_), [this, g = generation_](auto ec, size_t n) {
      if (g != generation_) return;
      if (ec == asio::error::connection_refused) return no_server(portmap::kSsdpPort);
      if (ec) return;
      auto location = portmap::read_ssdp_location(ByteView(in_, n));
      if (!location) return receive();
      if (!portmap::url_on_link(*location, request_.gateway.local))
        return fail("the device is not on our link");
      close_socket();
      on_reply_({Reply::Kind::kProgress, {}, 0, ""});
      if (g == generation_) start_job(*location);
    });
  }

  void start_job(const std::string& location) {
    Job job{location,
            control_url_.value_or(""),
            service_type_,
            request_.gateway.local,
            request_.internal_port,
            request_.current ? request_.current->port : request_.internal_port,
            request_.lifetime};
    std::thread([job = std::move(job), channel = channel_, g = generation_] {
      Outcome outcome = run(job);
      std::lock_guard lock(channel->mutex);
      if (!channel->io) return;
      asio::post(*channel->io, [channel, g, outcome = std::move(outcome)] {
        if (UpnpClient* self = channel->self) self->finished(g, outcome);
      });
    }).detach();
  }

  void finished(uint64_t g, const Outcome& outcome) {
    if (g != generation_) return;
    if (!outcome.detail.empty()) return fail(outcome.detail);
    control_url_ = outcome.control_url;
    service_type_ = outcome.service_type;
    report({Reply::Kind::kMapped, outcome.external, outcome.lifetime, ""});
  }

  void close_socket() {
    if (!socket_) return;
    boost::system::error_code ignored;
    socket_->close(ignored);
    socket_.reset();
  }
  asio::io_context& io_;
  std::shared_ptr<Channel> channel_;
  std::optional<asio::ip::udp::socket> socket_;
  uint64_t generation_ = 0;
  Request request_;
  std::string search_;
  std::optional<std::string> control_url_;  // of the device that mapped, for renewals and deletion
  std::string service_type_;
  uint8_t in_[2048];
};

}  // namespace

#if defined(__SANITIZE_ADDRESS__)
// ASan builds only (scripts/sanitize): libminiupnpc 2.2.4's getHTTPResponse reads the numbers
// of the HTTP headers (status, Content-Length) with strtol inside a received buffer that has no
// terminating NUL. strtol stops at the first non-digit, within the headers already found, so
// nothing past the buffer is read; but strict_string_checks measures the whole "string", reports
// a heap-buffer-overflow and aborts the node: no UPnP mapping was ever made under ASan. Later
// miniupnpc parses those digits up to an end pointer. Built into the binary, this holds however
// the node is started; it silences ASan's checks of the libc calls made from that one library
// function only, never of our code.
extern "C" const char* __asan_default_suppressions() {
  return "interceptor_via_fun:getHTTPResponse\n";
}
#endif

std::unique_ptr<PortMapClient> make_upnp_client(asio::io_context& io,
                                                PortMapClient::OnReply on_reply) {
  return std::make_unique<UpnpClient>(io, std::move(on_reply));
}

}  // namespace wgp
