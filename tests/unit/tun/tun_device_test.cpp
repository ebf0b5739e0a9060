// TunDevice against the real kernel, in a private network namespace: the
// kernel answers an ICMP echo sent to its own address on the TUN, so writing
// a request and reading the reply exercises both directions end to end.
#include "tun/tun_device.h"

#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <net/if.h>
#include <poll.h>
#include <pwd.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <vector>

#include "tun/netlink.h"
#include "unit/tun/netns_helpers.h"

namespace wgp {
namespace {

using testing::iface_address;
using testing::run;

uint16_t checksum(const uint8_t* p, size_t n) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < n; i += 2) sum += uint32_t(p[i] << 8 | p[i + 1]);
  if (n & 1) sum += uint32_t(p[n - 1] << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

// An IPv4 ICMP echo request src -> dst with identifier/sequence and 32 bytes
// of patterned payload.
std::vector<uint8_t> echo_request(const char* src, const char* dst, uint16_t seq) {
  std::vector<uint8_t> p(20 + 8 + 32, 0);
  p[0] = 0x45;
  store_be16(&p[2], static_cast<uint16_t>(p.size()));
  store_be16(&p[4], seq);  // IP id
  p[8] = 64;               // TTL
  p[9] = 1;                // ICMP
  std::memcpy(&p[12], testing::address(src).bytes.data(), 4);
  std::memcpy(&p[16], testing::address(dst).bytes.data(), 4);
  store_be16(&p[10], checksum(p.data(), 20));
  p[20] = 8;  // echo request
  store_be16(&p[24], 0x7767);
  store_be16(&p[26], seq);
  for (size_t i = 0; i < 32; ++i) p[28 + i] = static_cast<uint8_t>(i * 7 + seq);
  store_be16(&p[22], checksum(&p[20], p.size() - 20));
  return p;
}

// True when `reply` is a well-formed echo reply to `request`.
bool is_reply_to(ByteView reply, const std::vector<uint8_t>& request) {
  if (reply.size() != request.size() || (reply[0] >> 4) != 4 || reply[9] != 1) return false;
  if (checksum(reply.data(), 20) != 0 || checksum(&reply[20], reply.size() - 20) != 0) return false;
  return std::memcmp(&reply[12], &request[16], 4) == 0 &&                  // src = request's dst
         std::memcmp(&reply[16], &request[12], 4) == 0 &&                  // dst = request's src
         reply[20] == 0 &&                                                 // echo reply
         std::memcmp(&reply[24], &request[24], request.size() - 24) == 0;  // id, seq, data
}

// Brings `tun` up with 10.77.0.1/24 on it.
void configure(TunDevice& tun) {
  Netlink nl = Netlink::open();
  nl.set_mtu(tun.ifindex(), 1420);
  nl.add_address(tun.ifindex(), iface_address("10.77.0.1", 24));
  nl.set_link_up(tun.ifindex());
}

// Reads until `want` echo replies matching `requests` arrived or 3 s passed;
// other packets (IPv6 router solicitations, MLD) are skipped. Returns the count.
size_t collect_replies(TunDevice& tun, const std::vector<std::vector<uint8_t>>& requests) {
  std::vector<bool> seen(requests.size(), false);
  size_t got = 0;
  std::vector<std::array<uint8_t, 2048>> storage(16);
  std::vector<MutableByteView> bufs(storage.begin(), storage.end());
  std::vector<size_t> lengths(bufs.size());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (got < requests.size() && std::chrono::steady_clock::now() < deadline) {
    pollfd pfd{tun.fd(), POLLIN, 0};
    if (::poll(&pfd, 1, 100) <= 0) continue;
    int n = tun.read_batch(bufs, lengths);
    EXPECT_GE(n, 0);
    for (int i = 0; i < n; ++i) {
      ByteView pkt(bufs[i].data(), lengths[i]);
      for (size_t r = 0; r < requests.size(); ++r) {
        if (!seen[r] && is_reply_to(pkt, requests[r])) {
          seen[r] = true;
          ++got;
        }
      }
    }
  }
  return got;
}

TEST(TunDevice, CreateNamesDeviceAndIsNonBlocking) {
  REQUIRE_PRIVATE_NETNS();
  TunDevice tun = TunDevice::create("tuntest0");
  EXPECT_EQ(tun.name(), "tuntest0");
  EXPECT_GT(tun.ifindex(), 0);
  EXPECT_EQ(static_cast<unsigned>(tun.ifindex()), if_nametoindex("tuntest0"));
  EXPECT_TRUE(::fcntl(tun.fd(), F_GETFL) & O_NONBLOCK);
  EXPECT_TRUE(::fcntl(tun.fd(), F_GETFD) & FD_CLOEXEC);
  std::string link = run("ip -d -j link show dev tuntest0");
  EXPECT_NE(link.find("\"type\":\"tun\""), std::string::npos) << link;
  EXPECT_NE(link.find("\"pi\":false"), std::string::npos) << link;
}

TEST(TunDevice, KernelPicksNameWhenEmpty) {
  REQUIRE_PRIVATE_NETNS();
  TunDevice tun = TunDevice::create("");
  EXPECT_EQ(tun.name().rfind("tun", 0), 0u) << tun.name();
  EXPECT_GT(tun.ifindex(), 0);
}

TEST(TunDevice, DeviceVanishesWithItsDescriptor) {
  REQUIRE_PRIVATE_NETNS();
  {
    TunDevice tun = TunDevice::create("tuntest1");
    TunDevice moved = std::move(tun);  // ownership moves, device stays
    EXPECT_NE(if_nametoindex("tuntest1"), 0u);
  }
  EXPECT_EQ(if_nametoindex("tuntest1"), 0u);
}

TEST(TunDevice, TooLongNameThrowsNamingIt) {
  REQUIRE_PRIVATE_NETNS();
  try {
    TunDevice::create("sixteen-chars-xx");
    FAIL() << "no exception";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), EINVAL);
    EXPECT_NE(std::string(e.what()).find("sixteen-chars-xx"), std::string::npos) << e.what();
  }
}

TEST(TunDevice, TapWithSameNameIsRefused) {
  REQUIRE_PRIVATE_NETNS();
  int status = -1;
  run("ip tuntap add tuntap0 mode tap", &status);
  ASSERT_EQ(status, 0);
  try {
    TunDevice::create("tuntap0");
    FAIL() << "attached a TUN to a TAP device";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), EINVAL);
    EXPECT_NE(std::string(e.what()).find("open TUN device tuntap0"), std::string::npos);
  }
  run("ip link del tuntap0");
}

TEST(TunDevice, EmptyReadReturnsEagain) {
  REQUIRE_PRIVATE_NETNS();
  TunDevice tun = TunDevice::create("tuntest2");
  std::array<uint8_t, 2048> buf;
  EXPECT_EQ(tun.read(buf), -EAGAIN);
  std::array<MutableByteView, 1> bufs{MutableByteView(buf)};
  std::array<size_t, 1> lengths{};
  EXPECT_EQ(tun.read_batch(bufs, lengths), 0);
}

TEST(TunDevice, KernelAnswersPingWrittenIntoTun) {
  REQUIRE_PRIVATE_NETNS();
  TunDevice tun = TunDevice::create("tunping0");
  configure(tun);
  auto request = echo_request("10.77.0.2", "10.77.0.1", 1);
  ASSERT_EQ(tun.write(request), static_cast<ssize_t>(request.size()));
  EXPECT_EQ(collect_replies(tun, {request}), 1u);
}

TEST(TunDevice, BatchOfPingsRoundTrips) {
  REQUIRE_PRIVATE_NETNS();
  TunDevice tun = TunDevice::create("tunping1");
  configure(tun);
  std::vector<std::vector<uint8_t>> requests;
  std::vector<ByteView> views;
  for (uint16_t seq = 1; seq <= 12; ++seq)
    requests.push_back(echo_request("10.77.0.9", "10.77.0.1", seq));
  for (const auto& r : requests) views.emplace_back(r);
  int refused = 0;
  EXPECT_EQ(tun.write_batch(views, &refused), 12);
  EXPECT_EQ(refused, 0);
  EXPECT_EQ(collect_replies(tun, requests), 12u);
}

TEST(TunDevice, WriteBatchSkipsPacketsTheKernelRefuses) {
  REQUIRE_PRIVATE_NETNS();
  TunDevice tun = TunDevice::create("tunping2");
  configure(tun);
  std::vector<uint8_t> garbage(40, 0x00);  // IP version 0: not IPv4 nor IPv6
  auto request = echo_request("10.77.0.3", "10.77.0.1", 7);
  std::vector<ByteView> views{garbage, request, garbage};
  int refused = 0, last_error = 0;
  EXPECT_EQ(tun.write_batch(views, &refused, &last_error), 3);
  EXPECT_EQ(refused, 2);
  EXPECT_EQ(last_error, EINVAL);
  EXPECT_EQ(tun.write(garbage), -EINVAL);
  EXPECT_EQ(collect_replies(tun, {request}), 1u);  // the good one still got through
}

// Runs `body` in a child process that first becomes `uid`/`gid` with no
// capabilities and no supplementary groups; returns the child's exit status
// (-1 if it did not exit). `before_drop` runs first, as root.
template <typename Before, typename Body>
int run_as(uid_t uid, gid_t gid, Before before_drop, Body body) {
  pid_t pid = ::fork();
  if (pid == 0) {
    before_drop();
    if (::setgroups(0, nullptr) != 0 || ::setgid(gid) != 0 || ::setuid(uid) != 0) _exit(100);
    _exit(body());
  }
  int st = 0;
  ::waitpid(pid, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

// Attaching as `uid`: exit 0 on success, the errno on failure.
int attach_as(uid_t uid, gid_t gid, const char* name) {
  return run_as(uid, gid, [] {}, [name] {
    try {
      TunDevice tun = TunDevice::create(name);
      return tun.name() == name ? 0 : 101;
    } catch (const std::system_error& e) {
      return e.code().value() & 0x7f;
    }
  });
}

TEST(TunDevice, AttachesToPersistentDeviceAsUnprivilegedOwner) {
  REQUIRE_PRIVATE_NETNS();
  const passwd* nobody = ::getpwnam("nobody");
  ASSERT_NE(nobody, nullptr);
  // Some systems ship /dev/net/tun 0600: then nobody may not even open it,
  // whoever owns the device behind it (the next test covers that case).
  int open_as_nobody = run_as(nobody->pw_uid, nobody->pw_gid, [] {}, [] {
    int fd = ::open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    return fd >= 0 ? 0 : errno & 0x7f;
  });
  if (open_as_nobody == EACCES)
    WGP_SKIP_MACHINE("/dev/net/tun is not open to other users on this machine (mode "
                     << run("stat -c %a /dev/net/tun | tr -d '\\n'")
                     << "), so no unprivileged user can attach to a TUN device");
  ASSERT_EQ(open_as_nobody, 0);

  int status = -1;
  run("ip tuntap add tunpers0 mode tun user " + std::to_string(nobody->pw_uid), &status);
  ASSERT_EQ(status, 0);
  EXPECT_EQ(attach_as(nobody->pw_uid, nobody->pw_gid, "tunpers0"), 0);
  EXPECT_EQ(attach_as(12345, 12345, "tunpers0"), EPERM);  // not the owner

  // Root attaches too; the device survives our descriptor (persistent).
  {
    TunDevice tun = TunDevice::create("tunpers0");
    configure(tun);
    auto request = echo_request("10.77.0.4", "10.77.0.1", 3);
    ASSERT_EQ(tun.write(request), static_cast<ssize_t>(request.size()));
    EXPECT_EQ(collect_replies(tun, {request}), 1u);
  }
  unsigned index = if_nametoindex("tunpers0");
  ASSERT_NE(index, 0u);
  Netlink::open().delete_link(static_cast<int>(index));
  EXPECT_EQ(if_nametoindex("tunpers0"), 0u);
}

// Where /dev/net/tun is 0600, an unprivileged start fails on opening it; the
// error must say what to do. The child sees a private copy of the node at
// mode 0600 (its own mount namespace; the machine's node is not touched),
// so this runs the same on every machine.
TEST(TunDevice, DeniedControlDeviceErrorSaysWhatToDo) {
  REQUIRE_PRIVATE_NETNS();
  const passwd* nobody = ::getpwnam("nobody");
  ASSERT_NE(nobody, nullptr);
  int pipe_fds[2];
  ASSERT_EQ(::pipe2(pipe_fds, O_CLOEXEC), 0);
  auto private_0600_node = [] {
    if (::unshare(CLONE_NEWNS) != 0 ||
        ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        ::mount("tmpfs", "/dev/net", "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755") != 0 ||
        ::mknod("/dev/net/tun", S_IFCHR | 0600, ::makedev(10, 200)) != 0)
      _exit(102);
  };
  int write_end = pipe_fds[1];
  int status = run_as(nobody->pw_uid, nobody->pw_gid, private_0600_node, [write_end] {
    try {
      TunDevice::create("wgpdenied0");
      return 101;
    } catch (const std::system_error& e) {
      std::string message = e.what();
      (void)!::write(write_end, message.data(), message.size());
      return e.code().value() & 0x7f;
    }
  });
  ::close(pipe_fds[1]);
  std::string message(4096, '\0');
  ssize_t n = ::read(pipe_fds[0], message.data(), message.size());
  ::close(pipe_fds[0]);
  message.resize(n > 0 ? size_t(n) : 0);
  ASSERT_NE(status, 102) << "could not set up the private device node";
  EXPECT_EQ(status, EACCES);
  EXPECT_NE(message.find("open TUN device wgpdenied0: /dev/net/tun: Permission denied"),
            std::string::npos) << message;
  EXPECT_NE(message.find("mode 0600"), std::string::npos) << message;
  EXPECT_NE(message.find("--user"), std::string::npos) << message;
}

TEST(TunDevice, FromFdMovesPacketsOverAnyDatagramDescriptor) {
  // A socketpair stands in for the kernel: what the device writes arrives at
  // the peer end one packet per datagram, and vice versa.
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), 0);
  UniqueFd peer(sv[1]);
  TunDevice tun = TunDevice::from_fd(UniqueFd(sv[0]), "fake0");
  EXPECT_EQ(tun.name(), "fake0");
  EXPECT_TRUE(::fcntl(tun.fd(), F_GETFL) & O_NONBLOCK);

  std::vector<std::vector<uint8_t>> packets;
  for (uint16_t seq = 0; seq < 5; ++seq)
    packets.push_back(echo_request("10.0.0.1", "10.0.0.2", seq));
  for (const auto& p : packets)
    ASSERT_EQ(::write(peer.get(), p.data(), p.size()), ssize_t(p.size()));

  std::vector<std::array<uint8_t, 256>> storage(8);
  std::vector<MutableByteView> bufs(storage.begin(), storage.end());
  std::vector<size_t> lengths(bufs.size());
  ASSERT_EQ(tun.read_batch(bufs, lengths), 5);
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(std::vector<uint8_t>(bufs[i].begin(), bufs[i].begin() + lengths[i]), packets[i]);
  }
  EXPECT_EQ(tun.read_batch(bufs, lengths), 0);  // drained

  std::vector<ByteView> views(packets.begin(), packets.end());
  EXPECT_EQ(tun.write_batch(views), 5);
  std::array<uint8_t, 256> buf;
  for (size_t i = 0; i < 5; ++i) {
    ASSERT_EQ(::read(peer.get(), buf.data(), buf.size()), ssize_t(packets[i].size()));
    EXPECT_EQ(std::memcmp(buf.data(), packets[i].data(), packets[i].size()), 0);
  }
}

TEST(TunDevice, ReadBatchReportsHardErrorOnFirstRead) {
  // A write-only descriptor: every read fails with EBADF, not EAGAIN.
  int wronly = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  ASSERT_GE(wronly, 0);
  TunDevice tun = TunDevice::from_fd(UniqueFd(wronly), "null0");
  std::array<uint8_t, 64> buf;
  std::array<MutableByteView, 1> bufs{MutableByteView(buf)};
  std::array<size_t, 1> lengths{};
  EXPECT_EQ(tun.read_batch(bufs, lengths), -EBADF);
}

TEST(TunDevice, FromInvalidFdThrows) {
  EXPECT_THROW(TunDevice::from_fd(UniqueFd(), "none"), std::system_error);
}

}  // namespace
}  // namespace wgp
