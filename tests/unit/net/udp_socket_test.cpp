// UdpSocket over loopback. The process first moves into a private network
// namespace (when it may) so ports and marks never touch the host's; when it
// may not it stays put and uses the host's loopback for its ports, which is
// just as private, but never changes anything of the host's (its MTU).
#include "net/udp_socket.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <set>
#include <string>

#include "support/requirements.h"

namespace wgp {
namespace {

// Enters a fresh namespace once per process and brings its loopback up.
// Returns true when the namespace is private (root with CAP_SYS_ADMIN).
bool use_private_loopback() {
  static const bool done = [] {
    if (::unshare(CLONE_NEWNET) != 0) return false;  // not permitted: host loopback
    UniqueFd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    ifreq ifr{};
    std::strcpy(ifr.ifr_name, "lo");
    if (::ioctl(s.get(), SIOCGIFFLAGS, &ifr) == 0) {
      ifr.ifr_flags |= IFF_UP;
      ::ioctl(s.get(), SIOCSIFFLAGS, &ifr);
    }
    return true;
  }();
  return done;
}

// Sets the loopback MTU (private namespace only); returns the old one, or -1.
int set_loopback_mtu(int mtu) {
  if (!use_private_loopback()) return -1;  // the host's loopback: never
  UniqueFd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  ifreq ifr{};
  std::strcpy(ifr.ifr_name, "lo");
  if (::ioctl(s.get(), SIOCGIFMTU, &ifr) != 0) return -1;
  int old = ifr.ifr_mtu;
  ifr.ifr_mtu = mtu;
  if (::ioctl(s.get(), SIOCSIFMTU, &ifr) != 0) return -1;
  return old;
}

class UdpSocketTest : public ::testing::Test {
 protected:
  void SetUp() override { use_private_loopback(); }
};

Endpoint endpoint(const char* address, uint16_t port) {
  return Endpoint{*IpAddress::parse(address), port};
}

// Receives into `batch` until `want` datagrams were handled by `on_datagram`
// or 3 s passed. Returns the number received.
template <typename Fn>
size_t receive_all(UdpSocket& sock, DatagramBatch& batch, size_t want, Fn on_datagram) {
  size_t got = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (got < want && std::chrono::steady_clock::now() < deadline) {
    pollfd pfd{sock.fd(), POLLIN, 0};
    if (::poll(&pfd, 1, 100) <= 0) continue;
    int n = sock.receive(batch);
    EXPECT_GE(n, 0);
    for (int i = 0; i < n; ++i) on_datagram(batch, static_cast<size_t>(i));
    got += static_cast<size_t>(std::max(n, 0));
  }
  return got;
}

// Sends a full batch of 64 distinct datagrams from a to b at `loopback` and
// checks every one arrives intact with a's address and port as its source.
void exchange_batch(const char* loopback) {
  UdpSocket a = UdpSocket::open(0);
  UdpSocket b = UdpSocket::open(0);
  DatagramBatch out(64, 1500);
  DatagramBatch in(64, 1500);
  for (size_t i = 0; i < 64; ++i) {
    std::vector<uint8_t> payload(100 + i * 13, static_cast<uint8_t>(i));
    payload[0] = static_cast<uint8_t>(i);
    ASSERT_TRUE(out.set(i, endpoint(loopback, b.port()), payload));
  }
  int dropped = 0;
  ASSERT_EQ(a.send(out, 64, &dropped), 64);
  EXPECT_EQ(dropped, 0);

  std::set<size_t> seen;
  size_t got = receive_all(b, in, 64, [&](DatagramBatch& batch, size_t i) {
    ByteView d = batch.data(i);
    ASSERT_FALSE(d.empty());
    size_t index = d[0];
    EXPECT_EQ(d.size(), 100 + index * 13);
    EXPECT_FALSE(batch.truncated(i));
    EXPECT_EQ(batch.endpoint(i), endpoint(loopback, a.port()));  // never ::ffff:127.0.0.1
    EXPECT_TRUE(std::all_of(d.begin() + 1, d.end(), [&](uint8_t x) { return x == index; }));
    seen.insert(index);
  });
  EXPECT_EQ(got, 64u);
  EXPECT_EQ(seen.size(), 64u);
}

TEST_F(UdpSocketTest, PortZeroPicksAFreePortOnADualStackSocket) {
  UdpSocket sock = UdpSocket::open(0);
  EXPECT_NE(sock.port(), 0);
  EXPECT_EQ(sock.family(), AF_INET6);
  int v6only = -1;
  socklen_t len = sizeof(v6only);
  ASSERT_EQ(::getsockopt(sock.fd(), IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &len), 0);
  EXPECT_EQ(v6only, 0);
  EXPECT_TRUE(::fcntl(sock.fd(), F_GETFL) & O_NONBLOCK);
  EXPECT_TRUE(::fcntl(sock.fd(), F_GETFD) & FD_CLOEXEC);
  UdpSocket other = UdpSocket::open(0);
  EXPECT_NE(other.port(), sock.port());
}

TEST_F(UdpSocketTest, ExplicitPortIsBound) {
  UdpSocket probe = UdpSocket::open(0);
  uint16_t port = probe.port();
  probe = UdpSocket::open(0);  // frees `port` (move-assign closes the old socket)
  UdpSocket sock = UdpSocket::open(port);
  EXPECT_EQ(sock.port(), port);
}

TEST_F(UdpSocketTest, BusyPortFailsWithClearError) {
  UdpSocket first = UdpSocket::open(0);
  try {
    UdpSocket::open(first.port());
    FAIL() << "bound a busy port";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), EADDRINUSE);
    std::string expected =
        "bind UDP port " + std::to_string(first.port()) + ": Address already in use";
    EXPECT_EQ(std::string(e.what()), expected);
  }
}

TEST_F(UdpSocketTest, BusyPortOnIpv4OnlyAlsoFails) {
  // A dual-stack bind covers 0.0.0.0 too, so an IPv4 holder blocks it.
  UniqueFd v4(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  ASSERT_EQ(::bind(v4.get(), reinterpret_cast<sockaddr*>(&sin), sizeof(sin)), 0);
  socklen_t len = sizeof(sin);
  ASSERT_EQ(::getsockname(v4.get(), reinterpret_cast<sockaddr*>(&sin), &len), 0);
  EXPECT_THROW(UdpSocket::open(ntohs(sin.sin_port)), std::system_error);
}

TEST_F(UdpSocketTest, FwmarkIsSetAndCleared) {
  UdpSocket sock = UdpSocket::open(0);
  std::error_code ec = sock.set_fwmark(0x51820);
  if (ec == std::errc::operation_not_permitted) WGP_REQUIRE_ROOT("SO_MARK needs CAP_NET_ADMIN");
  ASSERT_FALSE(ec) << ec.message();
  uint32_t mark = 0;
  socklen_t len = sizeof(mark);
  ASSERT_EQ(::getsockopt(sock.fd(), SOL_SOCKET, SO_MARK, &mark, &len), 0);
  EXPECT_EQ(mark, 0x51820u);
  ASSERT_FALSE(sock.set_fwmark(0));
  ASSERT_EQ(::getsockopt(sock.fd(), SOL_SOCKET, SO_MARK, &mark, &len), 0);
  EXPECT_EQ(mark, 0u);
}

TEST_F(UdpSocketTest, BuffersAreEnlarged) {
  UdpSocket sock = UdpSocket::open(0);
  int rcv = 0, snd = 0;
  socklen_t len = sizeof(int);
  ASSERT_EQ(::getsockopt(sock.fd(), SOL_SOCKET, SO_RCVBUF, &rcv, &len), 0);
  ASSERT_EQ(::getsockopt(sock.fd(), SOL_SOCKET, SO_SNDBUF, &snd, &len), 0);
  if (::geteuid() == 0) {
    // SO_RCVBUFFORCE succeeded: the kernel doubles what was asked.
    EXPECT_EQ(rcv, 2 * UdpSocket::kSocketBufferBytes);
    EXPECT_EQ(snd, 2 * UdpSocket::kSocketBufferBytes);
  } else {
    EXPECT_GT(rcv, 0);
  }
}

TEST_F(UdpSocketTest, BatchOf64OverIpv4) { exchange_batch("127.0.0.1"); }

TEST_F(UdpSocketTest, BatchOf64OverIpv6) { exchange_batch("::1"); }

TEST_F(UdpSocketTest, ReceiveWithNothingWaitingReturnsZero) {
  UdpSocket sock = UdpSocket::open(0);
  DatagramBatch batch(4, 256);
  EXPECT_EQ(sock.receive(batch), 0);
}

TEST_F(UdpSocketTest, ReplyGoesBackToTheReceivedEndpoint) {
  // The endpoint read off a v4 datagram (plain IPv4) must work as a send
  // destination on the dual-stack socket (as ::ffff:127.0.0.1).
  UdpSocket client = UdpSocket::open(0);
  UdpSocket server = UdpSocket::open(0);
  const uint8_t hello[] = {1, 2, 3};
  ASSERT_EQ(client.send_to(endpoint("127.0.0.1", server.port()), hello), 3);
  DatagramBatch batch(8, 256);
  Endpoint from;
  ASSERT_EQ(
      receive_all(server, batch, 1, [&](DatagramBatch& b, size_t i) { from = b.endpoint(i); }), 1u);
  EXPECT_TRUE(from.address.is_v4());
  const uint8_t reply[] = {9, 8, 7, 6};
  ASSERT_EQ(server.send_to(from, reply), 4);
  std::vector<uint8_t> received;
  ASSERT_EQ(receive_all(client, batch, 1,
                        [&](DatagramBatch& b, size_t i) {
                          received.assign(b.data(i).begin(), b.data(i).end());
                          EXPECT_EQ(b.endpoint(i), endpoint("127.0.0.1", server.port()));
                        }),
            1u);
  EXPECT_EQ(received, std::vector<uint8_t>(reply, reply + 4));
}

TEST_F(UdpSocketTest, OversizedDatagramIsMarkedTruncated) {
  UdpSocket a = UdpSocket::open(0);
  UdpSocket b = UdpSocket::open(0);
  std::vector<uint8_t> big(100, 0xab);
  ASSERT_EQ(a.send_to(endpoint("::1", b.port()), big), 100);
  DatagramBatch small(2, 16);
  ASSERT_EQ(receive_all(b, small, 1,
                        [&](DatagramBatch& batch, size_t i) {
                          EXPECT_TRUE(batch.truncated(i));
                          EXPECT_EQ(batch.length(i), 16u);
                        }),
            1u);
}

TEST(DatagramBatch, SetRefusesPayloadLargerThanASlot) {
  DatagramBatch batch(2, 32);
  EXPECT_EQ(batch.capacity(), 2u);
  EXPECT_EQ(batch.slot_size(), 32u);
  std::vector<uint8_t> fits(32, 1), too_big(33, 2);
  EXPECT_TRUE(batch.set(0, endpoint("10.0.0.1", 1), fits));
  EXPECT_EQ(batch.length(0), 32u);
  EXPECT_FALSE(batch.set(1, endpoint("10.0.0.1", 1), too_big));
  EXPECT_EQ(batch.length(1), 0u);
  // Slots do not overlap.
  EXPECT_TRUE(batch.set(1, endpoint("10.0.0.2", 2), std::vector<uint8_t>(32, 3)));
  EXPECT_EQ(batch.data(0)[31], 1);
  EXPECT_EQ(batch.data(1)[0], 3);
}

TEST_F(UdpSocketTest, Ipv4OnlySocketDropsIpv6DestinationsAndSendsTheRest) {
  UniqueFd raw(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(raw.get(), reinterpret_cast<sockaddr*>(&sin), sizeof(sin)), 0);
  UdpSocket v4 = UdpSocket::from_fd(std::move(raw));
  EXPECT_EQ(v4.family(), AF_INET);
  EXPECT_NE(v4.port(), 0);
  EXPECT_TRUE(::fcntl(v4.fd(), F_GETFL) & O_NONBLOCK);

  UdpSocket sink = UdpSocket::open(0);
  DatagramBatch out(4, 64);
  const uint8_t p[] = {42};
  ASSERT_TRUE(out.set(0, endpoint("127.0.0.1", sink.port()), p));
  ASSERT_TRUE(out.set(1, endpoint("::1", sink.port()), p));
  ASSERT_TRUE(out.set(2, endpoint("127.0.0.1", sink.port()), p));
  int dropped = 0, last_error = 0;
  EXPECT_EQ(v4.send(out, 3, &dropped, &last_error), 3);
  EXPECT_EQ(dropped, 1);
  EXPECT_EQ(last_error, EAFNOSUPPORT);
  EXPECT_EQ(v4.send_to(endpoint("::1", sink.port()), p), -EAFNOSUPPORT);
  DatagramBatch in(4, 64);
  EXPECT_EQ(receive_all(sink, in, 2, [](DatagramBatch&, size_t) {}), 2u);
}

TEST(UdpSocketFromFd, RefusesWhatIsNotAnIpDatagramSocket) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  UniqueFd w(fds[1]);
  EXPECT_THROW(UdpSocket::from_fd(UniqueFd(fds[0])), std::system_error);
  EXPECT_THROW(UdpSocket::from_fd(UniqueFd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0))),
               std::system_error);
  EXPECT_THROW(UdpSocket::from_fd(UniqueFd()), std::system_error);
}

// --- offloads: UDP_SEGMENT on send, UDP_GRO on receive ---------------------

// The rules by which the node packs consecutive datagrams into one GSO slot.
TEST(DatagramBatch, AppendJoinsOnlyEqualSizedDatagramsToTheSameEndpoint) {
  DatagramBatch batch(2, 65535);
  const Endpoint to = endpoint("192.0.2.1", 51820);
  std::vector<uint8_t> full(100, 1), short_one(60, 2), bigger(101, 3);
  ASSERT_TRUE(batch.set(0, to, full));
  EXPECT_EQ(batch.segment_size(0), 100u);
  EXPECT_TRUE(batch.append(0, to, full));
  EXPECT_FALSE(batch.append(0, endpoint("192.0.2.2", 51820), full)) << "other endpoint";
  EXPECT_FALSE(batch.append(0, endpoint("192.0.2.1", 51821), full)) << "other port";
  EXPECT_FALSE(batch.append(0, to, bigger)) << "larger than the segment size";
  EXPECT_FALSE(batch.append(0, to, {})) << "empty";
  EXPECT_TRUE(batch.append(0, to, short_one)) << "a shorter one may come last";
  EXPECT_FALSE(batch.append(0, to, full)) << "nothing after the shorter one";
  EXPECT_FALSE(batch.append(0, to, short_one));
  EXPECT_EQ(batch.length(0), 260u);
  EXPECT_EQ(batch.segment_size(0), 100u);

  // At most kMaxSegments datagrams, and at most kMaxSegmentedBytes.
  ASSERT_TRUE(batch.set(1, to, ByteView(full.data(), 10)));
  size_t count = 1;
  while (batch.append(1, to, ByteView(full.data(), 10))) ++count;
  EXPECT_EQ(count, DatagramBatch::kMaxSegments);
  std::vector<uint8_t> large(1452, 4);
  ASSERT_TRUE(batch.set(1, to, large));
  count = 1;
  while (batch.append(1, to, large)) ++count;
  EXPECT_EQ(count, DatagramBatch::kMaxSegmentedBytes / 1452);
  EXPECT_LE(batch.length(1), DatagramBatch::kMaxSegmentedBytes);
}

TEST(DatagramBatch, ReserveGivesTheSlotsBytesWithoutCopying) {
  DatagramBatch batch(1, 4096);
  const Endpoint to = endpoint("2001:db8::1", 9);
  MutableByteView first = batch.reserve(0, to, 300);
  ASSERT_EQ(first.size(), 300u);
  std::memset(first.data(), 0xaa, first.size());
  MutableByteView second = batch.reserve_append(0, to, 300);
  ASSERT_EQ(second.size(), 300u);
  EXPECT_EQ(second.data(), first.data() + 300);
  std::memset(second.data(), 0xbb, second.size());
  EXPECT_EQ(batch.length(0), 600u);
  EXPECT_EQ(batch.data(0)[299], 0xaa);
  EXPECT_EQ(batch.data(0)[300], 0xbb);
  EXPECT_TRUE(batch.reserve(0, to, 4097).empty()) << "larger than a slot";
}

// Sends 3 slots — 20 segments, 7 segments with a short last one, and a
// single datagram — and checks the receiver gets every datagram, in order,
// with its bytes, whether or not it coalesces them (GRO).
void send_segmented(bool sender_gso, bool receiver_gro, const char* loopback) {
  UdpSocket a = UdpSocket::open(0);
  UdpSocket b = UdpSocket::open(0);
  if (!sender_gso) a.disable_offloads();
  if (!receiver_gro) b.disable_offloads();
  EXPECT_EQ(a.gso(), sender_gso);  // the kernels we run on (>= 5.0) have both
  EXPECT_EQ(b.gro(), receiver_gro);
  const Endpoint to = endpoint(loopback, b.port());
  DatagramBatch out(3), in(64);
  std::vector<std::vector<uint8_t>> sent;
  auto datagram = [&](size_t size) {
    std::vector<uint8_t> d(size);
    for (size_t k = 0; k < size; ++k) d[k] = uint8_t(sent.size() * 31 + k);
    sent.push_back(d);
    return sent.back();
  };
  ASSERT_TRUE(out.set(0, to, datagram(1000)));
  for (int k = 1; k < 20; ++k) ASSERT_TRUE(out.append(0, to, datagram(1000)));
  ASSERT_TRUE(out.set(1, to, datagram(500)));
  for (int k = 1; k < 6; ++k) ASSERT_TRUE(out.append(1, to, datagram(500)));
  ASSERT_TRUE(out.append(1, to, datagram(123)));
  ASSERT_TRUE(out.set(2, to, datagram(77)));
  int dropped = 0;
  ASSERT_EQ(a.send(out, 3, &dropped), 3);
  EXPECT_EQ(dropped, 0);

  std::vector<std::vector<uint8_t>> received;
  size_t coalesced_slots = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (received.size() < sent.size() && std::chrono::steady_clock::now() < deadline) {
    pollfd pfd{b.fd(), POLLIN, 0};
    if (::poll(&pfd, 1, 100) <= 0) continue;
    int n = b.receive(in);
    ASSERT_GE(n, 0);
    for (int i = 0; i < n; ++i) {
      ByteView all = in.data(i);
      EXPECT_EQ(in.endpoint(i), endpoint(loopback, a.port()));
      size_t segment = in.segment_size(i);
      if (!receiver_gro) {
        EXPECT_EQ(segment, 0u) << "GRO off: one datagram per slot";
      }
      if (segment == 0) segment = all.size();
      if (segment < all.size()) ++coalesced_slots;
      for (size_t off = 0; off < all.size(); off += segment)
        received.emplace_back(all.begin() + off, all.begin() + std::min(all.size(), off + segment));
    }
  }
  EXPECT_EQ(received, sent);
  // A segmented send reaches a GRO socket on loopback still in one piece.
  if (sender_gso && receiver_gro) {
    EXPECT_EQ(coalesced_slots, 2u);
  }
}

TEST_F(UdpSocketTest, SegmentedSendArrivesWholeWithGroOverIpv4) {
  send_segmented(true, true, "127.0.0.1");
}
TEST_F(UdpSocketTest, SegmentedSendArrivesWholeWithGroOverIpv6) {
  send_segmented(true, true, "::1");
}
TEST_F(UdpSocketTest, SegmentedSendArrivesAsDatagramsWithoutGro) {
  send_segmented(true, false, "127.0.0.1");
}
// A segment larger than the path MTU makes the kernel refuse the GSO send
// (EINVAL); the slot must then go datagram by datagram (the kernel fragments
// each), and GSO stays on for the next slot.
TEST_F(UdpSocketTest, SegmentsOverThePathMtuFallBackToSingleSends) {
  // Only ever the MTU of our own namespace's loopback: never the host's, also
  // for a root that may change it but may not unshare (no CAP_SYS_ADMIN).
  if (!use_private_loopback())
    WGP_REQUIRE_SETUP_FAILED(
        "needs a private loopback to change its MTU (root with "
        "CAP_SYS_ADMIN): unshare(CLONE_NEWNET) was refused");
  int old_mtu = set_loopback_mtu(1280);
  ASSERT_GT(old_mtu, 0);
  UdpSocket a = UdpSocket::open(0);
  UdpSocket b = UdpSocket::open(0);
  b.disable_offloads();
  ASSERT_TRUE(a.gso());
  DatagramBatch out(2), in(64);
  const Endpoint to = endpoint("127.0.0.1", b.port());
  std::vector<uint8_t> big(1400, 0x5a), small(500, 0x33);
  ASSERT_TRUE(out.set(0, to, big));
  for (int k = 1; k < 5; ++k) ASSERT_TRUE(out.append(0, to, big));
  ASSERT_TRUE(out.set(1, to, small));
  for (int k = 1; k < 3; ++k) ASSERT_TRUE(out.append(1, to, small));
  int dropped = 0;
  EXPECT_EQ(a.send(out, 2, &dropped), 2);
  EXPECT_EQ(dropped, 0);
  EXPECT_TRUE(a.gso()) << "EINVAL is about this slot, not the kernel";
  std::vector<size_t> sizes;
  receive_all(b, in, 8, [&](DatagramBatch& batch, size_t i) { sizes.push_back(batch.length(i)); });
  set_loopback_mtu(old_mtu);
  EXPECT_EQ(sizes, (std::vector<size_t>{1400, 1400, 1400, 1400, 1400, 500, 500, 500}));
}

TEST_F(UdpSocketTest, SegmentedSlotsGoOneByOneWithoutGso) {
  send_segmented(false, true, "::1");
  send_segmented(false, false, "127.0.0.1");
}

}  // namespace
}  // namespace wgp

namespace wgp {
namespace {

// The TTL (hop limit) a plain receiving socket read `payload`'s datagram
// with; -1 when none came within 3 s.
int received_hop_limit(int family, uint16_t& port) {
  UniqueFd rx(::socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  int one = 1;
  if (family == AF_INET)
    ::setsockopt(rx.get(), IPPROTO_IP, IP_RECVTTL, &one, sizeof one);
  else
    ::setsockopt(rx.get(), IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &one, sizeof one);
  sockaddr_storage ss{};
  socklen_t len = Endpoint{*IpAddress::parse(family == AF_INET ? "127.0.0.1" : "::1"), 0}
                      .to_sockaddr(ss);
  if (::bind(rx.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) return -1;
  len = sizeof ss;
  ::getsockname(rx.get(), reinterpret_cast<sockaddr*>(&ss), &len);
  port = ntohs(family == AF_INET ? reinterpret_cast<sockaddr_in*>(&ss)->sin_port
                                 : reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
  return rx.release();
}

int read_hop_limit(int fd) {
  pollfd pfd{fd, POLLIN, 0};
  if (::poll(&pfd, 1, 3000) <= 0) return -1;
  uint8_t data[64];
  alignas(cmsghdr) char control[256];
  iovec iov{data, sizeof data};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  if (::recvmsg(fd, &msg, 0) < 0) return -1;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
    if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL) ||
        (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT)) {
      int v = 0;
      std::memcpy(&v, CMSG_DATA(c), sizeof v);
      return v;
    }
  return -1;
}

// An opener (Device::send_opener) leaves with its TTL set, over IPv4 from
// the dual-stack socket (a v4-mapped destination) and over IPv6.
TEST_F(UdpSocketTest, HopLimitedSendSetsTheTtl) {
  UdpSocket tx = UdpSocket::open(0);
  for (int family : {AF_INET, AF_INET6}) {
    uint16_t port = 0;
    UniqueFd rx(received_hop_limit(family, port));
    ASSERT_TRUE(rx) << family;
    const char* to = family == AF_INET ? "127.0.0.1" : "::1";
    ASSERT_TRUE(tx.send_hop_limited(endpoint(to, port), {}, 2));
    EXPECT_EQ(read_hop_limit(rx.get()), 2) << to;
    // And an ordinary send is not limited.
    const uint8_t one_byte[] = {1};
    ASSERT_EQ(tx.send_to(endpoint(to, port), one_byte), 1);
    EXPECT_GT(read_hop_limit(rx.get()), 2) << to;
  }
}

}  // namespace
}  // namespace wgp
