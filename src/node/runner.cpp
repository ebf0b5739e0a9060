#include "node/runner.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

// clang-format off
#include <utility>  // before Asio: Boost 1.74 awaitable.hpp needs std::exchange
#include <boost/asio.hpp>
// clang-format on
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <variant>

#include "control/uapi_server.h"
#include "metrics/device_metrics.h"
#include "metrics/metrics_server.h"
#include "node/interface_setup.h"
#include "node/keeper.h"
#include "node/node.h"
#include "node/privileges.h"
#include "service/reloader.h"
#include "service/sd_notify.h"
#include "util/log.h"
#include "util/version.h"

namespace wgp {

namespace {

// True when a live process answers on `path`, the interface's control socket.
bool already_running(const std::filesystem::path& path) {
  UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  return fd && connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
}

// Which offloads WGPUNCH_OFFLOAD allows: unset or "on" all, "off" none,
// "tun" or "udp" only that side. For benchmarks and to test the plain paths.
struct OffloadChoice {
  bool tun = true;
  bool udp = true;
};
OffloadChoice offload_choice_from_environment() {
  const char* value = std::getenv("WGPUNCH_OFFLOAD");
  std::string v = value ? value : "on";
  if (v == "on" || v == "1" || v.empty()) return {true, true};
  if (v == "off" || v == "0" || v == "none") return {false, false};
  if (v == "tun") return {true, false};
  if (v == "udp") return {false, true};
  throw std::runtime_error("WGPUNCH_OFFLOAD=" + v + ": expected on, off, tun or udp");
}

void apply_config(Node& node, const Config& config) {
  node.set_private_key(config.private_key);
  if (config.fwmark) {
    if (auto ec = node.set_fwmark(*config.fwmark))
      throw std::system_error(ec, config.path + ": FwMark");
  }
  for (const PeerConfig& p : config.peers) {
    node.add_peer(p.public_key);
    if (p.preshared_key) node.set_peer_preshared_key(p.public_key, *p.preshared_key);
    if (p.endpoint) {
      Peer* peer = node.device().find_peer(p.public_key);
      node.device().set_endpoint(*peer, *p.endpoint, EndpointSource::kConfig);
    }
    for (const IpPrefix& prefix : p.allowed_ips) node.add_peer_allowed_ip(p.public_key, prefix);
  }
  // Keepalives last: turning one on sends a packet, which needs the rest.
  for (const PeerConfig& p : config.peers)
    if (p.persistent_keepalive)
      node.set_peer_persistent_keepalive(p.public_key, p.persistent_keepalive);
}

// Serves `[Interface] MetricsListen` (nullptr when off). Binds now, before
// privileges are dropped.
std::unique_ptr<metrics::MetricsServer> start_metrics(boost::asio::io_context& io, Node& node,
                                                      const Config& config) {
  if (!config.metrics_listen) return nullptr;
  try {
    auto server = std::make_unique<metrics::MetricsServer>(io, *config.metrics_listen, [&node] {
      return metrics::format_exposition(metrics::device_metrics(node.snapshot(), kVersion));
    });
    Log::info("metrics: http://", server->local_endpoint().to_string(), "/metrics");
    return server;
  } catch (const std::system_error& e) {
    throw std::runtime_error(config.path + ": MetricsListen: " + e.what());
  }
}

// The STATUS= line `systemctl status` shows.
std::string ready_status(Node& node) {
  return "listening on UDP port " + std::to_string(node.listen_port()) + ", " +
         std::to_string(node.device().peers().size()) + " peer(s)";
}

// Forks; the parent waits until the child reports readiness over a pipe and
// exits with 0, or prints the child's error and exits 1.
void daemonize_when_ready(int& ready_fd) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe");
  pid_t pid = fork();
  if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork");
  if (pid > 0) {
    close(fds[1]);
    std::string message;
    char buf[512];
    ssize_t n;
    while ((n = read(fds[0], buf, sizeof buf)) > 0) message.append(buf, size_t(n));
    if (message == "ok") _exit(0);
    std::cerr << (message.empty() ? "wgpunch: failed to start\n" : message) << std::flush;
    _exit(1);
  }
  close(fds[0]);
  setsid();
  // Like wireguard-go: a daemon keeps no terminal or pipe open (a caller
  // reading our output would otherwise wait forever), unless LOG_LEVEL asks
  // for logs.
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null >= 0) {
    dup2(null, STDIN_FILENO);
    if (!std::getenv("LOG_LEVEL")) {
      dup2(null, STDOUT_FILENO);
      dup2(null, STDERR_FILENO);
    }
  }
  ready_fd = fds[1];
}

}  // namespace

int run_interface(RunOptions options) {
  const std::string& name = options.interface_name;
  Log::set_prefix("wgpunch[" + name + "]");
  int ready_fd = -1;
  if (options.daemonize) daemonize_when_ready(ready_fd);

  auto report_ready = [&](const std::string& message) {
    if (ready_fd < 0) return;
    (void)!write(ready_fd, message.data(), message.size());
    close(ready_fd);
    ready_fd = -1;
  };

  try {
    auto socket = control::uapi_socket_path(control::socket_directory_from_environment(), name);
    if (already_running(socket))
      throw std::runtime_error(control::already_running_message(name, socket));
    std::optional<UserIds> user = options.user_ids;
    if (options.user && !user) user = lookup_user(*options.user);

    // `--user`: this process stays behind as the node's keeper (node/keeper.h)
    // and the child goes on to become the node.
    std::optional<KeeperLink> keeper;
    if (user && user->uid != 0) {
      auto split = fork_keeper(
          control::uapi_socket_path(control::socket_directory_from_environment(), name));
      if (auto* k = std::get_if<Keeper>(&split)) {
        ready_fd = -1;           // closed with every other descriptor
        options.config.reset();  // the keeper holds no key
        return k->keep();
      }
      keeper.emplace(std::get<KeeperLink>(std::move(split)));
    }
    // systemd's Type=notify (wgpunch@.service); sends nothing without it.
    service::Notifier notifier;
    if (keeper)
      notifier = keeper->notifier();
    else if (!options.daemonize)
      notifier = service::Notifier::from_environment();

    OffloadChoice offloads = offload_choice_from_environment();
    TunDevice tun = TunDevice::create(name, offloads.tun);
    size_t mtu = options.config ? options.config->mtu : kDefaultMtu;
    if (options.config) {
      try {
        for (const std::string& w : configure_interface(tun, *options.config))
          Log::info("warning: ", w);
      } catch (const std::system_error& e) {
        // An unprivileged owner of a persistent TUN cannot configure it; the
        // administrator who made it did (or will).
        if (e.code() != std::errc::operation_not_permitted) throw;
        Log::info("warning: no permission to set MTU, addresses and routes of ", name, " (",
                  e.what(), "); using the device as it is");
      }
    }
    uint16_t port =
        options.config && options.config->listen_port ? *options.config->listen_port : 0;
    UdpSocket udp = UdpSocket::open(port);

    boost::asio::io_context io(1);
    Node node(io, std::make_unique<TunDevice>(std::move(tun)),
              std::make_unique<UdpSocket>(std::move(udp)), mtu);
    if (!offloads.udp) node.disable_udp_offloads();
    if (options.config) {
      apply_config(node, *options.config);
      node.enable_dnssd(*options.config);
      node.enable_port_mapping(*options.config);
    }
    auto make_uapi = [&] {
      try {
        return std::make_unique<control::UapiServer>(io, name, node,
                                                     control::socket_directory_from_environment());
      } catch (const std::system_error& e) {
        if (e.code() != std::errc::permission_denied) throw;
        throw std::runtime_error(std::string(e.what()) +
                                 " (without root, set WGPUNCH_RUN_DIR to a directory you own)");
      }
    };
    std::unique_ptr<control::UapiServer> uapi_owner = make_uapi();
    control::UapiServer& uapi = *uapi_owner;
    if (keeper) keeper->socket_created();
    std::unique_ptr<metrics::MetricsServer> metrics_server;
    if (options.config) metrics_server = start_metrics(io, node, *options.config);

    if (user) {
      if (auto ec = uapi.chown_socket(user->uid, user->gid))
        throw std::system_error(ec, "chown " + uapi.socket_path().string());
      drop_privileges(*user);
      if (keeper) keeper->watch_keeper();  // the credential change cleared it
      Log::info("running as uid ", user->uid, " with no capabilities",
                keeper ? "; keeper pid " + std::to_string(keeper->keeper_pid()) +
                             " (uid 0, no capability) forwards signals and removes the socket"
                       : std::string());
      if (options.config && access(options.config->path.c_str(), R_OK) != 0)
        Log::info("warning: ", options.config->path, " is not readable by uid ", user->uid,
                  ", so a reload (SIGHUP) will fail; give it to that user's group: chgrp ",
                  user->gid, " FILE; chmod 640 FILE");
    }

    bool stopping = false;
    auto shutdown = [&](const std::string& why) {
      if (std::exchange(stopping, true)) return;  // a signal and the keeper's word for it
      Log::info(why, ", shutting down");
      notifier.send(service::stopping_message(why));
      node.stop();
      uapi.shutdown();
      if (metrics_server) metrics_server->stop();
      io.stop();
    };
    auto stop_reason = [](int sig) { return sig == SIGINT ? "interrupted" : "terminated"; };
    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](auto ec, int sig) {
      if (!ec) shutdown(stop_reason(sig));
    });
    // SIGHUP: re-read the config (`systemctl reload`), like `wg syncconf`.
    std::optional<service::Reloader> reloader;
    if (options.config)
      reloader.emplace(std::move(*options.config),
                       user ? std::optional<gid_t>(user->gid) : std::nullopt);
    auto reload = [&] {
      if (stopping) return;
      if (!reloader) {
        Log::info("SIGHUP: no config file to reload (configured over the control socket)");
        return;
      }
      auto mono = std::chrono::duration_cast<std::chrono::microseconds>(
          std::chrono::steady_clock::now().time_since_epoch());
      notifier.send(service::reloading_message(mono));
      reloader->reload(node);
      node.set_restart_needed(reloader->restart_needed());
      node.reschedule();
      notifier.send(service::ready_message(ready_status(node)));
    };
    boost::asio::signal_set hangup(io, SIGHUP);
    std::function<void()> wait_hangup = [&] {
      hangup.async_wait([&](auto ec, int) {
        if (ec) return;
        reload();
        wait_hangup();
      });
    };
    wait_hangup();
    // The same signals, forwarded by the keeper (which may not signal us).
    if (keeper) {
      keeper->listen(io, [&](int sig) {
        if (sig == SIGHUP)
          reload();
        else
          shutdown(sig ? stop_reason(sig) : "keeper exited");
      });
    }
    node.on_fatal(shutdown);
    uapi.on_socket_deleted([&] { shutdown("control socket removed"); });

    node.start();
    Log::info("up: listening on UDP port ", node.listen_port(), ", ", node.device().peers().size(),
              " peer(s); offloads: ", node.offload_summary(),
              "; crypto workers: ", node.crypto_workers());
    report_ready("ok");
    notifier.send(service::ready_message(ready_status(node)));
    io.run();
    return 0;
  } catch (const std::exception& e) {
    report_ready(std::string("wgpunch: ") + e.what() + "\n");
    throw;
  }
}

}  // namespace wgp
