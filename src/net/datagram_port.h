// The UDP socket as the node's data path sees it: batches of datagrams in
// and out (net/udp_socket.h has the DatagramBatch they travel in), the
// offloads it took, and a descriptor that is readable while datagrams wait.
// UdpSocket is the real one; tests/support/fake_io.h has in-memory ones
// wired to each other, as wireguard-go tests its device over conn/bindtest.
#pragma once

#include <cstddef>
#include <cstdint>
#include <system_error>

#include "net/ip.h"
#include "util/bytes.h"

namespace wgp {

struct DatagramBatch;

class DatagramPort {
 public:
  virtual ~DatagramPort() = default;

  // Readable (poll) while datagrams wait to be received.
  virtual int fd() const = 0;
  virtual uint16_t port() const = 0;
  // Whether sends may carry segmented slots (UDP_SEGMENT) / received slots
  // may hold several datagrams (UDP_GRO, with segment_size set).
  virtual bool gso() const = 0;
  virtual bool gro() const = 0;
  // Turns both off (for comparisons, and to exercise the plain paths).
  virtual void disable_offloads() = 0;
  // SO_MARK on what is sent (0 clears it); EPERM without CAP_NET_ADMIN.
  [[nodiscard]] virtual std::error_code set_fwmark(uint32_t mark) = 0;

  // Receives into slots 0..n-1 of `batch`; returns n, 0 when nothing waits,
  // -errno on failure.
  virtual int receive(DatagramBatch& batch) = 0;
  // Sends slots 0..count-1; returns how many were consumed from the front
  // (see UdpSocket::send for what counts as consumed and as dropped).
  virtual int send(DatagramBatch& batch, size_t count, int* dropped = nullptr,
                   int* last_error = nullptr) = 0;
  // One datagram whose IP TTL (IPv6 hop limit) is `hops`, at once. False
  // when it did not go (a port that cannot set the limit sends nothing).
  virtual bool send_hop_limited(const Endpoint& /*to*/, ByteView /*payload*/, uint8_t /*hops*/) {
    return false;
  }
};

}  // namespace wgp
