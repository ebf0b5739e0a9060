#include "tun/tun_io.h"

#include <cstring>
#include <utility>

namespace wgp {
namespace {

// A frame is a vnet header and an IP packet of up to 64 KiB.
constexpr size_t kFrameSlot = kVnetHeaderSize + 65535;
constexpr size_t kSplitScratch = 65536;

}  // namespace

TunIo::TunIo(TunPort& tun, size_t batch)
    : tun_(tun),
      batch_(batch),
      read_storage_(batch * kFrameSlot),
      read_lengths_(batch),
      split_scratch_(kSplitScratch),
      coalescer_(tun.vnet_header() ? batch : 1, tun.vnet_header() ? batch * kFrameSlot : kFrameSlot,
                 tun.uso(), TunCoalescer::L4Checksums::kTrust),
      plain_storage_(tun.vnet_header() ? 1 : batch * kFrameSlot) {
  for (size_t i = 0; i < batch; ++i)
    read_bufs_.emplace_back(read_storage_.data() + i * kFrameSlot, kFrameSlot);
  plain_frames_.reserve(batch);
}

int TunIo::read() {
  int n = tun_.read_batch(read_bufs_, read_lengths_);
  frames_read_ = n > 0 ? size_t(n) : 0;
  bytes_read_ = 0;
  const size_t header = offloads() ? kVnetHeaderSize : 0;
  for (size_t i = 0; i < frames_read_; ++i)
    bytes_read_ += read_lengths_[i] > header ? read_lengths_[i] - header : 0;
  return n;
}

void TunIo::deliver(PacketSink& sink) {
  const size_t n = std::exchange(frames_read_, 0);
  for (size_t i = 0; i < n; ++i) {
    MutableByteView frame(read_bufs_[i].data(), read_lengths_[i]);
    if (!offloads()) {
      sink.packet(frame);
      continue;
    }
    if (frame.size() < kVnetHeaderSize) {
      ++bad_frames_;
      continue;
    }
    if (VnetHeader::parse(frame).gso_type != kGsoNone) ++frames_split_;
    MutableByteView scratch(split_scratch_.data(), split_scratch_.size());
    if (split_tun_frame(frame, scratch, sink) != SplitError::kNone) ++bad_frames_;
  }
}

void TunIo::write(ByteView packet) { write(packet, false); }
void TunIo::write_borrowed(ByteView packet) { write(packet, true); }

void TunIo::write(ByteView packet, bool borrowed) {
  if (offloads()) {
    auto add = [&] { return borrowed ? coalescer_.add_borrowed(packet) : coalescer_.add(packet); };
    if (add()) return;
    flush();
    if (!add()) ++write_errors_;  // larger than any frame
    return;
  }
  if (plain_frames_.size() == batch_ || plain_used_ + packet.size() > plain_storage_.size())
    flush();
  if (packet.size() > plain_storage_.size()) {
    ++write_errors_;
    return;
  }
  uint8_t* slot = plain_storage_.data() + plain_used_;
  std::memcpy(slot, packet.data(), packet.size());
  plain_frames_.emplace_back(slot, packet.size());
  plain_used_ += packet.size();
}

void TunIo::flush() {
  if (offloads()) {
    auto frames = coalescer_.pieces();
    if (!frames.empty()) {
      int refused = 0;
      count_written(frames.size(), tun_.write_gather(frames, &refused), refused);
    }
    coalescer_.clear();
    return;
  }
  if (!plain_frames_.empty()) {
    int refused = 0;
    count_written(plain_frames_.size(), tun_.write_batch(plain_frames_, &refused), refused);
  }
  plain_frames_.clear();
  plain_used_ = 0;
}

void TunIo::count_written(size_t frames, int written, int refused) {
  if (written < 0) written = 0;
  // A full device queue: what did not fit is lost, as a router would.
  write_errors_ += uint64_t(refused) + (frames - size_t(written));
}

}  // namespace wgp
