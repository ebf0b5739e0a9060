#include "node/keeper.h"

#include <linux/capability.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <string>
#include <system_error>

#include "util/log.h"

namespace wgp {

namespace {

[[noreturn]] void throw_errno(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

// What the keeper forwards, and SIGCHLD, which tells it the node is done.
sigset_t keeper_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGHUP, SIGTERM, SIGINT, SIGCHLD}) sigaddset(&set, s);
  return set;
}

void close_range_or_each(unsigned first, unsigned last) {
  if (first > last || ::close_range(first, last, 0) == 0) return;
  // Without close_range (a kernel before 5.9, or a seccomp filter without it).
  long max = sysconf(_SC_OPEN_MAX);
  unsigned end = max > 0 && max < 65536 ? unsigned(max) : 65536u;
  for (unsigned fd = first; fd <= last && fd < end; ++fd) ::close(int(fd));
}

// Stdio stays: the keeper's rare log lines go where the node's go.
void close_all_but(int keep) {
  unsigned k = unsigned(keep);
  if (k > 3) close_range_or_each(3, k - 1);
  close_range_or_each(k < 3 ? 3 : k + 1, ~0u);
}

}  // namespace

void shed_capabilities() {
  for (int cap = 0; cap <= 63; ++cap)
    if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1 && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0)
      throw_errno("keeper: emptying the bounding set");
  // EINVAL: a kernel before 4.3, which has no ambient set.
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
    throw_errno("keeper: clearing the ambient set");
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) throw_errno("keeper: no_new_privs");
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  std::array<__user_cap_data_struct, _LINUX_CAPABILITY_U32S_3> none{};
  if (syscall(SYS_capset, &header, none.data()) != 0) throw_errno("keeper: capset");
}

int exit_code_of(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return 1;
}

Keeper::Keeper(UniqueFd channel, pid_t node, std::filesystem::path socket_path,
               service::Notifier notifier)
    : channel_(std::move(channel)),
      node_(node),
      socket_path_(std::move(socket_path)),
      notifier_(std::move(notifier)) {}

int Keeper::keep() {
  sigset_t set = keeper_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  UniqueFd signals(signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!signals) throw_errno("keeper: signalfd");
  int status = 0;
  for (;;) {
    // Before every wait: SIGCHLD may have come before the signalfd existed.
    pid_t done = waitpid(node_, &status, WNOHANG);
    if (done == node_) break;
    if (done < 0 && errno != EINTR) {
      Log::info("keeper: waiting for the node (pid ", node_, "): ", std::strerror(errno));
      status = 1 << 8;  // exit code 1
      break;
    }
    std::array<pollfd, 2> fds{
        {{signals.get(), POLLIN, 0}, {channel_ ? channel_.get() : -1, POLLIN, 0}}};
    if (poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) throw_errno("keeper: poll");
    signalfd_siginfo info;
    while (read(signals.get(), &info, sizeof info) == ssize_t(sizeof info))
      if (info.ssi_signo != SIGCHLD) forward(int(info.ssi_signo));
    if (fds[1].revents) receive();
  }
  // The node's last words (STOPPING=1) may still wait in the channel.
  for (int i = 0; channel_ && i < 64; ++i) receive();
  remove_socket();
  if (WIFSIGNALED(status))
    Log::info("keeper: the node (pid ", node_, ") was killed by signal ", WTERMSIG(status));
  return exit_code_of(status);
}

void Keeper::forward(int signal) const {
  if (!channel_) return;
  char byte = char(signal);
  (void)!::send(channel_.get(), &byte, 1, MSG_NOSIGNAL | MSG_DONTWAIT);
}

void Keeper::receive() {
  std::array<char, 4096> buffer;
  ssize_t n = ::recv(channel_.get(), buffer.data(), buffer.size(), MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0) {  // the node closed its end (it exits) or the channel broke
    channel_.reset();
    return;
  }
  std::string_view message(buffer.data(), size_t(n));
  if (message == kSocketCreatedMessage) {
    struct stat st {};
    if (!socket_known_ && ::lstat(socket_path_.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) {
      socket_known_ = true;
      socket_device_ = st.st_dev;
      socket_inode_ = st.st_ino;
    }
    return;
  }
  std::string relayed = service::relayable_notify(message);
  if (!relayed.empty()) notifier_.send(relayed);
}

void Keeper::remove_socket() const {
  if (!socket_known_) return;
  struct stat st {};
  // Gone, or no longer the node's file (a new node took the name): leave it.
  if (::lstat(socket_path_.c_str(), &st) != 0 || !S_ISSOCK(st.st_mode) ||
      st.st_dev != socket_device_ || st.st_ino != socket_inode_)
    return;
  if (::unlink(socket_path_.c_str()) != 0)
    Log::info("keeper: cannot remove ", socket_path_.string(), ": ", std::strerror(errno));
}

std::variant<Keeper, KeeperLink> fork_keeper(const std::filesystem::path& socket_path) {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0)
    throw_errno("keeper: socketpair");
  UniqueFd keeper_end(fds[0]), node_end(fds[1]);
  // Inherited SIG_IGN would reap the node for us and lose its exit status.
  std::signal(SIGCHLD, SIG_DFL);
  // Blocked across the fork, so that none is lost (or ends the keeper)
  // before its signalfd exists; the node unblocks them.
  sigset_t set = keeper_signals(), old;
  pthread_sigmask(SIG_BLOCK, &set, &old);
  pid_t keeper = getpid();
  pid_t node = fork();
  if (node < 0) {
    int e = errno;
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    throw std::system_error(e, std::generic_category(), "keeper: fork");
  }
  if (node == 0) {
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    keeper_end.reset();
    unsetenv("NOTIFY_SOCKET");  // the node's messages go through the keeper
    KeeperLink link(std::move(node_end), keeper);
    link.watch_keeper();
    return link;
  }
  node_end.reset();
  close_all_but(keeper_end.get());
  service::Notifier notifier = service::Notifier::from_environment();
  shed_capabilities();
  return Keeper(std::move(keeper_end), node, socket_path, std::move(notifier));
}

}  // namespace wgp
