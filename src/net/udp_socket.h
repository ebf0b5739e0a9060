// The node's one UDP socket and the batch it moves datagrams in.
//
// UdpSocket is a single dual-stack AF_INET6 socket (IPV6_V6ONLY off) bound to
// [::]:port, so IPv4 peers appear as ::ffff:a.b.c.d to the kernel and as plain
// IPv4 Endpoints to us; on a host without IPv6 it falls back to AF_INET. It
// is non-blocking and moves many datagrams per system call (recvmmsg and
// sendmmsg) through a caller-owned DatagramBatch allocated once, so the data
// path allocates nothing per packet and never throws: it returns counts and
// -errno. Only open()/from_fd() throw (std::system_error naming the port).
//
// Extension points for the performance issue: UDP_GRO (setsockopt at open,
// then a cmsg per slot carrying the segment size of a coalesced receive) and
// UDP_SEGMENT (one slot holding many equal-sized datagrams to the same
// endpoint, with the segment size in a cmsg) plug into receive()/send() and a
// per-slot control buffer in DatagramBatch. A slot is already 64 KiB by
// default so a coalesced super-datagram fits. Not implemented yet.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <system_error>
#include <vector>

#include "net/ip.h"
#include "util/bytes.h"
#include "util/lazy_buffer.h"
#include "util/unique_fd.h"

namespace wgp {

// A fixed number of datagram slots, each a buffer of slot_size() bytes with
// its length and remote endpoint. All memory (including the mmsghdr/iovec
// arrays the kernel reads) is allocated by the constructor and reused.
struct DatagramBatch {
 public:
  static constexpr size_t kDefaultSlots = 64;
  static constexpr size_t kMaxDatagram = 65535;

  // Precondition: slots > 0, slot_size > 0.
  explicit DatagramBatch(size_t slots = kDefaultSlots, size_t slot_size = kMaxDatagram);
  DatagramBatch(const DatagramBatch&) = delete;
  DatagramBatch& operator=(const DatagramBatch&) = delete;
  DatagramBatch(DatagramBatch&&) = default;
  DatagramBatch& operator=(DatagramBatch&&) = default;

  size_t capacity() const { return lengths_.size(); }
  size_t slot_size() const { return slot_size_; }

  // The whole buffer of slot i: build an outgoing datagram here, then set_length().
  MutableByteView buffer(size_t i) { return {storage_.data() + i * slot_size_, slot_size_}; }
  // The datagram in slot i: length(i) bytes.
  ByteView data(size_t i) const { return {storage_.data() + i * slot_size_, lengths_[i]}; }
  size_t length(size_t i) const { return lengths_[i]; }
  // Precondition: n <= slot_size().
  void set_length(size_t i, size_t n) { lengths_[i] = n; }
  // Source of a received datagram, destination of one to send.
  Endpoint& endpoint(size_t i) { return endpoints_[i]; }
  const Endpoint& endpoint(size_t i) const { return endpoints_[i]; }
  // True when the received datagram was longer than slot_size() and cut.
  bool truncated(size_t i) const { return truncated_[i] != 0; }

  // Copies `payload` into slot i addressed to `to`. False (slot unchanged)
  // when it does not fit.
  bool set(size_t i, const Endpoint& to, ByteView payload);

 private:
  friend class UdpSocket;

  size_t slot_size_;
  LazyBuffer storage_;
  std::vector<size_t> lengths_;
  std::vector<Endpoint> endpoints_;
  std::vector<uint8_t> truncated_;
  // Scratch for the system calls, one of each per slot.
  std::vector<sockaddr_storage> addrs_;
  std::vector<iovec> iovs_;
  std::vector<mmsghdr> msgs_;
};

class UdpSocket {
 public:
  // Bytes asked for SO_RCVBUF/SO_SNDBUF (as wireguard-go); the FORCE variants
  // exceed net.core.[rw]mem_max when we have CAP_NET_ADMIN.
  static constexpr int kSocketBufferBytes = 7 << 20;

  // Binds [::]:port dual-stack (or 0.0.0.0:port without IPv6); port 0 picks a
  // free port, see port(). Throws std::system_error, e.g.
  // "bind UDP port 51820: Address already in use".
  static UdpSocket open(uint16_t port);
  // Adopts a bound datagram socket (AF_INET or AF_INET6) and makes it
  // non-blocking. Throws if it is not one.
  static UdpSocket from_fd(UniqueFd fd);

  UdpSocket(UdpSocket&&) noexcept = default;
  UdpSocket& operator=(UdpSocket&&) noexcept = default;

  int fd() const { return fd_.get(); }
  uint16_t port() const { return port_; }
  // AF_INET6 (dual-stack) or AF_INET.
  int family() const { return family_; }

  // SO_MARK on outgoing packets (0 clears it); needs CAP_NET_ADMIN (EPERM otherwise).
  [[nodiscard]] std::error_code set_fwmark(uint32_t mark);

  // Receives up to batch.capacity() datagrams into slots 0..n-1 (length,
  // endpoint, truncated). Returns n; 0 when nothing is waiting (EAGAIN,
  // EINTR); -errno on any other failure.
  int receive(DatagramBatch& batch);

  // Sends slots 0..count-1 (count <= capacity) to their endpoints. Returns
  // how many were consumed from the front: sent, or refused by the kernel for
  // a reason resending will not fix (unreachable, v6 endpoint on a v4-only
  // socket, ...), those counted in *dropped with the errno in *last_error.
  // Fewer than count only when the send buffer is full (EAGAIN/ENOBUFS).
  int send(DatagramBatch& batch, size_t count, int* dropped = nullptr, int* last_error = nullptr);

  // One datagram, for control traffic (handshakes, DNS). Returns the bytes
  // sent or -errno.
  ssize_t send_to(const Endpoint& to, ByteView payload);

 private:
  UdpSocket(UniqueFd fd, int family, uint16_t port)
      : fd_(std::move(fd)), family_(family), port_(port) {}
  // The sockaddr to send to: v4-mapped IPv6 for an IPv4 endpoint on a
  // dual-stack socket. Returns 0 when this socket cannot reach `to`.
  socklen_t destination(const Endpoint& to, sockaddr_storage& out) const;

  UniqueFd fd_;
  int family_ = AF_INET6;
  uint16_t port_ = 0;
};

}  // namespace wgp
