#include "control/uapi_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "util/unique_fd.h"

namespace wgp::control {
namespace {

using Clock = std::chrono::steady_clock;

std::string system_error_text(int err) { return std::strerror(err); }

// Connects a blocking AF_UNIX stream socket to `path`; -errno on failure.
int connect_unix(const std::filesystem::path& path, UniqueFd& out) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string& p = path.native();
  if (p.size() >= sizeof(addr.sun_path)) return -ENAMETOOLONG;
  std::memcpy(addr.sun_path, p.c_str(), p.size() + 1);
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return -errno;
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) return -errno;
  out = std::move(fd);
  return 0;
}

// Waits for `events` on `fd` until `deadline`; false on timeout or error.
bool wait_for(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    pollfd pfd{fd, events, 0};
    int n = ::poll(&pfd, 1, static_cast<int>(left.count()));
    if (n > 0) return true;
    if (n < 0 && errno != EINTR) return false;
  }
}

}  // namespace

UapiExchange uapi_request(const std::filesystem::path& socket_path, std::string_view request,
                          std::chrono::milliseconds timeout) {
  UapiExchange result;
  auto fail = [&](std::string what) {
    result.error = std::move(what) + " (" + socket_path.string() + ")";
    return result;
  };
  UniqueFd fd;
  if (int err = connect_unix(socket_path, fd); err != 0) {
    return fail("cannot connect: " + system_error_text(-err));
  }
  auto deadline = Clock::now() + timeout;
  size_t sent = 0;
  while (sent < request.size()) {
    if (!wait_for(fd.get(), POLLOUT, deadline)) return fail("timed out sending request");
    ssize_t n =
        ::send(fd.get(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n < 0) return fail("send failed: " + system_error_text(errno));
    sent += static_cast<size_t>(n);
  }
  std::string reply;
  char buf[16384];
  for (;;) {
    // A reply ends with an empty line; no earlier line is empty.
    if (reply.size() >= 2 && reply.compare(reply.size() - 2, 2, "\n\n") == 0) break;
    if (reply == "\n") break;
    if (!wait_for(fd.get(), POLLIN, deadline)) return fail("timed out waiting for reply");
    ssize_t n = ::recv(fd.get(), buf, sizeof(buf), MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n < 0) return fail("receive failed: " + system_error_text(errno));
    if (n == 0) return fail("connection closed before the reply ended");
    reply.append(buf, static_cast<size_t>(n));
    if (reply.size() > kMaxUapiReply) return fail("reply too large");
  }
  result.reply = std::move(reply);
  return result;
}

std::vector<std::string> list_uapi_interfaces(const std::filesystem::path& directory) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(directory, ec)) {
    const auto& path = entry.path();
    if (path.extension() != ".sock") continue;
    UniqueFd fd;
    if (connect_unix(path, fd) == 0) names.push_back(path.stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace wgp::control
