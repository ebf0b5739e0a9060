// TunDevice owns the descriptor of one Linux TUN interface (layer 3, no
// packet-information header): every read() returns one IP packet, every
// write() injects one. It knows nothing about addresses or routes (see
// tun/netlink.h) nor about WireGuard.
//
// Set-up (create, from_fd, ifindex) throws std::system_error naming the
// device. The data path (read, write and their batch forms) never throws and
// never allocates: it returns counts or -errno.
//
// Offloads: created with `offloads` on, the device is opened with
// IFF_VNET_HDR and TUNSETOFFLOAD (checksum, TSO4/6 and, on kernels from 6.2,
// USO4/6). Then every read returns a 10-byte struct virtio_net_hdr followed by
// one IP packet of up to 64 KiB — a TCP or UDP "super-packet" the kernel left
// for us to segment (tun/vnet.h) — and every write must start with such a
// header too (tun/tun_coalescer.h builds them). vnet_header() says which mode
// the device ended up in: when the kernel refuses the offloads the device is
// reopened plain, so callers must always check it.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "tun/tun_port.h"
#include "util/bytes.h"
#include "util/unique_fd.h"

namespace wgp {

class TunDevice final : public TunPort {
 public:
  // Opens /dev/net/tun and attaches to the TUN interface `name` (IFF_TUN |
  // IFF_NO_PI), creating it when it does not exist (needs CAP_NET_ADMIN). A
  // persistent device made beforehand with `ip tuntap add NAME mode tun user
  // U` may be attached by U without any capability. An empty name lets the
  // kernel pick one ("tun0", ...). The device is left down; a device we
  // created vanishes when the descriptor closes, a persistent one stays.
  // Throws std::system_error("open TUN device wg0: ...") on failure, also for
  // a name of IFNAMSIZ or more characters (EINVAL).
  //
  // With `offloads`, asks for the vnet header and offloads described above and
  // falls back to a plain device when the kernel refuses them.
  static TunDevice create(const std::string& name, bool offloads = false);

  // Adopts an already attached TUN descriptor (e.g. handed over by a parent
  // process, or a socketpair end in tests). The descriptor is made
  // non-blocking. Throws if `fd` is invalid.
  static TunDevice from_fd(UniqueFd fd, std::string name);

  TunDevice(TunDevice&&) noexcept = default;
  TunDevice& operator=(TunDevice&&) noexcept = default;

  const std::string& name() const override { return name_; }
  // True when reads and writes carry a virtio_net_hdr (offloads are on).
  bool vnet_header() const override { return offload_flags_ != 0; }
  // True when the kernel took USO for both IP versions (TUN_F_USO4 0x20 and
  // TUN_F_USO6 0x40, <linux/if_tun.h>, Linux 6.2+): only then may writes
  // carry GSO_UDP_L4 super-packets.
  bool uso() const override { return (offload_flags_ & 0x60u) == 0x60u; }
  // The TUN_F_* flags the kernel accepted (0 for a plain device); for logs.
  unsigned offload_flags() const { return offload_flags_; }
  // The accepted offloads by name ("tun-csum", "tun-tso4", ...), for status.
  std::vector<const char*> offload_names() const override;
  int fd() const override { return fd_.get(); }

  // The kernel's interface index for name(), looked up now (it is not cached:
  // a persistent device can be deleted and recreated under the same name).
  // Throws std::system_error if the interface does not exist.
  int ifindex() const;

  // O_NONBLOCK on or off. create() and from_fd() leave it on. Throws on failure.
  void set_nonblocking(bool on);

  // Reads one packet into `buf`. Returns its length, or -errno (-EAGAIN when
  // none is waiting on a non-blocking device). A packet longer than `buf` is
  // truncated by the kernel, so pass at least MTU bytes.
  ssize_t read(MutableByteView buf);

  // Writes one complete IP packet. Returns the bytes written or -errno
  // (-EINVAL for a packet that is not IPv4/IPv6, -EIO while the link is down).
  ssize_t write(ByteView packet);

  // Reads up to bufs.size() packets; lengths[i] receives the size of the
  // packet read into bufs[i] (lengths.size() >= bufs.size()). Returns the
  // number of packets read: 0 when none was waiting, or -errno when the very
  // first read fails with anything but EAGAIN. Stops at the first EAGAIN, so
  // it never blocks on a non-blocking device beyond the first read.
  int read_batch(std::span<const MutableByteView> bufs, std::span<size_t> lengths) override;

  // Writes packets in order. Returns the number consumed from the front:
  // packets the kernel refused with a per-packet error (EINVAL, EIO, EMSGSIZE)
  // are consumed too, counted in *refused and their last errno kept in
  // *last_error (both optional). Stops early only on EAGAIN/ENOBUFS, leaving
  // the rest for the caller to retry or drop.
  int write_batch(std::span<const ByteView> packets, int* refused = nullptr,
                  int* last_error = nullptr) override;
  // The same for frames in pieces: one writev(2) each (the kernel copies the
  // pieces straight into its buffer). A frame of more than 1024 pieces is
  // refused (EMSGSIZE).
  int write_gather(std::span<const std::span<const ByteView>> frames, int* refused = nullptr,
                   int* last_error = nullptr) override;

 private:
  TunDevice(UniqueFd fd, std::string name, unsigned offload_flags = 0)
      : fd_(std::move(fd)), name_(std::move(name)), offload_flags_(offload_flags) {}

  UniqueFd fd_;
  std::string name_;
  unsigned offload_flags_ = 0;
};

}  // namespace wgp
