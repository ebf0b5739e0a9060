// sd_notify(3) as a datagram: message text and the NOTIFY_SOCKET address.
#include "service/sd_notify.h"

#include <sys/socket.h>

#include <cstdlib>
#include <cstring>

namespace wgp::service {
namespace {

std::string one_line(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if (c == '\n' || c == '\r') c = ' ';
  return out;
}

}  // namespace

std::string ready_message(std::string_view status) {
  return "READY=1\nSTATUS=" + one_line(status) + "\n";
}

std::string reloading_message(std::chrono::microseconds monotonic_now) {
  return "RELOADING=1\nMONOTONIC_USEC=" + std::to_string(monotonic_now.count()) +
         "\nSTATUS=reloading\n";
}

std::string stopping_message(std::string_view status) {
  return "STOPPING=1\nSTATUS=" + one_line(status) + "\n";
}

std::optional<NotifyAddress> parse_notify_socket(std::string_view value) {
  if (value.size() < 2 || (value[0] != '/' && value[0] != '@')) return std::nullopt;
  NotifyAddress out;
  out.address.sun_family = AF_UNIX;
  // A path needs its terminating NUL inside sun_path; an abstract name
  // starts with a NUL instead and is exactly as long as given.
  if (value.size() >= sizeof out.address.sun_path) return std::nullopt;
  std::memcpy(out.address.sun_path, value.data(), value.size());
  if (value[0] == '@') out.address.sun_path[0] = '\0';
  out.length = socklen_t(offsetof(sockaddr_un, sun_path) + value.size() + (value[0] == '/'));
  return out;
}

std::string relayable_notify(std::string_view message) {
  static constexpr std::string_view kRelayed[] = {
      "READY=", "RELOADING=", "STOPPING=", "STATUS=", "MONOTONIC_USEC="};
  std::string out;
  while (!message.empty()) {
    size_t end = message.find('\n');
    std::string_view line = message.substr(0, end);
    message.remove_prefix(end == std::string_view::npos ? message.size() : end + 1);
    for (std::string_view key : kRelayed) {
      if (line.starts_with(key)) {
        out.append(line).push_back('\n');
        break;
      }
    }
  }
  return out;
}

Notifier Notifier::from_environment() {
  Notifier n;
  const char* value = std::getenv("NOTIFY_SOCKET");
  if (!value) return n;
  auto to = parse_notify_socket(value);
  if (!to) return n;
  UniqueFd fd(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  // Connected now: the path is looked up (and its permissions checked) with
  // the privileges we start with, so READY=1 still goes out after `--user`
  // dropped them, whatever the socket's directory allows.
  if (fd && connect(fd.get(), reinterpret_cast<const sockaddr*>(&to->address), to->length) == 0)
    n.fd_ = std::move(fd);
  return n;
}

Notifier Notifier::from_connected(UniqueFd fd) {
  Notifier n;
  n.fd_ = std::move(fd);
  return n;
}

bool Notifier::send(std::string_view message) const {
  if (!fd_) return false;
  ssize_t n = ::send(fd_.get(), message.data(), message.size(), MSG_NOSIGNAL);
  return n == ssize_t(message.size());
}

}  // namespace wgp::service
