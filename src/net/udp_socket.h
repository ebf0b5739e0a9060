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
// Offloads (Linux 4.18+/5.0+, each switched on when the kernel takes it):
// UDP_SEGMENT lets one slot carry a run of equal-sized datagrams to one
// endpoint that the kernel cuts up late (one pass through the stack instead
// of one per datagram); UDP_GRO lets one received slot carry several
// datagrams of one sender coalesced by the kernel, with their size in
// segment_size(). A kernel that accepts the socket option but cannot
// segment (EIO, e.g. no checksum offload on the route) turns GSO off for good.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <system_error>
#include <vector>

#include "net/datagram_port.h"
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
  // The kernel's UDP_MAX_SEGMENTS, and a total that stays under the 64 KiB
  // IP limit with IPv4 or IPv6 and UDP headers.
  static constexpr size_t kMaxSegments = 64;
  static constexpr size_t kMaxSegmentedBytes = 64000;

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

  // Received: the size of each datagram a GRO slot holds (the last may be
  // shorter), 0 for a slot holding one datagram. To send: set by set() and
  // append(); a slot longer than its segment size goes out with UDP_SEGMENT.
  size_t segment_size(size_t i) const { return segment_sizes_[i]; }

  // Copies `payload` into slot i addressed to `to`. False (slot unchanged)
  // when it does not fit.
  bool set(size_t i, const Endpoint& to, ByteView payload);
  // Appends `payload` as one more datagram to slot i, which must already
  // hold datagrams to `to` of exactly payload.size() bytes each. False (slot
  // unchanged) when it cannot: another endpoint or size, a shorter datagram
  // already last, kMaxSegments or kMaxSegmentedBytes reached.
  bool append(size_t i, const Endpoint& to, ByteView payload);
  // Reserves room for a datagram of `size` bytes to `to` as set() or
  // append() would place it, without copying: returns the bytes to fill, or
  // an empty view when it does not fit (append: incompatible, see above).
  MutableByteView reserve(size_t i, const Endpoint& to, size_t size);
  MutableByteView reserve_append(size_t i, const Endpoint& to, size_t size);
  // Takes the `size` bytes at `offset` out of slot i (one datagram of a
  // segmented slot), closing the gap. A slot left empty leaves the first
  // `count` slots: the later ones move down and `count` decreases.
  // Precondition: i < count, offset + size <= length(i). Slow (moves bytes);
  // for the rare datagram that must not go after all.
  void remove_datagram(size_t i, size_t offset, size_t size, size_t& count);
  // The slot and offset of `bytes` when they lie within some slot's buffer.
  bool locate(const uint8_t* bytes, size_t& slot, size_t& offset) const;
  // Marks slot i as received, as UdpSocket::receive does, after its bytes
  // were written to buffer(i): for other DatagramPorts (test fakes).
  // `segment_size` as segment_size() reports it (0: one datagram).
  void set_received(size_t i, const Endpoint& from, size_t length, size_t segment_size = 0);

 private:
  friend class UdpSocket;

  size_t slot_size_;
  LazyBuffer storage_;
  std::vector<size_t> lengths_;
  std::vector<Endpoint> endpoints_;
  std::vector<uint8_t> truncated_;
  std::vector<size_t> segment_sizes_;
  // Scratch for the system calls, one of each per slot.
  struct alignas(cmsghdr) Control {
    uint8_t bytes[CMSG_SPACE(sizeof(int))];
  };
  std::vector<Control> controls_;
  std::vector<sockaddr_storage> addrs_;
  std::vector<iovec> iovs_;
  std::vector<mmsghdr> msgs_;
};

class UdpSocket final : public DatagramPort {
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

  int fd() const override { return fd_.get(); }
  uint16_t port() const override { return port_; }
  // AF_INET6 (dual-stack) or AF_INET.
  int family() const { return family_; }

  // Whether sends may carry UDP_SEGMENT / receives may be GRO-coalesced.
  bool gso() const override { return gso_; }
  bool gro() const override { return gro_; }
  // Turns both off (for comparisons and to exercise the plain path).
  void disable_offloads() override;

  // SO_MARK on outgoing packets (0 clears it); needs CAP_NET_ADMIN (EPERM otherwise).
  [[nodiscard]] std::error_code set_fwmark(uint32_t mark) override;

  // Receives up to batch.capacity() datagrams into slots 0..n-1 (length,
  // endpoint, truncated). Returns n; 0 when nothing is waiting (EAGAIN,
  // EINTR); -errno on any other failure.
  int receive(DatagramBatch& batch) override;

  // Sends slots 0..count-1 (count <= capacity) to their endpoints, each
  // segmented slot as its datagrams. Returns how many slots were consumed from the front: sent, or
  // refused by the kernel for a reason resending will not fix (unreachable, v6 endpoint on a
  // v4-only socket, ...), those counted in *dropped with the errno in *last_error. Fewer than count
  // only when the send buffer is full (EAGAIN/ENOBUFS).
  int send(DatagramBatch& batch, size_t count, int* dropped = nullptr,
           int* last_error = nullptr) override;

  // One datagram, for control traffic (handshakes, DNS). Returns the bytes
  // sent or -errno.
  ssize_t send_to(const Endpoint& to, ByteView payload);
  // With an IP_TTL (IPv4, also v4-mapped) or IPV6_HOPLIMIT control message.
  bool send_hop_limited(const Endpoint& to, ByteView payload, uint8_t hops) override;

 private:
  UdpSocket(UniqueFd fd, int family, uint16_t port)
      : fd_(std::move(fd)), family_(family), port_(port) {
    enable_offloads();
  }
  void enable_offloads();
  // Sends a segmented slot one datagram at a time (GSO refused); returns the
  // errno of the last failure, 0 when all went, or EAGAIN to retry later.
  int send_segments_singly(DatagramBatch& batch, size_t i, int* dropped, int* last_error);
  // The sockaddr to send to: v4-mapped IPv6 for an IPv4 endpoint on a
  // dual-stack socket. Returns 0 when this socket cannot reach `to`.
  socklen_t destination(const Endpoint& to, sockaddr_storage& out) const;

  UniqueFd fd_;
  int family_ = AF_INET6;
  uint16_t port_ = 0;
  bool gso_ = false;
  bool gro_ = false;
};

}  // namespace wgp
