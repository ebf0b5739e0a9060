#include "control/ping.h"

#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <thread>

#include "control/network_namespace.h"
#include "control/status.h"
#include "control/uapi_client.h"
#include "crypto/keys.h"
#include "util/unique_fd.h"

namespace wgp::control {

namespace {

using Clock = std::chrono::steady_clock;

double parse_number(std::string_view flag, std::string_view text, double lo, double hi) {
  double v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < lo || v > hi)
    throw std::invalid_argument("ping: " + std::string(flag) + " wants a number from " +
                                std::to_string(int(lo)) + " to " + std::to_string(int(hi)));
  return v;
}

// A kernel ping socket (ICMP echo without privilege where ping_group_range
// allows it), else a raw one (root).
UniqueFd open_echo_socket(bool v6, std::string& error) {
  int family = v6 ? AF_INET6 : AF_INET;
  int proto = v6 ? int{IPPROTO_ICMPV6} : int{IPPROTO_ICMP};
  UniqueFd fd(::socket(family, SOCK_DGRAM | SOCK_CLOEXEC, proto));
  if (!fd) fd = UniqueFd(::socket(family, SOCK_RAW | SOCK_CLOEXEC, proto));
  if (!fd) error = std::string("cannot open an ICMP socket: ") + std::strerror(errno);
  return fd;
}

// Sends echo `seq` to `to`; waits for its reply until `deadline`. True when it came.
bool echo(int fd, const IpAddress& to, uint16_t seq, Clock::time_point deadline) {
  uint8_t packet[64] = {};
  packet[0] = to.is_v4() ? ICMP_ECHO : ICMP6_ECHO_REQUEST;
  // Identifier: the kernel sets it for ping sockets; ours for raw ones.
  store_be16(packet + 4, uint16_t(::getpid()));
  store_be16(packet + 6, seq);
  if (to.is_v4()) {  // raw sockets need the checksum (ping sockets fill it in)
    uint32_t sum = 0;
    for (size_t i = 0; i < sizeof packet; i += 2) sum += uint32_t(packet[i] << 8 | packet[i + 1]);
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    store_be16(packet + 2, uint16_t(~sum));
  }
  sockaddr_storage ss{};
  socklen_t len = Endpoint{to, 0}.to_sockaddr(ss);
  if (::sendto(fd, packet, sizeof packet, 0, reinterpret_cast<sockaddr*>(&ss), len) < 0)
    return false;
  for (;;) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, int(left)) <= 0) continue;
    uint8_t reply[2048];
    ssize_t n = ::recv(fd, reply, sizeof reply, 0);
    if (n <= 0) continue;
    const uint8_t* icmp = reply;
    // A raw IPv4 socket hands over the IP header too.
    if (to.is_v4() && n >= 20 && (reply[0] >> 4) == 4) {
      size_t ihl = size_t(reply[0] & 0x0f) * 4;
      if (size_t(n) < ihl + 8) continue;
      icmp += ihl;
      n -= ssize_t(ihl);
    }
    if (n < 8) continue;
    uint8_t want = to.is_v4() ? ICMP_ECHOREPLY : ICMP6_ECHO_REPLY;
    if (icmp[0] == want && load_be16(icmp + 6) == seq) return true;
  }
}

}  // namespace

PingOptions parse_ping_args(std::span<const std::string_view> args) {
  PingOptions o;
  for (size_t i = 0; i < args.size(); ++i) {
    // As ping(8): "-c 3" or "-c3".
    std::string_view flag = args[i].substr(0, 2);
    auto value = [&]() {
      if (args[i].size() > 2) return args[i].substr(2);
      if (i + 1 >= args.size())
        throw std::invalid_argument("ping: " + std::string(flag) + " needs a value");
      return args[++i];
    };
    const bool option = args[i].size() >= 2 && args[i][0] == '-' && args[i][1] != '-';
    if (option && flag == "-c") {
      o.count = int(parse_number("-c", value(), 1, 100000));
    } else if (option && flag == "-i") {
      o.interval = std::chrono::milliseconds(int64_t(1000 * parse_number("-i", value(), 0.01, 60)));
    } else if (option && flag == "-W") {
      o.timeout = std::chrono::milliseconds(int64_t(1000 * parse_number("-W", value(), 0.01, 60)));
    } else if (option && flag == "-I") {
      o.interface_name = std::string(value());
    } else if (args[i].starts_with("-")) {
      throw std::invalid_argument("ping: unknown option " + std::string(args[i]));
    } else if (!o.peer.empty()) {
      throw std::invalid_argument("ping: more than one peer given");
    } else {
      o.peer = std::string(args[i]);
    }
  }
  if (o.peer.empty())
    throw std::invalid_argument("ping: PEER (a public key or a tunnel address) is missing");
  return o;
}

std::optional<PingTarget> find_ping_target(const DeviceSnapshot& device, std::string_view text) {
  auto host_prefix = [](const IpPrefix& p) { return p.length == (p.address.is_v4() ? 32 : 128); };
  if (auto key = public_key_from_base64(text)) {
    for (const PeerSnapshot& peer : device.peers) {
      if (peer.public_key != *key) continue;
      for (const IpPrefix& p : peer.allowed_ips)
        if (host_prefix(p)) return PingTarget{*key, p.address};
      return std::nullopt;  // no address of its own to ping
    }
    return std::nullopt;
  }
  auto address = IpAddress::parse(text);
  if (!address) return std::nullopt;
  for (const PeerSnapshot& peer : device.peers)
    for (const IpPrefix& p : peer.allowed_ips)
      if (p.contains(*address)) return PingTarget{peer.public_key, *address};
  return std::nullopt;
}

std::string path_in(const DeviceSnapshot& device, const PublicKey& key) {
  for (const PeerSnapshot& peer : device.peers) {
    if (peer.public_key != key) continue;
    std::string path = "none", silence;
    for (const auto& [k, v] : peer.extra) {
      if (k == "path") path = v;
      if (k == kPathNoReplyField) silence = " (no reply for " + v + " s)";
    }
    return path + silence;
  }
  return "none";
}

int run_ping(const PingOptions& options, std::ostream& out, std::ostream& err) {
  const std::string here = current_network_namespace();
  std::optional<PingTarget> target;
  std::string interface;
  if (options.interface_name) {
    // The one named: say exactly what is wrong with it.
    std::string error;
    auto device = fetch_status(options.socket_directory, *options.interface_name, error);
    if (!device) {
      err << "wgpunch ping: " << error << '\n';
      return 2;
    }
    if (!in_network_namespace(*device, here)) {
      err << "wgpunch ping: interface " << *options.interface_name
          << " runs in another network namespace; run wgpunch ping there (ip netns exec)\n";
      return 2;
    }
    if (!(target = find_ping_target(*device, options.peer))) {
      err << "wgpunch ping: interface " << *options.interface_name << " has no peer '"
          << options.peer << "' (a public key, or an address in a peer's allowed IPs)\n";
      return 2;
    }
    interface = *options.interface_name;
  } else {
    // Sockets of every namespace share one directory: only ours count. One
    // that says nothing of its namespace (an older node) only when none says
    // it is ours: it may well run elsewhere.
    std::string elsewhere, unknown_interface;
    std::optional<PingTarget> unknown;
    for (const std::string& name : list_uapi_interfaces(options.socket_directory)) {
      std::string error;
      auto device = fetch_status(options.socket_directory, name, error);
      if (!device) continue;
      auto found = find_ping_target(*device, options.peer);
      if (!found) continue;
      NamespaceMatch match = network_namespace_match(*device, here);
      if (match == NamespaceMatch::kOther) {
        elsewhere = name;
      } else if (match == NamespaceMatch::kUnknown) {
        if (!unknown) {
          unknown = found;
          unknown_interface = name;
        }
      } else {
        target = found;
        interface = name;
        break;
      }
    }
    if (!target && unknown) {
      target = unknown;
      interface = unknown_interface;
    }
    if (!target) {
      err << "wgpunch ping: no interface running in this network namespace has a peer '"
          << options.peer << "'";
      if (!elsewhere.empty())
        err << " (interface " << elsewhere << " in another network namespace has one)";
      err << '\n';
      return 2;
    }
  }
  std::string error;
  UniqueFd fd = open_echo_socket(!target->address.is_v4(), error);
  if (!fd) {
    err << "wgpunch ping: " << error
        << " (run as root, or allow ICMP sockets: sysctl net.ipv4.ping_group_range)\n";
    return 1;
  }
  std::string key = key_to_base64(target->key);
  std::string last_path;
  int replies = 0;
  for (int seq = 1; seq <= options.count; ++seq) {
    auto start = Clock::now();
    bool ok = echo(fd.get(), target->address, uint16_t(seq), start + options.timeout);
    auto rtt = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    auto device = fetch_status(options.socket_directory, interface, error);
    std::string path = device ? path_in(*device, target->key) : "unknown";
    if (ok) {
      ++replies;
      char ms[32];
      std::snprintf(ms, sizeof ms, "%.3f", rtt);
      out << "reply from " << target->address.to_string() << " (" << key << "): seq=" << seq
          << " time=" << ms << " ms path=" << path << '\n';
    } else {
      out << "no reply from " << target->address.to_string() << ": seq=" << seq << " path=" << path
          << '\n';
    }
    if (!last_path.empty() && path != last_path)
      out << "path changed: " << last_path << " -> " << path << '\n';
    last_path = path;
    out.flush();
    if (seq < options.count) std::this_thread::sleep_until(start + options.interval);
  }
  return replies > 0 ? 0 : 1;
}

}  // namespace wgp::control
