#include "net/udp_socket.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif

namespace wgp {
namespace {

[[noreturn]] void throw_errno(int err, const std::string& what) {
  throw std::system_error(err, std::generic_category(), what);
}

bool is_retryable(int err) { return err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS; }

// Best effort: a small buffer costs throughput, not correctness.
void enlarge_buffers(int fd) {
  int bytes = UdpSocket::kSocketBufferBytes;
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes)) < 0) {
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes));
  }
  if (::setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bytes, sizeof(bytes)) < 0) {
    ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof(bytes));
  }
}

// The port the kernel bound, read back (port 0 asks it to choose).
uint16_t bound_port(int fd, const std::string& what) {
  sockaddr_storage local{};
  socklen_t len = sizeof(local);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) < 0) {
    throw_errno(errno, what + " (getsockname)");
  }
  return Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&local)).port;
}

// Opens and binds one socket of `family`; returns an invalid fd with `err`
// set when the family itself is unavailable, throws on any other failure.
UniqueFd bind_socket(int family, uint16_t port, const std::string& what, int& err) {
  UniqueFd fd(::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP));
  if (!fd) {
    err = errno;
    if (err == EAFNOSUPPORT) return {};
    throw_errno(err, what + " (socket)");
  }
  int rc;
  if (family == AF_INET6) {
    int off = 0;  // dual-stack: IPv4 arrives as ::ffff:a.b.c.d
    if (::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)) < 0) {
      throw_errno(errno, what + " (IPV6_V6ONLY)");
    }
    sockaddr_in6 any{};
    any.sin6_family = AF_INET6;
    any.sin6_addr = in6addr_any;
    any.sin6_port = htons(port);
    rc = ::bind(fd.get(), reinterpret_cast<sockaddr*>(&any), sizeof(any));
  } else {
    sockaddr_in any{};
    any.sin_family = AF_INET;
    any.sin_addr.s_addr = htonl(INADDR_ANY);
    any.sin_port = htons(port);
    rc = ::bind(fd.get(), reinterpret_cast<sockaddr*>(&any), sizeof(any));
  }
  if (rc < 0) {
    err = errno;
    // IPv6 compiled in but switched off (ipv6.disable=1 style): try IPv4.
    if (family == AF_INET6 && (err == EAFNOSUPPORT || err == EADDRNOTAVAIL)) return {};
    throw_errno(err, what);
  }
  return fd;
}

}  // namespace

DatagramBatch::DatagramBatch(size_t slots, size_t slot_size)
    : slot_size_(slot_size),
      storage_(slots * slot_size),
      lengths_(slots, 0),
      endpoints_(slots),
      truncated_(slots, 0),
      segment_sizes_(slots, 0),
      controls_(slots),
      addrs_(slots),
      iovs_(slots),
      msgs_(slots) {}

bool DatagramBatch::set(size_t i, const Endpoint& to, ByteView payload) {
  MutableByteView out = reserve(i, to, payload.size());
  if (out.size() != payload.size()) return false;
  if (!payload.empty()) std::memcpy(out.data(), payload.data(), payload.size());
  return true;
}

bool DatagramBatch::append(size_t i, const Endpoint& to, ByteView payload) {
  MutableByteView out = reserve_append(i, to, payload.size());
  if (out.empty()) return false;
  std::memcpy(out.data(), payload.data(), payload.size());
  return true;
}

MutableByteView DatagramBatch::reserve(size_t i, const Endpoint& to, size_t size) {
  if (size > slot_size_) return {};
  lengths_[i] = size;
  endpoints_[i] = to;
  segment_sizes_[i] = size;
  return {storage_.data() + i * slot_size_, size};
}

MutableByteView DatagramBatch::reserve_append(size_t i, const Endpoint& to, size_t size) {
  const size_t segment = segment_sizes_[i];
  const size_t used = lengths_[i];
  // Only the last datagram of a segmented send may be shorter than the rest.
  if (size == 0 || segment == 0 || size > segment || used % segment != 0) return {};
  if (used / segment >= kMaxSegments) return {};
  if (used + size > std::min(slot_size_, kMaxSegmentedBytes)) return {};
  if (endpoints_[i] != to) return {};
  lengths_[i] = used + size;
  return {storage_.data() + i * slot_size_ + used, size};
}

void DatagramBatch::remove_datagram(size_t i, size_t offset, size_t size, size_t& count) {
  uint8_t* slot = storage_.data() + i * slot_size_;
  std::memmove(slot + offset, slot + offset + size, lengths_[i] - offset - size);
  lengths_[i] -= size;
  if (lengths_[i] > 0) return;
  for (size_t k = i; k + 1 < count; ++k) {
    std::memcpy(storage_.data() + k * slot_size_, storage_.data() + (k + 1) * slot_size_,
                lengths_[k + 1]);
    lengths_[k] = lengths_[k + 1];
    endpoints_[k] = endpoints_[k + 1];
    segment_sizes_[k] = segment_sizes_[k + 1];
  }
  --count;
}

void DatagramBatch::set_received(size_t i, const Endpoint& from, size_t length,
                                 size_t segment_size) {
  lengths_[i] = length;
  endpoints_[i] = from;
  truncated_[i] = 0;
  segment_sizes_[i] = segment_size;
}

bool DatagramBatch::locate(const uint8_t* bytes, size_t& slot, size_t& offset) const {
  const uint8_t* base = storage_.data();
  if (bytes < base || bytes >= base + capacity() * slot_size_) return false;
  size_t at = size_t(bytes - base);
  slot = at / slot_size_;
  offset = at % slot_size_;
  return true;
}

UdpSocket UdpSocket::open(uint16_t port) {
  const std::string what = "bind UDP port " + std::to_string(port);
  int err = 0;
  int family = AF_INET6;
  UniqueFd fd = bind_socket(AF_INET6, port, what, err);
  if (!fd) {
    family = AF_INET;
    fd = bind_socket(AF_INET, port, what, err);
    if (!fd) throw_errno(err, what + " (no IPv6 or IPv4)");
  }
  enlarge_buffers(fd.get());
  uint16_t bound = bound_port(fd.get(), what);
  return UdpSocket(std::move(fd), family, bound);
}

UdpSocket UdpSocket::from_fd(UniqueFd fd) {
  const std::string what = "adopt UDP socket";
  int family = 0, type = 0;
  socklen_t len = sizeof(int);
  if (!fd || ::getsockopt(fd.get(), SOL_SOCKET, SO_DOMAIN, &family, &len) < 0) {
    throw_errno(fd ? errno : EBADF, what);
  }
  len = sizeof(int);
  if (::getsockopt(fd.get(), SOL_SOCKET, SO_TYPE, &type, &len) < 0) throw_errno(errno, what);
  if ((family != AF_INET && family != AF_INET6) || type != SOCK_DGRAM) {
    throw_errno(EPROTOTYPE, what + " (not an IP datagram socket)");
  }
  int flags = ::fcntl(fd.get(), F_GETFL);
  if (flags < 0 || ::fcntl(fd.get(), F_SETFL, flags | O_NONBLOCK) < 0) throw_errno(errno, what);
  uint16_t port = bound_port(fd.get(), what);
  return UdpSocket(std::move(fd), family, port);
}

void UdpSocket::enable_offloads() {
  int one = 1;
  gro_ = ::setsockopt(fd_.get(), IPPROTO_UDP, UDP_GRO, &one, sizeof(one)) == 0;
  // A kernel that knows UDP_SEGMENT answers the getsockopt (with 0).
  int segment = 0;
  socklen_t len = sizeof(segment);
  gso_ = ::getsockopt(fd_.get(), IPPROTO_UDP, UDP_SEGMENT, &segment, &len) == 0;
}

void UdpSocket::disable_offloads() {
  int zero = 0;
  if (gro_) ::setsockopt(fd_.get(), IPPROTO_UDP, UDP_GRO, &zero, sizeof(zero));
  gro_ = gso_ = false;
}

std::error_code UdpSocket::set_fwmark(uint32_t mark) {
  if (::setsockopt(fd_.get(), SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) < 0) {
    return {errno, std::generic_category()};
  }
  return {};
}

socklen_t UdpSocket::destination(const Endpoint& to, sockaddr_storage& out) const {
  if (family_ == AF_INET6 && to.address.is_v4()) {
    sockaddr_in6 sin6{};
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(to.port);
    sin6.sin6_addr.s6_addr[10] = 0xff;  // ::ffff:a.b.c.d (RFC 4291 §2.5.5.2)
    sin6.sin6_addr.s6_addr[11] = 0xff;
    std::memcpy(&sin6.sin6_addr.s6_addr[12], to.address.bytes.data(), 4);
    std::memcpy(&out, &sin6, sizeof(sin6));
    return sizeof(sin6);
  }
  if (family_ == AF_INET && !to.address.is_v4()) return 0;
  return to.to_sockaddr(out);
}

int UdpSocket::receive(DatagramBatch& batch) {
  const size_t n = batch.capacity();
  for (size_t i = 0; i < n; ++i) {
    batch.iovs_[i] = {batch.storage_.data() + i * batch.slot_size_, batch.slot_size_};
    msghdr& h = batch.msgs_[i].msg_hdr;
    h = msghdr{};
    h.msg_name = &batch.addrs_[i];
    h.msg_namelen = sizeof(sockaddr_storage);
    h.msg_iov = &batch.iovs_[i];
    h.msg_iovlen = 1;
    if (gro_) {
      h.msg_control = batch.controls_[i].bytes;
      h.msg_controllen = sizeof(batch.controls_[i].bytes);
    }
    batch.msgs_[i].msg_len = 0;
  }
  int got =
      ::recvmmsg(fd_.get(), batch.msgs_.data(), static_cast<unsigned>(n), MSG_DONTWAIT, nullptr);
  if (got < 0) return (is_retryable(errno) || errno == EINTR) ? 0 : -errno;
  for (int i = 0; i < got; ++i) {
    const mmsghdr& m = batch.msgs_[i];
    batch.lengths_[i] = m.msg_len;
    batch.truncated_[i] = (m.msg_hdr.msg_flags & MSG_TRUNC) != 0;
    batch.endpoints_[i] = Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&batch.addrs_[i]));
    batch.segment_sizes_[i] = 0;
    msghdr& h = batch.msgs_[i].msg_hdr;
    for (cmsghdr* c = CMSG_FIRSTHDR(&h); c; c = CMSG_NXTHDR(&h, c)) {
      if (c->cmsg_level != IPPROTO_UDP || c->cmsg_type != UDP_GRO) continue;
      int segment = 0;
      std::memcpy(&segment, CMSG_DATA(c), sizeof(segment));
      if (segment > 0 && size_t(segment) < m.msg_len) batch.segment_sizes_[i] = size_t(segment);
    }
  }
  return got;
}

namespace {
bool is_segmented(const DatagramBatch& batch, size_t i) {
  return batch.segment_size(i) != 0 && batch.length(i) > batch.segment_size(i);
}
}  // namespace

int UdpSocket::send(DatagramBatch& batch, size_t count, int* dropped, int* last_error) {
  count = std::min(count, batch.capacity());
  // Build every header first; a slot this socket cannot address gets a zero
  // name length and is dropped below without a system call.
  for (size_t i = 0; i < count; ++i) {
    batch.iovs_[i] = {batch.storage_.data() + i * batch.slot_size_, batch.lengths_[i]};
    msghdr& h = batch.msgs_[i].msg_hdr;
    h = msghdr{};
    h.msg_namelen = destination(batch.endpoints_[i], batch.addrs_[i]);
    h.msg_name = &batch.addrs_[i];
    h.msg_iov = &batch.iovs_[i];
    h.msg_iovlen = 1;
    if (gso_ && is_segmented(batch, i)) {
      h.msg_control = batch.controls_[i].bytes;
      h.msg_controllen = CMSG_SPACE(sizeof(uint16_t));
      cmsghdr* c = CMSG_FIRSTHDR(&h);
      c->cmsg_level = IPPROTO_UDP;
      c->cmsg_type = UDP_SEGMENT;
      c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
      uint16_t segment = static_cast<uint16_t>(batch.segment_sizes_[i]);
      std::memcpy(CMSG_DATA(c), &segment, sizeof(segment));
    }
  }
  auto drop = [&](int err) {
    if (dropped) ++*dropped;
    if (last_error) *last_error = err;
  };
  // A segmented slot that cannot go through GSO now (turned off, or
  // prepared before it was) goes one datagram at a time.
  auto needs_singly = [&](size_t i) {
    return is_segmented(batch, i) && (!gso_ || batch.msgs_[i].msg_hdr.msg_control == nullptr);
  };
  size_t done = 0;
  // Each pass either sends >= 1 slot, drops or splits exactly one, or stops:
  // at most 2 * count passes (EINTR aside, which the kernel bounds).
  while (done < count) {
    if (batch.msgs_[done].msg_hdr.msg_namelen == 0) {
      drop(EAFNOSUPPORT);
      ++done;
      continue;
    }
    if (needs_singly(done)) {
      if (send_segments_singly(batch, done, dropped, last_error) == EAGAIN) break;
      ++done;
      continue;
    }
    size_t run = 1;  // a run of addressable slots: sendmmsg stops at the first error anyway
    while (done + run < count && batch.msgs_[done + run].msg_hdr.msg_namelen != 0 &&
           !needs_singly(done + run))
      ++run;
    int sent = ::sendmmsg(fd_.get(), &batch.msgs_[done], static_cast<unsigned>(run), MSG_DONTWAIT);
    if (sent > 0) {
      done += static_cast<size_t>(sent);
      continue;
    }
    int err = sent == 0 ? EIO : errno;
    if (err == EINTR) continue;
    if (is_retryable(err)) break;
    if (batch.msgs_[done].msg_hdr.msg_control && (err == EIO || err == EINVAL || err == EMSGSIZE)) {
      // The kernel would not segment this slot. EIO means it never will
      // (no checksum offload on the way out); EINVAL/EMSGSIZE that these
      // datagrams exceed the path MTU, which sending them singly fragments.
      if (err == EIO) gso_ = false;
      batch.msgs_[done].msg_hdr.msg_control = nullptr;
      batch.msgs_[done].msg_hdr.msg_controllen = 0;
      if (send_segments_singly(batch, done, dropped, last_error) == EAGAIN) break;
      ++done;
      continue;
    }
    drop(err);  // this datagram cannot go; move past it
    ++done;
  }
  return static_cast<int>(done);
}

int UdpSocket::send_segments_singly(DatagramBatch& batch, size_t i, int* dropped, int* last_error) {
  const size_t segment = batch.segment_size(i);
  ByteView all = batch.data(i);
  int result = 0;
  for (size_t offset = 0; offset < all.size(); offset += segment) {
    ssize_t n =
        send_to(batch.endpoint(i), all.subspan(offset, std::min(segment, all.size() - offset)));
    if (n >= 0) continue;
    int err = static_cast<int>(-n);
    if (is_retryable(err)) {
      // Partly sent: the rest is lost like any datagram the buffer refuses,
      // and the slot is consumed so nothing is sent twice.
      if (offset == 0) return EAGAIN;
      if (dropped) *dropped += static_cast<int>((all.size() - offset + segment - 1) / segment);
      if (last_error) *last_error = err;
      return err;
    }
    if (dropped) ++*dropped;
    if (last_error) *last_error = err;
    result = err;
  }
  return result;
}

bool UdpSocket::send_hop_limited(const Endpoint& to, ByteView payload, uint8_t hops) {
  sockaddr_storage addr;
  socklen_t len = destination(to, addr);
  if (len == 0) return false;
  iovec iov{const_cast<uint8_t*>(payload.data()), payload.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_name = &addr;
  msg.msg_namelen = len;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  // An IPv4 destination goes out as IPv4 even from a dual-stack socket, and
  // takes its TTL from an IP-level message there too.
  c->cmsg_level = to.address.is_v4() ? IPPROTO_IP : IPPROTO_IPV6;
  c->cmsg_type = to.address.is_v4() ? IP_TTL : IPV6_HOPLIMIT;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  int value = hops;
  std::memcpy(CMSG_DATA(c), &value, sizeof value);
  for (;;) {
    if (::sendmsg(fd_.get(), &msg, MSG_DONTWAIT) >= 0) return true;
    if (errno != EINTR) return false;
  }
}

ssize_t UdpSocket::send_to(const Endpoint& to, ByteView payload) {
  sockaddr_storage addr;
  socklen_t len = destination(to, addr);
  if (len == 0) return -EAFNOSUPPORT;
  for (;;) {
    ssize_t n = ::sendto(fd_.get(), payload.data(), payload.size(), MSG_DONTWAIT,
                         reinterpret_cast<sockaddr*>(&addr), len);
    if (n >= 0) return n;
    if (errno != EINTR) return -errno;
  }
}

}  // namespace wgp
