#include "support/fake_io.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace wgp::testing {

ReadyFlag::ReadyFlag() : fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (!fd_) throw std::system_error(errno, std::generic_category(), "eventfd");
}

void ReadyFlag::set(bool ready) {
  if (ready == ready_) return;
  ready_ = ready;
  uint64_t value = 1;
  if (ready)
    (void)!::write(fd_.get(), &value, sizeof value);
  else
    (void)!::read(fd_.get(), &value, sizeof value);
}

void FakeTun::inject(ByteView frame) {
  pending_.emplace_back(frame.begin(), frame.end());
  ready_.set(true);
}

int FakeTun::read_batch(std::span<const MutableByteView> bufs, std::span<size_t> lengths) {
  int n = 0;
  while (!pending_.empty() && size_t(n) < bufs.size()) {
    const std::vector<uint8_t>& frame = pending_.front();
    size_t len = std::min(frame.size(), bufs[size_t(n)].size());
    std::memcpy(bufs[size_t(n)].data(), frame.data(), len);
    lengths[size_t(n)] = len;
    pending_.pop_front();
    ++n;
  }
  ready_.set(!pending_.empty());
  return n;
}

int FakeTun::write_batch(std::span<const ByteView> frames, int*, int*) {
  ++write_calls;
  for (ByteView f : frames) written.emplace_back(f.begin(), f.end());
  return int(frames.size());
}

int FakeTun::write_gather(std::span<const std::span<const ByteView>> frames, int*, int*) {
  ++write_calls;
  for (auto pieces : frames) {
    std::vector<uint8_t>& frame = written.emplace_back();
    for (ByteView p : pieces) frame.insert(frame.end(), p.begin(), p.end());
  }
  return int(frames.size());
}

void FakeNetwork::attach(FakeDatagramPort& port) { ports_[port.self()] = &port; }

void FakeNetwork::detach(FakeDatagramPort& port) {
  auto it = ports_.find(port.self());
  if (it != ports_.end() && it->second == &port) ports_.erase(it);
}

void FakeNetwork::deliver(const Endpoint& from, const Endpoint& to, ByteView datagram) {
  auto it = ports_.find(to);
  if (it != ports_.end()) it->second->enqueue(from, datagram);
}

FakeDatagramPort::FakeDatagramPort(FakeNetwork& net, Endpoint self, bool gso)
    : net_(net), self_(self), gso_(gso) {
  net_.attach(*this);
}

FakeDatagramPort::~FakeDatagramPort() { net_.detach(*this); }

void FakeDatagramPort::enqueue(const Endpoint& from, ByteView datagram) {
  pending_.emplace_back(from, std::vector<uint8_t>(datagram.begin(), datagram.end()));
  ready_.set(true);
}

std::error_code FakeDatagramPort::set_fwmark(uint32_t mark) {
  if (fwmark_error_) return fwmark_error_;
  fwmark_ = mark;
  return {};
}

int FakeDatagramPort::receive(DatagramBatch& batch) {
  int n = 0;
  while (!pending_.empty() && size_t(n) < batch.capacity()) {
    auto& [from, bytes] = pending_.front();
    if (bytes.size() > batch.slot_size()) {  // cannot happen with WireGuard sizes
      pending_.pop_front();
      continue;
    }
    if (!bytes.empty()) std::memcpy(batch.buffer(size_t(n)).data(), bytes.data(), bytes.size());
    batch.set_received(size_t(n), from, bytes.size());
    pending_.pop_front();
    ++n;
  }
  ready_.set(!pending_.empty());
  return n;
}

int FakeDatagramPort::send(DatagramBatch& batch, size_t count, int*, int*) {
  for (size_t i = 0; i < count; ++i) {
    ByteView all = batch.data(i);
    size_t segment = batch.segment_size(i);
    // A slot longer than its segment size is a GSO send: only with gso().
    if (!gso_ && segment && all.size() > segment) ++gso_violations;
    if (segment == 0 || segment > all.size()) segment = all.size();
    SentSlot slot{self_, batch.endpoint(i), {}};
    for (size_t offset = 0; offset < all.size() || (all.empty() && offset == 0);
         offset += segment) {
      ByteView datagram = all.subspan(offset, std::min(segment, all.size() - offset));
      slot.datagrams.emplace_back(datagram.begin(), datagram.end());
      if (all.empty()) break;
    }
    for (const auto& d : slot.datagrams) net_.deliver(self_, slot.to, d);
    net_.sent.push_back(std::move(slot));
  }
  return int(count);
}

}  // namespace wgp::testing
