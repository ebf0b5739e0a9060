// DnsTcpServer's budgets (issue 17 item 8) over real loopback TCP: one party
// gets kMaxPerParty of the connections; an answer of any size is written as
// long as the reader keeps taking it, a stalled reader is dropped; and an
// accept that fails for want of descriptors is retried after a pause, not in
// a spin. The server runs its io_context on a thread; the test is a blocking
// client. Any 127/8 address is this host's loopback: distinct clients.
#include "node/dns_tcp_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <future>
#include <thread>

namespace wgp {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

class DnsTcpServerTest : public ::testing::Test {
 protected:
  void start(size_t answer_size) {
    answer_.assign(answer_size, 0x5a);
    server_ = std::make_unique<DnsTcpServer>(
        io_, std::vector<IpAddress>{*IpAddress::parse("127.0.0.1")}, 0, std::string(), nullptr,
        [this](ByteView, const IpAddress&, std::vector<uint8_t>& framed) {
          ++answered_;
          framed = answer_;
        });
    ASSERT_EQ(server_->listening(), 1u);
    thread_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    asio::post(io_, [this] { server_->shutdown(); });
    io_.stop();
    if (thread_.joinable()) thread_.join();
  }
  // A connection from `from`; a small receive buffer (before the handshake,
  // so the window stays small) makes the server wait for the reader.
  tcp::socket connect(const char* from, int receive_buffer = 0) {
    tcp::socket s(client_io_);
    s.open(tcp::v4());
    if (receive_buffer) s.set_option(asio::socket_base::receive_buffer_size(receive_buffer));
    s.bind(tcp::endpoint(asio::ip::make_address(from), 0));
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server_->port()));
    return s;
  }
  // A query (any 12+ bytes will do: the test's stream answers everything).
  static void ask(tcp::socket& s) {
    std::array<uint8_t, 14> q{0, 12};
    asio::write(s, asio::buffer(q));
  }
  // `fn()` run on the server's thread, its result back here.
  template <typename Fn>
  auto on_server(Fn fn) {
    std::promise<decltype(fn())> result;
    asio::post(io_, [&] { result.set_value(fn()); });
    return result.get_future().get();
  }
  // Whether the server answers `s` (reads the first bytes of the answer).
  static bool answered(tcp::socket& s) {
    ask(s);
    std::array<uint8_t, 4> got{};
    boost::system::error_code ec;
    asio::read(s, asio::buffer(got), ec);
    return !ec;
  }

  asio::io_context io_{1};
  asio::io_context client_io_;
  std::unique_ptr<DnsTcpServer> server_;
  std::thread thread_;
  std::vector<uint8_t> answer_;
  std::atomic<int> answered_{0};
};

TEST_F(DnsTcpServerTest, OnePartyGetsItsShareOfTheConnections) {
  start(16);
  std::vector<tcp::socket> mine;
  for (size_t i = 0; i < DnsTcpServer::kMaxPerParty; ++i) {
    mine.push_back(connect("127.0.0.2"));
    EXPECT_TRUE(answered(mine.back())) << "connection " << i;
  }
  tcp::socket one_more = connect("127.0.0.2");
  EXPECT_FALSE(answered(one_more)) << "a party beyond its share was served";
  tcp::socket other = connect("127.0.0.3");
  EXPECT_TRUE(answered(other));
  EXPECT_GE(on_server([this] { return server_->refused_over_share(); }), 1u);
}

TEST_F(DnsTcpServerTest, ALongAnswerGoesOnWhileTheReaderKeepsUp) {
  // 8 MiB, read 512 KiB every 100 ms (1.6 s in all) with a 500 ms deadline:
  // each chunk's progress renews it.
  start(8 << 20);
  server_->set_idle_timeout(500ms);
  tcp::socket s = connect("127.0.0.4", 16 << 10);
  ask(s);
  std::vector<uint8_t> buf(512 << 10);
  size_t total = 0;
  boost::system::error_code ec;
  while (total < answer_.size() && !ec) {
    total +=
        asio::read(s, asio::buffer(buf.data(), std::min(buf.size(), answer_.size() - total)), ec);
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(total, answer_.size()) << ec.message();
}

TEST_F(DnsTcpServerTest, AStalledReaderIsDropped) {
  start(8 << 20);
  server_->set_idle_timeout(300ms);
  tcp::socket s = connect("127.0.0.5", 16 << 10);
  ask(s);
  std::this_thread::sleep_for(1500ms);  // takes nothing: the server gives up on it
  std::vector<uint8_t> buf(1 << 20);
  size_t total = 0;
  boost::system::error_code ec;
  while (!ec) total += s.read_some(asio::buffer(buf), ec);
  EXPECT_LT(total, answer_.size());
}

// Out of descriptors: the listener's accept fails with EMFILE while a
// connection waits. It is tried again a few times a second, not in a loop.
// While descriptors are out this thread makes system calls only: UBSan's
// check of an object's dynamic type, the first time it meets one, probes
// memory through a pipe, which then fails and reads as "invalid vptr" (the
// shared state of on_server's promise did). Failed accepts are counted by
// the server and read after the descriptors are back (none fail then).
TEST_F(DnsTcpServerTest, AFailedAcceptIsRetriedAfterAPause) {
  start(16);
  tcp::socket waiting(client_io_);
  waiting.open(tcp::v4());
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(server_->port());
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  rlimit old{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &old), 0);
  // Use up every descriptor under a lowered limit, then connect.
  int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(null, 0);
  std::vector<int> hogs;
  hogs.reserve(256);
  rlimit low = old;
  low.rlim_cur = 256;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
  for (int fd; (fd = ::fcntl(null, F_DUPFD_CLOEXEC, 0)) >= 0;) hogs.push_back(fd);
  int connected = ::connect(waiting.native_handle(), reinterpret_cast<sockaddr*>(&to), sizeof to);
  int connect_errno = errno;
  std::this_thread::sleep_for(500ms);
  for (int fd : hogs) close(fd);
  close(null);
  setrlimit(RLIMIT_NOFILE, &old);
  uint64_t errors = on_server([this] { return server_->accept_errors(); });
  // The kernel took it into the backlog.
  ASSERT_EQ(connected, 0) << std::strerror(connect_errno);
  EXPECT_GE(errors, 1u) << "the accept never failed: the test did not run out of descriptors";
  EXPECT_LE(errors, 10u) << errors << " failed accepts in 500 ms: a spin";
  // With descriptors back, the waiting connection is served.
  EXPECT_TRUE(answered(waiting));
}

}  // namespace
}  // namespace wgp
