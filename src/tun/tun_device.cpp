#include "tun/tun_device.h"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <system_error>

namespace wgp {
namespace {

[[noreturn]] void throw_errno(int err, const std::string& what) {
  throw std::system_error(err, std::generic_category(), what);
}

// A system_error whose message goes on after the errno's text, to say what
// to do about it; code() stays the errno for callers that test it.
class ErrorWithAdvice : public std::system_error {
 public:
  ErrorWithAdvice(int err, const std::string& what, const std::string& advice)
      : std::system_error(err, std::generic_category(), what),
        message_(std::string(std::system_error::what()) + " (" + advice + ")") {}
  const char* what() const noexcept override { return message_.c_str(); }

 private:
  std::string message_;
};

// Why an unprivileged process may not open the TUN control device, and what
// helps: the node's mode when it shuts users out (some systems ship it 0600
// instead of the usual 0666), else nothing to add.
std::string advice_for_denied_open(const char* path) {
  struct stat st {};
  if (::stat(path, &st) != 0 || ::geteuid() == 0) return {};
  unsigned mode = st.st_mode & 07777;
  if ((mode & 0006) == 0006) return {};
  char octal[8];
  std::snprintf(octal, sizeof octal, "%04o", mode);
  return std::string(path) + " is mode " + octal + ", so only its owner (uid " +
         std::to_string(st.st_uid) + ")" + ((mode & 0060) ? " and group" : "") +
         " may open it: start wgpunch as root with --user USER to drop privileges after "
         "setup, or have the administrator make it mode 0666 (the usual default)";
}

// Debian 12's headers predate TUN's UDP segmentation offload (Linux 6.2).
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#define TUN_F_USO6 0x40
#endif

// The offload sets tried in order: everything, then without USO for kernels
// before 6.2. TUN_F_CSUM is required by the others.
constexpr unsigned kOffloadsWithUso =
    TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_USO4 | TUN_F_USO6;
constexpr unsigned kOffloadsTcpOnly = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;

// The 10-byte struct virtio_net_hdr; TUN's default, set explicitly because a
// persistent device may have been left with another size.
constexpr int kVnetHeaderBytes = 10;

// Opens /dev/net/tun and attaches it to `name` with `flags`. Attaching to a
// persistent device replaces its feature flags with these, so an `ip tuntap
// add ... vnet_hdr` device is tamed too. Returns the fd and the actual name.
UniqueFd attach(const std::string& name, int flags, const std::string& what, std::string& actual) {
  constexpr const char* kControlDevice = "/dev/net/tun";
  UniqueFd fd(::open(kControlDevice, O_RDWR | O_CLOEXEC | O_NONBLOCK));
  if (!fd) {
    int err = errno;
    std::string advice =
        err == EACCES || err == EPERM ? advice_for_denied_open(kControlDevice) : "";
    if (!advice.empty()) throw ErrorWithAdvice(err, what + ": " + kControlDevice, advice);
    throw_errno(err, what + ": " + kControlDevice);
  }
  ifreq ifr{};
  ifr.ifr_flags = static_cast<short>(flags);
  std::memcpy(ifr.ifr_name, name.data(), name.size());
  if (::ioctl(fd.get(), TUNSETIFF, &ifr) < 0) {
    int err = errno;
    // EPERM: neither CAP_NET_ADMIN nor the owner of a persistent device.
    // EINVAL/EBUSY: the name is a TAP, another kind of link, or multi-queue.
    throw_errno(err, what);
  }
  // The kernel writes back the actual name (matters when it picked one).
  actual.assign(ifr.ifr_name, strnlen(ifr.ifr_name, IFNAMSIZ));
  return fd;
}

// Turns on the vnet header and the largest offload set the kernel takes.
// Returns the TUN_F_* flags accepted, or 0 when none was (the caller then
// reopens the device plain).
unsigned enable_offloads(int fd) {
  int size = kVnetHeaderBytes;
  if (::ioctl(fd, TUNSETVNETHDRSZ, &size) < 0) return 0;
  for (unsigned flags : {kOffloadsWithUso, kOffloadsTcpOnly}) {
    if (::ioctl(fd, TUNSETOFFLOAD, static_cast<unsigned long>(flags)) == 0) return flags;
  }
  return 0;
}

bool is_retryable(int err) { return err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS; }

}  // namespace

TunDevice TunDevice::create(const std::string& name, bool offloads) {
  const std::string what = "open TUN device " + (name.empty() ? std::string("(any)") : name);
  if (name.size() >= IFNAMSIZ) throw_errno(EINVAL, what + " (name longer than 15 characters)");

  std::string actual;
  if (offloads) {
    UniqueFd fd = attach(name, IFF_TUN | IFF_NO_PI | IFF_VNET_HDR, what, actual);
    if (unsigned accepted = enable_offloads(fd.get()))
      return TunDevice(std::move(fd), std::move(actual), accepted);
    // Refused: closing removes a device we created; attach again without.
  }
  UniqueFd fd = attach(name, IFF_TUN | IFF_NO_PI, what, actual);
  return TunDevice(std::move(fd), std::move(actual));
}

TunDevice TunDevice::from_fd(UniqueFd fd, std::string name) {
  if (!fd) throw_errno(EBADF, "adopt TUN device " + name);
  TunDevice dev(std::move(fd), std::move(name));
  dev.set_nonblocking(true);
  return dev;
}

std::vector<const char*> TunDevice::offload_names() const {
  static constexpr std::pair<unsigned, const char*> kNames[] = {{TUN_F_CSUM, "tun-csum"},
                                                                {TUN_F_TSO4, "tun-tso4"},
                                                                {TUN_F_TSO6, "tun-tso6"},
                                                                {TUN_F_USO4, "tun-uso4"},
                                                                {TUN_F_USO6, "tun-uso6"}};
  std::vector<const char*> names;
  for (auto [flag, name] : kNames)
    if (offload_flags_ & flag) names.push_back(name);
  return names;
}

int TunDevice::ifindex() const {
  unsigned int index = if_nametoindex(name_.c_str());
  if (index == 0) throw_errno(errno, "interface index of " + name_);
  return static_cast<int>(index);
}

void TunDevice::set_nonblocking(bool on) {
  int flags = ::fcntl(fd_.get(), F_GETFL);
  if (flags < 0) throw_errno(errno, "fcntl on TUN device " + name_);
  flags = on ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
  if (::fcntl(fd_.get(), F_SETFL, flags) < 0) throw_errno(errno, "fcntl on TUN device " + name_);
}

ssize_t TunDevice::read(MutableByteView buf) {
  for (;;) {
    ssize_t n = ::read(fd_.get(), buf.data(), buf.size());
    if (n >= 0) return n;
    if (errno != EINTR) return -errno;
  }
}

ssize_t TunDevice::write(ByteView packet) {
  for (;;) {
    ssize_t n = ::write(fd_.get(), packet.data(), packet.size());
    if (n >= 0) return n;
    if (errno != EINTR) return -errno;
  }
}

int TunDevice::read_batch(std::span<const MutableByteView> bufs, std::span<size_t> lengths) {
  const size_t max = std::min(bufs.size(), lengths.size());
  size_t count = 0;
  // A TUN descriptor yields one packet (or, with offloads, one super-packet)
  // per read(2); there is no readv-of-many for it, so the batch is a bounded loop.
  while (count < max) {
    ssize_t n = read(bufs[count]);
    if (n < 0) {
      if (count == 0 && !is_retryable(static_cast<int>(-n))) return static_cast<int>(n);
      break;
    }
    lengths[count++] = static_cast<size_t>(n);
  }
  return static_cast<int>(count);
}

namespace {

// write_batch and write_gather: frames in order, each written by `write_one`
// (bytes written or -errno); see TunPort::write_batch for what is consumed.
template <typename Frames, typename WriteOne>
int write_frames(const Frames& frames, int* refused, int* last_error, WriteOne write_one) {
  int consumed = 0;
  for (const auto& frame : frames) {
    ssize_t n = write_one(frame);
    if (n < 0) {
      int err = static_cast<int>(-n);
      if (is_retryable(err)) break;
      if (refused) ++*refused;
      if (last_error) *last_error = err;
    }
    ++consumed;
  }
  return consumed;
}

}  // namespace

int TunDevice::write_batch(std::span<const ByteView> packets, int* refused, int* last_error) {
  return write_frames(packets, refused, last_error, [this](ByteView p) { return write(p); });
}

int TunDevice::write_gather(std::span<const std::span<const ByteView>> frames, int* refused,
                            int* last_error) {
  return write_frames(frames, refused, last_error, [this](std::span<const ByteView> pieces) {
    constexpr size_t kMaxPieces = 1024;  // IOV_MAX
    if (pieces.size() > kMaxPieces) return ssize_t(-EMSGSIZE);
    iovec iov[kMaxPieces];
    for (size_t i = 0; i < pieces.size(); ++i)
      iov[i] = {const_cast<uint8_t*>(pieces[i].data()), pieces[i].size()};
    for (;;) {
      ssize_t n = ::writev(fd_.get(), iov, int(pieces.size()));
      if (n >= 0) return n;
      if (errno != EINTR) return ssize_t(-errno);
    }
  });
}

}  // namespace wgp
