// In-memory stand-ins for the TUN device and the UDP socket, so the real
// Node (its batches, GSO joins, seals, event loop) runs in a unit test
// without privileges or kernel devices: frames and datagrams are queues,
// and an eventfd per fake tells Asio when something waits. This is how
// wireguard-go tests its device over tun/tuntest and conn/bindtest.
#pragma once

#include <deque>
#include <map>
#include <string>
#include <system_error>
#include <vector>

#include "net/datagram_port.h"
#include "net/ip.h"
#include "net/udp_socket.h"
#include "tun/tun_port.h"
#include "util/unique_fd.h"

namespace wgp::testing {

// An eventfd that is readable exactly while `set(true)`.
class ReadyFlag {
 public:
  ReadyFlag();
  int fd() const { return fd_.get(); }
  void set(bool ready);

 private:
  UniqueFd fd_;
  bool ready_ = false;
};

// A plain TUN device (no vnet header): the test injects frames for the node
// to read and finds what the node wrote in `written`.
class FakeTun final : public TunPort {
 public:
  explicit FakeTun(std::string name) : name_(std::move(name)) {}

  void inject(ByteView frame);
  std::vector<std::vector<uint8_t>> written;
  size_t write_calls = 0;

  const std::string& name() const override { return name_; }
  int fd() const override { return ready_.fd(); }
  bool vnet_header() const override { return false; }
  bool uso() const override { return false; }
  std::vector<const char*> offload_names() const override { return {}; }
  int read_batch(std::span<const MutableByteView> bufs, std::span<size_t> lengths) override;
  int write_batch(std::span<const ByteView> frames, int* refused, int* last_error) override;
  int write_gather(std::span<const std::span<const ByteView>> frames, int* refused,
                   int* last_error) override;

 private:
  std::string name_;
  std::deque<std::vector<uint8_t>> pending_;
  ReadyFlag ready_;
};

class FakeDatagramPort;

// What one slot of a send carried: its datagrams as they left, and whether
// they went as one segmented (GSO) send.
struct SentSlot {
  Endpoint from;
  Endpoint to;
  std::vector<std::vector<uint8_t>> datagrams;
};

// Connects FakeDatagramPorts by their endpoints and records every send.
class FakeNetwork {
 public:
  void attach(FakeDatagramPort& port);
  void detach(FakeDatagramPort& port);
  // Hands `datagram` to the port at `to`, if any (else it is lost).
  void deliver(const Endpoint& from, const Endpoint& to, ByteView datagram);
  std::vector<SentSlot> sent;

 private:
  std::map<Endpoint, FakeDatagramPort*> ports_;
};

// A UDP socket at `self` on a FakeNetwork. It receives one datagram per slot
// (no GRO); it sends a segmented slot as its datagrams when `gso` is on.
class FakeDatagramPort final : public DatagramPort {
 public:
  FakeDatagramPort(FakeNetwork& net, Endpoint self, bool gso = true);
  ~FakeDatagramPort() override;

  // Every set_fwmark() after this fails with `error` (e.g. EPERM, as after
  // a privilege drop); the mark is unchanged then.
  void refuse_fwmark(std::errc error) { fwmark_error_ = std::make_error_code(error); }
  uint32_t fwmark() const { return fwmark_; }
  // Segmented slots handed to send() while gso() was off: must stay 0.
  size_t gso_violations = 0;
  const Endpoint& self() const { return self_; }
  void enqueue(const Endpoint& from, ByteView datagram);

  int fd() const override { return ready_.fd(); }
  uint16_t port() const override { return self_.port; }
  bool gso() const override { return gso_; }
  bool gro() const override { return false; }
  void disable_offloads() override { gso_ = false; }
  std::error_code set_fwmark(uint32_t mark) override;
  int receive(DatagramBatch& batch) override;
  int send(DatagramBatch& batch, size_t count, int* dropped, int* last_error) override;

 private:
  FakeNetwork& net_;
  Endpoint self_;
  bool gso_;
  uint32_t fwmark_ = 0;
  std::error_code fwmark_error_;
  std::deque<std::pair<Endpoint, std::vector<uint8_t>>> pending_;
  ReadyFlag ready_;
};

}  // namespace wgp::testing
