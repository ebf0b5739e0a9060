#include "control/uapi_server.h"

#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <boost/asio.hpp>
#include <cstdlib>
#include <stdexcept>
#include <unordered_map>

#include "control/uapi_protocol.h"

namespace wgp::control {

namespace asio = boost::asio;
using Local = asio::local::stream_protocol;

std::filesystem::path socket_directory_from_environment() {
  const char* dir = std::getenv("WGPUNCH_RUN_DIR");
  return dir && *dir ? std::filesystem::path(dir) : std::filesystem::path(kDefaultSocketDirectory);
}

std::filesystem::path uapi_socket_path(const std::filesystem::path& directory,
                                       const std::string& interface_name) {
  return directory / (interface_name + ".sock");
}

std::string already_running_message(const std::string& interface_name,
                                    const std::filesystem::path& socket) {
  return "interface " + interface_name + " is already running: " + socket.string() +
         " answers; stop that one, or start this one under another name (--interface NAME)";
}

namespace {

std::error_code last_error() { return {errno, std::generic_category()}; }

// Creates the socket directory like wireguard-go (MkdirAll 0755): the mode is
// only chosen when we create it; an existing directory is left as it is.
void make_socket_directory(const std::filesystem::path& dir) {
  std::error_code ec;
  if (std::filesystem::is_directory(dir, ec)) return;
  if (!std::filesystem::create_directories(dir, ec) && ec) {
    throw std::system_error(ec, "cannot create " + dir.string());
  }
  ::chmod(dir.c_str(), 0755);  // create_directories applied the umask
}

// Binds under umask 077 so that the socket is never, even for an instant,
// reachable by other users. umask is per process: this runs during start-up,
// before any other thread could create files.
std::error_code bind_private(Local::acceptor& acceptor, const Local::endpoint& endpoint) {
  boost::system::error_code ec;
  mode_t old = ::umask(077);
  acceptor.bind(endpoint, ec);
  ::umask(old);
  return ec ? std::error_code(ec.value(), std::generic_category()) : std::error_code();
}

// True when a live server answers on `path` (the interface is already running).
bool socket_answers(asio::io_context& io, const std::filesystem::path& path) {
  Local::socket probe(io);
  boost::system::error_code ec;
  probe.connect(Local::endpoint(path.string()), ec);
  return !ec;
}

}  // namespace

// One connection: moves bytes between the socket and its UapiProtocol. It
// keeps itself alive through the handlers it has pending; the server holds a
// weak reference only to close it on shutdown.
class UapiSession : public std::enable_shared_from_this<UapiSession> {
 public:
  UapiSession(Local::socket socket, DeviceControl& device, std::function<void()> on_end)
      : socket_(std::move(socket)),
        protocol_(device, kMaxUapiLine, kMaxUapiRequest),
        on_end_(std::move(on_end)) {}

  void start() { advance(); }

  void close() {
    boost::system::error_code ignored;
    socket_.close(ignored);
    if (on_end_) std::exchange(on_end_, nullptr)();
  }

 private:
  void advance() {
    if (!socket_.is_open()) return;  // closed while a handler was queued
    switch (protocol_.step()) {
      case UapiProtocol::Status::kNeedInput:
        return read();
      case UapiProtocol::Status::kReply:
        return write(protocol_.take_reply());
      case UapiProtocol::Status::kClose:
        return close();
    }
  }

  void read() {
    socket_.async_read_some(asio::buffer(input_),
                            [self = shared_from_this()](boost::system::error_code ec, size_t n) {
                              if (ec) return self->close();
                              if (!self->socket_.is_open()) return;
                              self->protocol_.receive(std::string_view(self->input_.data(), n));
                              self->advance();
                            });
  }

  void write(std::string reply) {
    output_ = std::move(reply);
    asio::async_write(socket_, asio::buffer(output_),
                      [self = shared_from_this()](boost::system::error_code ec, size_t) {
                        if (ec) return self->close();
                        self->advance();
                      });
  }

  Local::socket socket_;
  UapiProtocol protocol_;
  std::function<void()> on_end_;
  std::array<char, 4096> input_;
  std::string output_;
};

class UapiServer::Impl : public std::enable_shared_from_this<Impl> {
 public:
  Impl(asio::io_context& io, std::string name, DeviceControl& device, std::filesystem::path dir)
      : io_(io),
        name_(std::move(name)),
        device_(device),
        path_(uapi_socket_path(dir, name_)),
        acceptor_(io),
        inotify_(io) {
    make_socket_directory(dir);
    listen();
  }

  void start() {
    accept();
    watch();
  }

  void listen() {
    Local::endpoint endpoint(path_.string());
    acceptor_.open(endpoint.protocol());
    std::error_code ec = bind_private(acceptor_, endpoint);
    if (ec == std::errc::address_in_use) {
      if (socket_answers(io_, path_)) {
        throw std::runtime_error(already_running_message(name_, path_));
      }
      ::unlink(path_.c_str());  // stale: its process died without cleaning up
      ec = bind_private(acceptor_, endpoint);
    }
    if (ec) throw std::system_error(ec, "cannot bind " + path_.string());
    acceptor_.listen();
    struct stat st {};
    if (::stat(path_.c_str(), &st) == 0) {
      inode_ = st.st_ino;
      device_id_ = st.st_dev;
    }
  }

  bool still_ours() const {
    struct stat st {};
    return ::lstat(path_.c_str(), &st) == 0 && st.st_ino == inode_ && st.st_dev == device_id_;
  }

  void accept() {
    acceptor_.async_accept(
        [self = shared_from_this()](boost::system::error_code ec, Local::socket socket) {
          if (self->stopped_) return;
          if (!ec) self->start_session(std::move(socket));
          if (ec == asio::error::operation_aborted) return;
          self->accept();
        });
  }

  void start_session(Local::socket socket) {
    if (sessions_.size() >= kMaxUapiSessions) return;  // dropping `socket` closes it
    uint64_t id = next_id_++;
    std::weak_ptr<Impl> weak = weak_from_this();
    auto session = std::make_shared<UapiSession>(std::move(socket), device_, [weak, id] {
      if (auto self = weak.lock()) self->sessions_.erase(id);
    });
    sessions_.emplace(id, session);
    session->start();
  }

  // Watches the socket file like wireguard-go (IN_ATTRIB fires when its link
  // count drops): when it is gone or replaced, the interface should go down.
  void watch() {
    int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0) return;  // no inotify: the feature is best effort
    if (::inotify_add_watch(fd, path_.c_str(), IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF) < 0) {
      ::close(fd);
      return;
    }
    inotify_.assign(fd);
    read_inotify();
  }

  void read_inotify() {
    inotify_.async_read_some(asio::buffer(inotify_buffer_),
                             [self = shared_from_this()](boost::system::error_code ec, size_t) {
                               if (ec || self->stopped_) return;
                               if (!self->still_ours()) {
                                 self->deleted_ = true;
                                 boost::system::error_code ignored;
                                 self->inotify_.close(ignored);
                                 if (self->on_deleted_) std::exchange(self->on_deleted_, nullptr)();
                                 return;
                               }
                               self->read_inotify();
                             });
  }

  void shutdown() {
    if (stopped_) return;
    stopped_ = true;
    boost::system::error_code ignored;
    inotify_.close(ignored);
    acceptor_.close(ignored);
    // Close every connection; each removes itself from sessions_.
    auto sessions = std::move(sessions_);
    for (auto& [id, weak] : sessions) {
      if (auto session = weak.lock()) session->close();
    }
    if (!deleted_ && still_ours()) ::unlink(path_.c_str());
  }

  asio::io_context& io_;
  std::string name_;
  DeviceControl& device_;
  std::filesystem::path path_;
  Local::acceptor acceptor_;
  asio::posix::stream_descriptor inotify_;
  std::array<char, 4096> inotify_buffer_;
  ino_t inode_ = 0;
  dev_t device_id_ = 0;
  bool stopped_ = false;
  bool deleted_ = false;
  std::function<void()> on_deleted_;
  std::unordered_map<uint64_t, std::weak_ptr<UapiSession>> sessions_;
  uint64_t next_id_ = 0;
};

UapiServer::UapiServer(asio::io_context& io, std::string interface_name, DeviceControl& device,
                       std::optional<std::filesystem::path> directory)
    : impl_(std::make_shared<Impl>(io, std::move(interface_name), device,
                                   directory.value_or(kDefaultSocketDirectory))) {
  impl_->start();
}

UapiServer::~UapiServer() { shutdown(); }

const std::filesystem::path& UapiServer::socket_path() const { return impl_->path_; }

std::error_code UapiServer::chown_socket(uid_t uid, gid_t gid) {
  if (::chown(impl_->path_.c_str(), uid, gid) != 0) return last_error();
  return {};
}

void UapiServer::on_socket_deleted(std::function<void()> callback) {
  impl_->on_deleted_ = std::move(callback);
}

void UapiServer::shutdown() { impl_->shutdown(); }

size_t UapiServer::session_count() const { return impl_->sessions_.size(); }

}  // namespace wgp::control
