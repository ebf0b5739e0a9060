#include "node/outgoing_datagrams.h"

#include <cstring>

namespace wgp {

namespace {
// Seals per thread below which waking another thread costs more than it
// saves (a seal of a full-size packet takes about a microsecond).
constexpr size_t kMinSealsPerThread = 32;
}  // namespace

OutgoingDatagrams::OutgoingDatagrams(size_t slots) : batch_(slots) {
  seal_jobs_.reserve(slots * DatagramBatch::kMaxSegments);
}

MutableByteView OutgoingDatagrams::reserve(const Endpoint& to, size_t size) {
  reservation_.valid = false;
  // Join the last slot as one more segment when the kernel can cut it.
  if (port_ && port_->gso() && count_ > 0) {
    size_t last = count_ - 1;
    size_t previous = batch_.length(last);
    MutableByteView out = batch_.reserve_append(last, to, size);
    if (!out.empty()) {
      reservation_ = {last, previous, true, true};
      return out;
    }
  }
  if (count_ == batch_.capacity()) flush();
  MutableByteView out = batch_.reserve(count_, to, size);
  if (out.size() != size) return {};
  reservation_ = {count_, 0, false, true};
  ++count_;
  return out;
}

void OutgoingDatagrams::cancel() {
  if (!reservation_.valid) return;
  reservation_.valid = false;
  if (reservation_.appended)
    batch_.set_length(reservation_.slot, reservation_.previous_length);
  else if (count_ > 0 && reservation_.slot == count_ - 1)
    --count_;
}

void OutgoingDatagrams::copy(const Endpoint& to, ByteView datagram) {
  MutableByteView out = reserve(to, datagram.size());
  if (out.size() != datagram.size()) return;  // larger than a slot: not a WireGuard datagram
  if (!datagram.empty()) std::memcpy(out.data(), datagram.data(), datagram.size());
}

void OutgoingDatagrams::run_seals() {
  auto seal_range = [this](size_t begin, size_t end) {
    for (size_t j = begin; j < end; ++j) seal_jobs_[j].run();
    if (tally_) tally_->add_seals(WorkerPool::this_thread(), end - begin);
  };
  if (workers_)
    workers_->run(seal_jobs_.size(), kMinSealsPerThread, seal_range);
  else
    seal_range(0, seal_jobs_.size());
  // Fail closed: a datagram that did not seal does not leave. From the
  // back, since taking one out moves the bytes after it.
  for (size_t j = seal_jobs_.size(); j-- > 0;) {
    if (seal_jobs_[j].sealed) continue;
    size_t slot, offset;
    if (batch_.locate(seal_jobs_[j].message.data(), slot, offset) && slot < count_)
      batch_.remove_datagram(slot, offset, seal_jobs_[j].message.size(), count_);
    if (on_unsealed_) on_unsealed_();
  }
  seal_jobs_.clear();
}

void OutgoingDatagrams::flush() {
  reservation_.valid = false;
  run_seals();
  if (count_ == 0) return;
  if (!port_) {
    send_errors_ += count_;
    count_ = 0;
    return;
  }
  int dropped = 0, last_error = 0;
  int sent = port_->send(batch_, count_, &dropped, &last_error);
  if (sent < 0) sent = 0;
  send_errors_ += size_t(dropped) + (count_ - size_t(sent));
  count_ = 0;
}

}  // namespace wgp
