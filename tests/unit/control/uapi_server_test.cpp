#include "control/uapi_server.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <atomic>

#include "control/uapi_client.h"
#include "control/uapi_get.h"
#include "server_fixture.h"
#include "test_keys.h"
#include "util/unique_fd.h"

namespace wgp::control {
namespace {

using namespace wgp::testing;
using UapiServerTest = ServerFixture;

// A raw client connection, for what uapi_request cannot do (pipelining,
// garbage, partial requests).
UniqueFd connect_raw(const std::filesystem::path& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) return {};
  return fd;
}

void send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    ASSERT_GT(n, 0);
    data.remove_prefix(static_cast<size_t>(n));
  }
}

// Reads until `expected_size` bytes arrived, EOF, or 5 s passed. `eof` reports EOF.
std::string read_some(int fd, size_t expected_size, bool* eof = nullptr) {
  std::string out;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  if (eof) *eof = false;
  while (out.size() < expected_size && std::chrono::steady_clock::now() < deadline) {
    pollfd pfd{fd, POLLIN, 0};
    if (::poll(&pfd, 1, 100) <= 0) continue;
    char buf[4096];
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) {
      if (eof) *eof = true;
      break;
    }
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

TEST_F(UapiServerTest, GetOverTheSocket) {
  on_io([&] {
    device_.add_peer(pub(kPeer1));
    device_.add_peer_allowed_ip(pub(kPeer1), prefix("10.0.0.0/24"));
  });
  start_server();
  auto exchange = uapi_request(dir_ / "wgtest0.sock", "get=1\n\n");
  ASSERT_TRUE(exchange.reply) << exchange.error;
  std::string expected = on_io([&] { return format_get_reply(device_.snapshot()); });
  EXPECT_EQ(*exchange.reply, expected);
  EXPECT_NE(exchange.reply->find("allowed_ip=10.0.0.0/24\n"), std::string::npos);
}

TEST_F(UapiServerTest, SetOverTheSocket) {
  start_server();
  auto exchange =
      uapi_request(server_->socket_path(), "set=1\nlisten_port=4242\npublic_key=" + kPeer2 +
                                               "\nallowed_ip=10.9.0.0/24\n\n");
  ASSERT_TRUE(exchange.reply) << exchange.error;
  EXPECT_EQ(*exchange.reply, "errno=0\n\n");
  EXPECT_EQ(on_io([&] { return device_.listen_port(); }), 4242);
  EXPECT_EQ(on_io([&] { return device_.find(pub(kPeer2))->allowed_ips.size(); }), 1u);
  auto failed = uapi_request(server_->socket_path(), "set=1\nlisten_port=99999\n\n");
  ASSERT_TRUE(failed.reply);
  EXPECT_EQ(*failed.reply, "errno=-22\n\n");
}

TEST_F(UapiServerTest, SeveralRequestsOnOneConnection) {
  start_server();
  UniqueFd fd = connect_raw(server_->socket_path());
  ASSERT_TRUE(fd);
  send_all(fd.get(), "set=1\nfwmark=51820\n\nget=1\n\nset=1\nbogus=1\n\n");
  const std::string expected = "errno=0\n\nfwmark=51820\nerrno=0\n\nerrno=-22\n\n";
  EXPECT_EQ(read_some(fd.get(), expected.size()), expected);
  // Still open for more.
  send_all(fd.get(), "get=1\n\n");
  const std::string again = "fwmark=51820\nerrno=0\n\n";
  EXPECT_EQ(read_some(fd.get(), again.size()), again);
}

TEST_F(UapiServerTest, GarbageClosesOnlyThatConnection) {
  start_server();
  UniqueFd bad = connect_raw(server_->socket_path());
  ASSERT_TRUE(bad);
  send_all(bad.get(), std::string("\x00\xff garbage\n", 11));
  bool eof = false;
  EXPECT_EQ(read_some(bad.get(), 1, &eof), "");
  EXPECT_TRUE(eof);
  auto exchange = uapi_request(server_->socket_path(), "get=1\n\n");
  ASSERT_TRUE(exchange.reply) << exchange.error;
  EXPECT_EQ(*exchange.reply, "errno=0\n\n");
}

TEST_F(UapiServerTest, HugeLineClosesTheConnection) {
  start_server();
  UniqueFd fd = connect_raw(server_->socket_path());
  ASSERT_TRUE(fd);
  std::string huge = "set=1\nlisten_port=" + std::string(kMaxUapiLine * 4, '1');
  // The server may close before it has read everything: ignore EPIPE here.
  ::send(fd.get(), huge.data(), huge.size(), MSG_NOSIGNAL);
  bool eof = false;
  read_some(fd.get(), 1, &eof);
  EXPECT_TRUE(eof);
  EXPECT_EQ(on_io([&] { return device_.listen_port(); }), 0);
}

TEST_F(UapiServerTest, SlowClientDoesNotBlockOthers) {
  start_server();
  UniqueFd slow = connect_raw(server_->socket_path());
  ASSERT_TRUE(slow);
  send_all(slow.get(), "set=1\nlisten_port=5");  // and then nothing
  UniqueFd silent = connect_raw(server_->socket_path());
  ASSERT_TRUE(silent);
  for (int i = 0; i < 3; ++i) {
    auto exchange = uapi_request(server_->socket_path(), "get=1\n\n", std::chrono::seconds(2));
    ASSERT_TRUE(exchange.reply) << exchange.error;
  }
  EXPECT_EQ(on_io([&] { return device_.listen_port(); }), 0);
  send_all(slow.get(), "5\n\n");  // the slow one finishes later
  EXPECT_EQ(read_some(slow.get(), 9), "errno=0\n\n");
  EXPECT_EQ(on_io([&] { return device_.listen_port(); }), 55);
}

TEST_F(UapiServerTest, ClientThatNeverReadsOnlyBlocksItself) {
  on_io([&] {
    for (int i = 0; i < 200; ++i) {
      PublicKey k{};
      k[0] = uint8_t(i + 1);
      device_.add_peer(k);
    }
  });
  start_server();
  UniqueFd hog = connect_raw(server_->socket_path());
  ASSERT_TRUE(hog);
  std::string many;
  for (int i = 0; i < 2000; ++i) many += "get=1\n\n";
  send_all(hog.get(), many);  // ~40 MB of replies would follow; it never reads them
  auto exchange = uapi_request(server_->socket_path(), "get=1\n\n", std::chrono::seconds(3));
  ASSERT_TRUE(exchange.reply) << exchange.error;
  EXPECT_NE(exchange.reply->find("errno=0\n\n"), std::string::npos);
}

TEST_F(UapiServerTest, DirectoryAndSocketPermissions) {
  start_server();
  struct stat st {};
  ASSERT_EQ(::stat(dir_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0755u);
  ASSERT_EQ(::lstat(server_->socket_path().c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 077, 0u);  // nobody but the owner
}

TEST_F(UapiServerTest, ChownSocket) {
  start_server();
  ASSERT_FALSE(on_io([&] { return server_->chown_socket(65534, 65534); }));
  struct stat st {};
  ASSERT_EQ(::lstat(server_->socket_path().c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 65534u);
  EXPECT_EQ(st.st_gid, 65534u);
  // Chowning fires inotify IN_ATTRIB; that must not count as deletion.
  auto exchange = uapi_request(server_->socket_path(), "get=1\n\n");
  EXPECT_TRUE(exchange.reply) << exchange.error;
}

TEST_F(UapiServerTest, SocketRemovedOnDestruction) {
  start_server();
  auto path = server_->socket_path();
  EXPECT_TRUE(std::filesystem::exists(path));
  on_io([&] { server_.reset(); });
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST_F(UapiServerTest, ShutdownClosesOpenConnections) {
  start_server();
  UniqueFd fd = connect_raw(server_->socket_path());
  ASSERT_TRUE(fd);
  send_all(fd.get(), "get=1\n\n");
  EXPECT_EQ(read_some(fd.get(), 9), "errno=0\n\n");
  EXPECT_EQ(on_io([&] { return server_->session_count(); }), 1u);
  on_io([&] { server_->shutdown(); });
  bool eof = false;
  read_some(fd.get(), 1, &eof);
  EXPECT_TRUE(eof);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "wgtest0.sock"));
}

TEST_F(UapiServerTest, StaleSocketFileIsReplaced) {
  std::filesystem::create_directories(dir_);
  {  // a socket file whose process is gone: bound, never unlinked
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, (dir_ / "wgtest0.sock").c_str(), sizeof(addr.sun_path) - 1);
    ASSERT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  }
  ASSERT_TRUE(std::filesystem::exists(dir_ / "wgtest0.sock"));
  start_server();
  auto exchange = uapi_request(dir_ / "wgtest0.sock", "get=1\n\n");
  EXPECT_TRUE(exchange.reply) << exchange.error;
}

TEST_F(UapiServerTest, SecondServerOnTheSameNameIsRefused) {
  start_server();
  FakeDevice other;
  std::string message;
  on_io([&] {
    try {
      UapiServer second(io_, "wgtest0", other, dir_);
    } catch (const std::runtime_error& e) {
      message = e.what();
    }
  });
  // Where (the socket) and how to pick another name (issue 22).
  EXPECT_EQ(message, "interface wgtest0 is already running: " + (dir_ / "wgtest0.sock").string() +
                         " answers; stop that one, or start this one under another name "
                         "(--interface NAME)");
  // The first server is untouched.
  auto exchange = uapi_request(dir_ / "wgtest0.sock", "get=1\n\n");
  EXPECT_TRUE(exchange.reply) << exchange.error;
}

TEST_F(UapiServerTest, DeletedSocketFileIsReported) {
  start_server();
  std::atomic<int> calls{0};
  on_io([&] { server_->on_socket_deleted([&] { ++calls; }); });
  std::filesystem::remove(dir_ / "wgtest0.sock");
  for (int i = 0; i < 100 && calls == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(calls, 1);
}

TEST_F(UapiServerTest, ListsLiveInterfacesOnly) {
  start_server("wga");
  on_io([&] { return 0; });
  // A stale socket and an unrelated file are not listed.
  {
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, (dir_ / "wgdead.sock").c_str(), sizeof(addr.sun_path) - 1);
    ASSERT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  }
  FILE* f = std::fopen((dir_ / "notes.txt").c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fclose(f);
  FakeDevice second_device("wgb");
  std::unique_ptr<UapiServer> second;
  on_io([&] { second = std::make_unique<UapiServer>(io_, "wgb", second_device, dir_); });
  EXPECT_EQ(list_uapi_interfaces(dir_), (std::vector<std::string>{"wga", "wgb"}));
  on_io([&] { second.reset(); });
  EXPECT_EQ(list_uapi_interfaces(dir_), (std::vector<std::string>{"wga"}));
}

TEST(UapiClient, MissingSocketIsAClearError) {
  auto exchange = uapi_request("/nonexistent-dir/wg0.sock", "get=1\n\n");
  EXPECT_FALSE(exchange.reply);
  EXPECT_NE(exchange.error.find("cannot connect"), std::string::npos);
  EXPECT_NE(exchange.error.find("/nonexistent-dir/wg0.sock"), std::string::npos);
}

}  // namespace
}  // namespace wgp::control
