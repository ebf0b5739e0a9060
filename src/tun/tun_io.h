// TunIo: the node's batched view of its TUN device, hiding whether the device
// runs with offloads. Reading yields plain IP packets of at most the MTU —
// super-packets from a TSO/USO device are cut into segments with complete
// checksums (tun/vnet.h). Writing takes plain IP packets and, on an offload
// device, coalesces consecutive segments of one TCP flow (and datagrams of one
// UDP flow, when the device took USO) into super-packets (tun/tun_coalescer.h),
// so the kernel sees one write and one trip through its stack per up to 64 KiB
// instead of per packet.
//
// All memory is allocated by the constructor (touched lazily); the data path
// allocates nothing and never throws.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "tun/tun_coalescer.h"
#include "tun/tun_port.h"
#include "tun/vnet.h"
#include "util/bytes.h"
#include "util/lazy_buffer.h"

namespace wgp {

class TunIo {
 public:
  // `tun` must outlive this object. `batch` is the number of reads per
  // read() call and of frames per write_batch().
  TunIo(TunPort& tun, size_t batch);

  // Reads up to one batch of frames. Returns the number of frames read (0
  // when none was waiting) or -errno when the device failed (see
  // TunDevice::read_batch). Then deliver() hands out their packets.
  int read();
  // IP bytes in the frames of the last read() (a super-packet counts whole,
  // vnet headers do not): how many packets are coming, before they come.
  size_t bytes_read() const { return bytes_read_; }
  // Hands every IP packet of the frames of the last read() to sink.packet(),
  // in order, once. Frames that cannot be parsed are skipped and counted in
  // bad_frames().
  void deliver(PacketSink& sink);

  // Queues one IP packet for the device; written by flush() (or earlier,
  // when the queue is full). Every packet must have been authenticated
  // (decrypted by the device) or built by us: its TCP/UDP checksum is not
  // checked before it is merged (TunCoalescer's L4Checksums::kTrust).
  void write(ByteView ip_packet);
  // As write(), without copying the payload on an offload device: the
  // packet's bytes must stay valid and unchanged until flush().
  void write_borrowed(ByteView ip_packet);
  // Writes everything queued.
  void flush();

  bool offloads() const { return tun_.vnet_header(); }
  uint64_t bad_frames() const { return bad_frames_; }
  uint64_t write_errors() const { return write_errors_; }
  // Packets written inside another packet's super-packet, and super-packets
  // read and split: how much the offloads are doing (status).
  uint64_t packets_coalesced() const { return coalescer_.packets_coalesced(); }
  uint64_t frames_split() const { return frames_split_; }

 private:
  void write(ByteView ip_packet, bool borrowed);
  void count_written(size_t frames, int written, int refused);

  TunPort& tun_;
  const size_t batch_;
  // Read side: one slot per frame of a batch, and room to build segments.
  LazyBuffer read_storage_;
  std::vector<MutableByteView> read_bufs_;
  std::vector<size_t> read_lengths_;
  size_t frames_read_ = 0;  // not yet delivered
  size_t bytes_read_ = 0;
  LazyBuffer split_scratch_;
  // Write side: the coalescer on an offload device, a plain arena otherwise.
  TunCoalescer coalescer_;
  LazyBuffer plain_storage_;
  std::vector<ByteView> plain_frames_;
  size_t plain_used_ = 0;

  uint64_t bad_frames_ = 0;
  uint64_t write_errors_ = 0;
  uint64_t frames_split_ = 0;
};

}  // namespace wgp
