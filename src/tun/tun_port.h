// The TUN device as the node's data path sees it: batches of frames in and
// out, whether they carry a virtio-net header (and may be TSO/USO
// super-packets), and a descriptor that is readable while frames wait.
// TunDevice is the real one; tests/support/fake_io.h has an in-memory one,
// so the node runs in unit tests the way wireguard-go's device runs over
// tun/tuntest.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "util/bytes.h"

namespace wgp {

class TunPort {
 public:
  virtual ~TunPort() = default;

  virtual const std::string& name() const = 0;
  // Readable (poll) while frames wait to be read.
  virtual int fd() const = 0;
  // True when every frame starts with a virtio_net_hdr (offloads are on).
  virtual bool vnet_header() const = 0;
  // True when frames written may be GSO_UDP_L4 super-packets.
  virtual bool uso() const = 0;
  // The offloads in use by name ("tun-csum", ...), for status.
  virtual std::vector<const char*> offload_names() const = 0;

  // Reads up to bufs.size() frames; lengths[i] gets the size of frame i.
  // Returns how many were read, 0 when none waits, -errno when the device
  // failed (-EBADFD, -ENODEV, -EIO: it is gone).
  virtual int read_batch(std::span<const MutableByteView> bufs, std::span<size_t> lengths) = 0;
  // Writes frames in order. Returns how many were consumed from the front:
  // frames refused one by one are consumed too (counted in *refused, their
  // last errno in *last_error, both optional); fewer only when the device
  // cannot take more now (EAGAIN/ENOBUFS).
  virtual int write_batch(std::span<const ByteView> frames, int* refused = nullptr,
                          int* last_error = nullptr) = 0;
  // As write_batch, each frame given as pieces to concatenate (one writev):
  // at most 1024 pieces a frame (IOV_MAX).
  virtual int write_gather(std::span<const std::span<const ByteView>> frames,
                           int* refused = nullptr, int* last_error = nullptr) = 0;
};

}  // namespace wgp
