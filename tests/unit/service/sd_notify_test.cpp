// sd_notify messages and NOTIFY_SOCKET addresses, and one real datagram to a
// socket bound as systemd binds its notification socket (path and abstract).
#include "service/sd_notify.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

namespace wgp::service {
namespace {

TEST(SdNotify, Messages) {
  EXPECT_EQ(ready_message("listening on UDP port 51820, 2 peer(s)"),
            "READY=1\nSTATUS=listening on UDP port 51820, 2 peer(s)\n");
  EXPECT_EQ(ready_message("two\nlines"), "READY=1\nSTATUS=two lines\n");
  EXPECT_EQ(reloading_message(std::chrono::microseconds(123456789)),
            "RELOADING=1\nMONOTONIC_USEC=123456789\nSTATUS=reloading\n");
  EXPECT_EQ(stopping_message("terminated"), "STOPPING=1\nSTATUS=terminated\n");
}

TEST(SdNotify, AddressForms) {
  auto path = parse_notify_socket("/run/systemd/notify");
  ASSERT_TRUE(path);
  EXPECT_STREQ(path->address.sun_path, "/run/systemd/notify");
  EXPECT_EQ(path->length, offsetof(sockaddr_un, sun_path) + 20);  // with the NUL
  auto abstract = parse_notify_socket("@sd-notify");
  ASSERT_TRUE(abstract);
  EXPECT_EQ(abstract->address.sun_path[0], '\0');
  EXPECT_EQ(std::string(abstract->address.sun_path + 1, 9), "sd-notify");
  EXPECT_EQ(abstract->length, offsetof(sockaddr_un, sun_path) + 10);  // no NUL
  EXPECT_FALSE(parse_notify_socket(""));
  EXPECT_FALSE(parse_notify_socket("/"));
  EXPECT_FALSE(parse_notify_socket("@"));
  EXPECT_FALSE(parse_notify_socket("relative/path"));
  EXPECT_FALSE(parse_notify_socket("vsock:2:1234"));
  EXPECT_FALSE(parse_notify_socket("/" + std::string(sizeof(sockaddr_un::sun_path), 'x')));
}

// The keeper of `up --user` passes on what the node may tell systemd about
// itself, never what would let it speak for the keeper (MAINPID=, FDSTORE=).
TEST(SdNotify, RelayKeepsOnlyTheNodesOwnFields) {
  for (const std::string& m : {ready_message("up, 2 peer(s)"), stopping_message("terminated"),
                               reloading_message(std::chrono::microseconds(42))})
    EXPECT_EQ(relayable_notify(m), m);
  EXPECT_EQ(relayable_notify("MAINPID=1\nREADY=1\nFDSTORE=1\nSTATUS=x\nWATCHDOG_USEC=1\n"),
            "READY=1\nSTATUS=x\n");
  EXPECT_EQ(relayable_notify("READY=1"), "READY=1\n");  // a last line without a newline
  EXPECT_EQ(relayable_notify("MAINPID=1\n"), "");
  EXPECT_EQ(relayable_notify("SOCKET_CREATED"), "");
  EXPECT_EQ(relayable_notify(""), "");
  EXPECT_EQ(relayable_notify("XREADY=1\nready=1\n STATUS=x\n"), "");  // exact keys only
}

TEST(SdNotify, SendsOnAConnectedSocket) {
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds), 0);
  UniqueFd ours(fds[0]);
  Notifier n = Notifier::from_connected(UniqueFd(fds[1]));
  EXPECT_TRUE(n.enabled());
  EXPECT_TRUE(n.send(ready_message("up")));
  char buf[64];
  ssize_t got = recv(ours.get(), buf, sizeof buf, MSG_DONTWAIT);
  EXPECT_EQ(std::string(buf, size_t(got > 0 ? got : 0)), "READY=1\nSTATUS=up\n");
}

// Binds a datagram socket at `where` (a NOTIFY_SOCKET value), points the
// environment at it, sends through a Notifier and returns what arrived.
std::string round_trip(const std::string& where, const std::string& message) {
  auto addr = parse_notify_socket(where);
  EXPECT_TRUE(addr);
  UniqueFd server(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  EXPECT_EQ(bind(server.get(), reinterpret_cast<const sockaddr*>(&addr->address), addr->length), 0);
  setenv("NOTIFY_SOCKET", where.c_str(), 1);
  Notifier n = Notifier::from_environment();
  unsetenv("NOTIFY_SOCKET");
  EXPECT_TRUE(n.enabled());
  EXPECT_TRUE(n.send(message));
  char buf[256];
  ssize_t got = recv(server.get(), buf, sizeof buf, MSG_DONTWAIT);
  return got > 0 ? std::string(buf, size_t(got)) : std::string();
}

TEST(SdNotify, SendsOneDatagramToAPathSocket) {
  auto dir = std::filesystem::temp_directory_path() / ("sdn-" + std::to_string(getpid()));
  std::filesystem::create_directory(dir);
  std::string where = (dir / "notify").string();
  EXPECT_EQ(round_trip(where, ready_message("up")), "READY=1\nSTATUS=up\n");
  std::filesystem::remove_all(dir);
}

TEST(SdNotify, SendsOneDatagramToAnAbstractSocket) {
  std::string where = "@wgpunch-test-" + std::to_string(getpid());
  EXPECT_EQ(round_trip(where, stopping_message("bye")), "STOPPING=1\nSTATUS=bye\n");
}

TEST(SdNotify, WithoutNotifySocketNothingIsSent) {
  unsetenv("NOTIFY_SOCKET");
  Notifier n = Notifier::from_environment();
  EXPECT_FALSE(n.enabled());
  EXPECT_FALSE(n.send("READY=1\n"));
  setenv("NOTIFY_SOCKET", "not-absolute", 1);
  EXPECT_FALSE(Notifier::from_environment().enabled());
  setenv("NOTIFY_SOCKET", "@wgpunch-test-nobody-listens-here", 1);
  EXPECT_FALSE(Notifier::from_environment().enabled());
  unsetenv("NOTIFY_SOCKET");
}

}  // namespace
}  // namespace wgp::service
