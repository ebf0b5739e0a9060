// The node's outgoing UDP batch: where the device's datagrams are built
// (reserve: the device encrypts straight into the slot), joined into GSO
// segments when the socket can segment, sealed on every core (the device
// queues SealJobs while a TUN batch is read), and sent in one sendmmsg.
//
// Rules it owns: a datagram joins the last slot when it goes to the same
// endpoint with the same size (or a shorter last one, see DatagramBatch);
// a full batch is flushed before the next reservation, which then starts a
// fresh slot; seals run before anything is sent; a datagram whose seal
// failed never leaves (crypto_jobs.h). Single-threaded apart from the seals.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "net/datagram_port.h"
#include "net/udp_socket.h"
#include "util/worker_pool.h"
#include "wg/crypto_jobs.h"

namespace wgp {

class OutgoingDatagrams {
 public:
  explicit OutgoingDatagrams(size_t slots);

  // Where flush() sends; nullptr until a socket exists. Segments are joined
  // only while port->gso().
  void set_port(DatagramPort* port) { port_ = port; }
  // Threads for the seals (nullptr: the caller's thread only), and where
  // each thread counts the seals it ran (nullptr: not counted).
  void set_workers(WorkerPool* workers, CryptoTally* tally = nullptr) {
    workers_ = workers;
    tally_ = tally;
  }
  // Called once for every datagram dropped because its seal failed.
  void on_unsealed(std::function<void()> count) { on_unsealed_ = std::move(count); }

  // Room for a datagram of `size` bytes to `to`, counted as sent unless
  // cancel() follows before the next reserve(). Flushes a full batch first.
  // Empty when `size` exceeds a slot.
  MutableByteView reserve(const Endpoint& to, size_t size);
  // Takes back the last reservation.
  void cancel();
  // reserve() and a copy of `datagram`.
  void copy(const Endpoint& to, ByteView datagram);
  // Where the device queues seals of reserved datagrams (Device::defer_seals).
  std::vector<SealJob>& seal_jobs() { return seal_jobs_; }

  // Runs the queued seals, takes out what did not seal, sends the rest.
  // What the socket refuses or has no room for is lost (counted), as a
  // router would lose it.
  void flush();

  size_t slots_used() const { return count_; }
  const DatagramBatch& batch() const { return batch_; }
  uint64_t send_errors() const { return send_errors_; }
  // A datagram sent beside the batch that the socket refused.
  void count_send_error() { ++send_errors_; }

 private:
  void run_seals();

  DatagramBatch batch_;
  size_t count_ = 0;
  DatagramPort* port_ = nullptr;
  WorkerPool* workers_ = nullptr;
  CryptoTally* tally_ = nullptr;
  std::vector<SealJob> seal_jobs_;
  std::function<void()> on_unsealed_;
  // What the last reserve() did, so cancel() can undo it.
  struct Reservation {
    size_t slot = 0;
    size_t previous_length = 0;  // of the slot, when appended to
    bool appended = false;
    bool valid = false;
  } reservation_;
  uint64_t send_errors_ = 0;
};

}  // namespace wgp
