#include "node/keeper_link.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <cerrno>
#include <csignal>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>

#include "node/keeper.h"

namespace wgp {

namespace {

UniqueFd duplicate(int fd) {
  UniqueFd copy(fcntl(fd, F_DUPFD_CLOEXEC, 0));
  if (!copy) throw std::system_error(errno, std::generic_category(), "keeper channel: dup");
  return copy;
}

// Reads the keeper's one-byte datagrams; owned by its pending read, so it
// lives exactly as long as the io_context has work for it.
class SignalReader : public std::enable_shared_from_this<SignalReader> {
 public:
  SignalReader(boost::asio::io_context& io, UniqueFd fd, std::function<void(int)> on_signal)
      : stream_(io, fd.release()), on_signal_(std::move(on_signal)) {}

  void read() {
    stream_.async_read_some(boost::asio::buffer(buffer_),
                            [self = shared_from_this()](boost::system::error_code ec, size_t n) {
                              if (ec == boost::asio::error::operation_aborted) return;
                              if (ec || n == 0) return self->on_signal_(0);  // keeper gone
                              int signal = static_cast<unsigned char>(self->buffer_[0]);
                              if (signal == SIGHUP || signal == SIGTERM || signal == SIGINT)
                                self->on_signal_(signal);
                              self->read();
                            });
  }

 private:
  boost::asio::posix::stream_descriptor stream_;
  std::function<void(int)> on_signal_;
  std::array<char, 16> buffer_{};
};

}  // namespace

KeeperLink::KeeperLink(UniqueFd channel, pid_t keeper)
    : channel_(std::move(channel)), keeper_(keeper) {}

void KeeperLink::watch_keeper() const {
  if (prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0) != 0)
    throw std::system_error(errno, std::generic_category(), "keeper: parent-death signal");
  // The keeper may have died before the request: then we were re-parented.
  if (getppid() != keeper_)
    throw std::runtime_error("keeper (pid " + std::to_string(keeper_) + ") exited");
}

void KeeperLink::socket_created() const {
  (void)!::send(channel_.get(), kSocketCreatedMessage.data(), kSocketCreatedMessage.size(),
                MSG_NOSIGNAL);
}

service::Notifier KeeperLink::notifier() const {
  return service::Notifier::from_connected(duplicate(channel_.get()));
}

void KeeperLink::listen(boost::asio::io_context& io, std::function<void(int)> on_signal) const {
  std::make_shared<SignalReader>(io, duplicate(channel_.get()), std::move(on_signal))->read();
}

}  // namespace wgp
