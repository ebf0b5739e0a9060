// The keeper of `up --user` (node/keeper.h) with real processes: a forked
// child plays the node over a real socketpair, the test process keeps it.
// Forwarded signals, the relayed sd_notify fields, the exit status and the
// removal of the control socket (only the file the node created) are checked
// here; the drop to `--user` itself in test_privilege.sh, test_package.sh
// and under a real systemd in test_systemd.sh.
#include "node/keeper.h"

#include <gtest/gtest.h>
#include <linux/capability.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "support/requirements.h"

namespace wgp {
namespace {

namespace fs = std::filesystem;

// A listening Unix socket bound at `path` (what UapiServer leaves on disk).
UniqueFd bind_socket(const fs::path& path) {
  UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  if (bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return UniqueFd();
  return fd;
}

void send_text(int fd, const std::string& text) {
  (void)!send(fd, text.data(), text.size(), MSG_NOSIGNAL);
}

// One byte from `fd` within 5 s, or -1.
int receive_byte(int fd) {
  pollfd p{fd, POLLIN, 0};
  unsigned char byte = 0;
  if (poll(&p, 1, 5000) != 1 || recv(fd, &byte, 1, 0) != 1) return -1;
  return byte;
}

// A temp directory with a NOTIFY_SOCKET listener in it, and a keeper's
// channel whose other end a forked "node" runs `node` on.
class KeeperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("keeper-test-" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directory(dir_);
    sock_ = dir_ / "wgk0.sock";
    notify_ = bind_datagram(dir_ / "notify");
    sigset_t none;
    sigemptyset(&none);
    pthread_sigmask(SIG_BLOCK, &none, &saved_mask_);
  }
  void TearDown() override {
    // Whatever keep() left pending (a SIGCHLD) is taken before unblocking.
    sigset_t set;
    sigemptyset(&set);
    for (int s : {SIGHUP, SIGTERM, SIGINT, SIGCHLD}) sigaddset(&set, s);
    timespec zero{};
    while (sigtimedwait(&set, nullptr, &zero) > 0) {
    }
    pthread_sigmask(SIG_SETMASK, &saved_mask_, nullptr);
    fs::remove_all(dir_);
  }

  static UniqueFd bind_datagram(const fs::path& path) {
    UniqueFd fd(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    EXPECT_EQ(bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    return fd;
  }

  // Forks a child that runs `node(channel)` and _exits with what it returns;
  // the test process keeps it and returns keep()'s exit code.
  int keep(const std::function<int(int)>& node) {
    int fds[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds), 0);
    pid_t pid = fork();
    if (pid == 0) {
      close(fds[0]);
      _exit(node(fds[1]));
    }
    close(fds[1]);
    setenv("NOTIFY_SOCKET", (dir_ / "notify").c_str(), 1);
    service::Notifier notifier = service::Notifier::from_environment();
    unsetenv("NOTIFY_SOCKET");
    Keeper keeper(UniqueFd(fds[0]), pid, sock_, std::move(notifier));
    return keeper.keep();
  }

  // Every datagram the keeper relayed, in order.
  std::vector<std::string> relayed() {
    std::vector<std::string> out;
    char buf[4096];
    ssize_t n;
    while ((n = recv(notify_.get(), buf, sizeof buf, MSG_DONTWAIT)) > 0)
      out.emplace_back(buf, size_t(n));
    return out;
  }

  fs::path dir_, sock_;
  UniqueFd notify_;
  sigset_t saved_mask_;
};

TEST_F(KeeperTest, ForwardsSignalsRelaysTheNodesFieldsAndRemovesItsSocket) {
  // A SIGHUP and a SIGTERM for the keeper, pending before it starts.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  raise(SIGHUP);
  raise(SIGTERM);
  int code = keep([&](int channel) {
    UniqueFd listener = bind_socket(sock_);
    if (!listener) return 90;
    send_text(channel, std::string(kSocketCreatedMessage));
    send_text(channel, "READY=1\nMAINPID=1\nSTATUS=up\n");
    int first = receive_byte(channel), second = receive_byte(channel);
    send_text(channel, "STATUS=got " + std::to_string(first) + " " + std::to_string(second) + "\n");
    send_text(channel, "STOPPING=1\nFDSTORE=1\n");
    return 7;
  });
  EXPECT_EQ(code, 7);
  EXPECT_FALSE(fs::exists(fs::symlink_status(sock_))) << "the node's socket was left behind";
  std::string got = "STATUS=got " + std::to_string(SIGHUP) + " " + std::to_string(SIGTERM) + "\n";
  EXPECT_EQ(relayed(), (std::vector<std::string>{"READY=1\nSTATUS=up\n", got, "STOPPING=1\n"}));
}

TEST_F(KeeperTest, LeavesASocketThatIsNoLongerTheNodes) {
  int code = keep([&](int channel) {
    UniqueFd first = bind_socket(sock_);
    send_text(channel, std::string(kSocketCreatedMessage));
    // The keeper takes messages in order: once it relayed this one, it has
    // looked at the socket.
    send_text(channel, "STATUS=sync\n");
    pollfd p{notify_.get(), POLLIN, 0};
    if (poll(&p, 1, 5000) != 1) return 93;
    // Another node took the name (the first stays bound, so its inode lives on).
    unlink(sock_.c_str());
    UniqueFd second = bind_socket(sock_);
    return second ? 0 : 91;
  });
  EXPECT_EQ(code, 0);
  struct stat st {};
  EXPECT_EQ(lstat(sock_.c_str(), &st), 0) << "the keeper removed a socket that was not the node's";
}

TEST_F(KeeperTest, LeavesWhatTheNodeNeverSaidItCreated) {
  UniqueFd other = bind_socket(sock_);  // a running node's, say
  ASSERT_TRUE(other);
  EXPECT_EQ(keep([](int) { return 1; }), 1);  // e.g. "already running"
  EXPECT_TRUE(fs::exists(fs::symlink_status(sock_)));
}

TEST_F(KeeperTest, ANodeKilledByASignalStillLosesItsSocket) {
  int code = keep([&](int channel) {
    UniqueFd listener = bind_socket(sock_);
    send_text(channel, std::string(kSocketCreatedMessage));  // read after the death, too
    raise(SIGKILL);
    return 92;
  });
  EXPECT_EQ(code, 128 + SIGKILL);
  EXPECT_FALSE(fs::exists(fs::symlink_status(sock_)));
}

TEST(Keeper, ExitCodeOfAWaitStatus) {
  pid_t pid = fork();
  if (pid == 0) _exit(3);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_EQ(exit_code_of(status), 3);
  pid = fork();
  if (pid == 0) {
    pause();
    _exit(0);
  }
  kill(pid, SIGKILL);
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_EQ(exit_code_of(status), 137);
}

// The node's side: forwarded bytes arrive as signals, the keeper's end
// closing as 0; socket_created and the notifier write to the channel.
TEST(KeeperLink, DeliversForwardedSignalsThenTheKeepersEnd) {
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds), 0);
  UniqueFd keeper_end(fds[0]);
  KeeperLink link(UniqueFd(fds[1]), getppid());
  link.socket_created();
  EXPECT_TRUE(link.notifier().send("READY=1\n"));
  char buf[64];
  ssize_t n = recv(keeper_end.get(), buf, sizeof buf, MSG_DONTWAIT);
  EXPECT_EQ(std::string(buf, size_t(n > 0 ? n : 0)), kSocketCreatedMessage);
  n = recv(keeper_end.get(), buf, sizeof buf, MSG_DONTWAIT);
  EXPECT_EQ(std::string(buf, size_t(n > 0 ? n : 0)), "READY=1\n");

  boost::asio::io_context io;
  std::vector<int> seen;
  link.listen(io, [&](int signal) { seen.push_back(signal); });
  for (char byte : {char(SIGHUP), char(SIGUSR1), char(SIGTERM)})  // SIGUSR1 is no order
    send(keeper_end.get(), &byte, 1, 0);
  keeper_end.reset();
  io.run_for(std::chrono::seconds(5));
  EXPECT_EQ(seen, (std::vector<int>{SIGHUP, SIGTERM, 0}));
}

TEST(KeeperLink, WatchingAKeeperThatIsGoneFails) {
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds), 0);
  close(fds[0]);
  pid_t pid = fork();
  if (pid == 0) {
    // Our parent is the test process: watching it works; a pid that is not
    // our parent means the keeper is gone.
    KeeperLink ours(UniqueFd(dup(fds[1])), getppid());
    KeeperLink gone(UniqueFd(fds[1]), getppid() + 100000);
    try {
      ours.watch_keeper();
    } catch (...) {
      _exit(1);
    }
    int armed = 0;
    if (prctl(PR_GET_PDEATHSIG, &armed, 0, 0, 0) != 0 || armed != SIGTERM) _exit(2);
    try {
      gone.watch_keeper();
    } catch (const std::runtime_error&) {
      _exit(0);
    }
    _exit(4);
  }
  close(fds[1]);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_EQ(exit_code_of(status), 0) << "1: watching the parent failed, 2: no SIGTERM armed, "
                                        "4: a keeper that is not the parent was accepted";
}

// What the keeper ends with: uid 0 and nothing else, yet still able to
// remove a file from a root-owned 0755 directory (by owner permission).
TEST(Keeper, ShedsEveryCapabilityButKeepsRootsOwnerPermission) {
  WGP_REQUIRE_ROOT("emptying the bounding set needs CAP_SETPCAP");
  auto dir = fs::temp_directory_path() / ("keeper-shed-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directory(dir);
  fs::permissions(dir, fs::perms(0755));
  fs::path file = dir / "wgk0.sock";
  UniqueFd listener = bind_socket(file);
  ASSERT_TRUE(listener);
  ASSERT_EQ(chown(file.c_str(), 65534, 65534), 0);  // the node's, as after chown_socket
  pid_t pid = fork();
  if (pid == 0) {
    try {
      shed_capabilities();
    } catch (...) {
      _exit(1);
    }
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    std::array<__user_cap_data_struct, _LINUX_CAPABILITY_U32S_3> caps{};
    if (syscall(SYS_capget, &header, caps.data()) != 0) _exit(2);
    for (auto& c : caps)
      if (c.effective || c.permitted || c.inheritable) _exit(3);
    for (int cap = 0; cap <= 63; ++cap)
      if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1) _exit(4);
    if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) _exit(5);
    if (getuid() != 0 || geteuid() != 0) _exit(6);
    // No capability: giving a file away (CAP_CHOWN) is refused...
    if (chown(dir.c_str(), 65534, 65534) == 0 || errno != EPERM) _exit(7);
    // ...but the owner of the directory may still unlink in it.
    if (unlink(file.c_str()) != 0) _exit(8);
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_EQ(exit_code_of(status), 0)
      << "1: shed failed, 2-3: a capability set not empty, 4: bounding set not empty, "
         "5: no no_new_privs, 6: not uid 0, 7: chown still allowed, 8: cannot unlink";
  EXPECT_FALSE(fs::exists(fs::symlink_status(file)));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace wgp
