#include "tun/tun_device.h"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

namespace wgp {
namespace {

[[noreturn]] void throw_errno(int err, const std::string& what) {
  throw std::system_error(err, std::generic_category(), what);
}

// The flags passed to TUNSETIFF. IFF_VNET_HDR joins here once offloads exist
// (performance issue); attaching to a persistent device replaces its feature
// flags with these, so an `ip tuntap add ... vnet_hdr` device is tamed too.
int open_flags() { return IFF_TUN | IFF_NO_PI; }

// Placeholder for TUNSETOFFLOAD / TUNSETVNETHDRSZ once IFF_VNET_HDR is used.
// Without a vnet header the kernel must not hand us coalesced segments, which
// is exactly what leaving offloads at their default (none) guarantees.
void configure_offloads(int /*fd*/, const std::string& /*name*/) {}

bool is_retryable(int err) { return err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS; }

}  // namespace

TunDevice TunDevice::create(const std::string& name) {
  const std::string what = "open TUN device " + (name.empty() ? std::string("(any)") : name);
  if (name.size() >= IFNAMSIZ) throw_errno(EINVAL, what + " (name longer than 15 characters)");

  UniqueFd fd(::open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK));
  if (!fd) throw_errno(errno, what + ": /dev/net/tun");

  ifreq ifr{};
  ifr.ifr_flags = static_cast<short>(open_flags());
  std::memcpy(ifr.ifr_name, name.data(), name.size());
  if (::ioctl(fd.get(), TUNSETIFF, &ifr) < 0) {
    int err = errno;
    // EPERM: neither CAP_NET_ADMIN nor the owner of a persistent device.
    // EINVAL/EBUSY: the name is a TAP, another kind of link, or multi-queue.
    throw_errno(err, what);
  }
  // The kernel writes back the actual name (matters when it picked one).
  std::string actual(ifr.ifr_name, strnlen(ifr.ifr_name, IFNAMSIZ));
  configure_offloads(fd.get(), actual);
  return TunDevice(std::move(fd), std::move(actual));
}

TunDevice TunDevice::from_fd(UniqueFd fd, std::string name) {
  if (!fd) throw_errno(EBADF, "adopt TUN device " + name);
  TunDevice dev(std::move(fd), std::move(name));
  dev.set_nonblocking(true);
  return dev;
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
  // A TUN descriptor without a vnet header yields one packet per read(2);
  // there is no readv-of-many for it, so the batch is a bounded loop.
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

int TunDevice::write_batch(std::span<const ByteView> packets, int* refused, int* last_error) {
  int consumed = 0;
  for (const ByteView& packet : packets) {
    ssize_t n = write(packet);
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

}  // namespace wgp
