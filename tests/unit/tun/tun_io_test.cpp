// TunIo over an offload device (a vnet-header TunPort kept in memory): a
// read's byte count is known before its packets are handed out, segments
// written come out as one coalesced frame, written with one gather write,
// and write() copies what it is given while write_borrowed() points at it.
#include "tun/tun_io.h"

#include <gtest/gtest.h>

#include <cstring>
#include <deque>

#include "tun/vnet.h"
#include "unit/tun/packet_builder.h"

namespace wgp {
namespace {

using Packet = std::vector<uint8_t>;

// An offload TUN in memory: frames to read are queued, frames written are
// kept joined, with the number of pieces each came in.
class OffloadTun final : public TunPort {
 public:
  const std::string& name() const override { return name_; }
  int fd() const override { return -1; }
  bool vnet_header() const override { return true; }
  bool uso() const override { return false; }
  std::vector<const char*> offload_names() const override { return {"tun-tso4"}; }
  int read_batch(std::span<const MutableByteView> bufs, std::span<size_t> lengths) override {
    int n = 0;
    for (; !to_read.empty() && size_t(n) < bufs.size(); ++n) {
      std::memcpy(bufs[size_t(n)].data(), to_read.front().data(), to_read.front().size());
      lengths[size_t(n)] = to_read.front().size();
      to_read.pop_front();
    }
    return n;
  }
  int write_batch(std::span<const ByteView> frames, int*, int*) override {
    for (ByteView f : frames) written.emplace_back(f.begin(), f.end());
    return int(frames.size());
  }
  int write_gather(std::span<const std::span<const ByteView>> frames, int*, int*) override {
    for (auto pieces : frames) {
      Packet& f = written.emplace_back();
      for (ByteView p : pieces) f.insert(f.end(), p.begin(), p.end());
      pieces_per_frame.push_back(pieces.size());
    }
    return int(frames.size());
  }

  std::deque<Packet> to_read;
  std::vector<Packet> written;
  std::vector<size_t> pieces_per_frame;

 private:
  std::string name_ = "fake0";
};

std::vector<Packet> segments(size_t count, size_t mss) {
  pkt::Spec s;
  std::vector<Packet> out;
  for (size_t i = 0; i < count; ++i) {
    s.payload = pkt::pattern(mss, uint8_t(i));
    out.push_back(pkt::build(s));
    s.seq += uint32_t(mss);
    s.id = uint16_t(s.id + 1);
  }
  return out;
}

TEST(TunIo, ReadTellsTheBytesBeforeDeliveringThePackets) {
  OffloadTun tun;
  TunIo io(tun, 8);
  pkt::Spec s;
  s.payload = pkt::pattern(10 * 1000);
  tun.to_read.push_back(pkt::gso_frame(s, 1000));
  Packet lone(10, 0);
  pkt::Spec one;
  Packet p = pkt::build(one);
  lone.insert(lone.end(), p.begin(), p.end());
  tun.to_read.push_back(lone);
  ASSERT_EQ(io.read(), 2);
  EXPECT_EQ(io.bytes_read(), 40 + 10 * 1000 + p.size());
  pkt::CollectSink sink;
  io.deliver(sink);
  EXPECT_EQ(sink.packets.size(), 11u);
  io.deliver(sink);  // once only
  EXPECT_EQ(sink.packets.size(), 11u);
  EXPECT_EQ(io.read(), 0);
  EXPECT_EQ(io.bytes_read(), 0u);
}

TEST(TunIo, BorrowedAndCopiedSegmentsBecomeOneGatherFrame) {
  OffloadTun tun;
  TunIo io(tun, 8);
  auto ps = segments(6, 1368);
  std::vector<Packet> copies = ps;
  for (size_t i = 0; i < ps.size(); ++i) {
    if (i % 3 == 2) {
      io.write(copies[i]);
      std::memset(copies[i].data(), 0xee, copies[i].size());  // write() copied it already
    } else {
      io.write_borrowed(ps[i]);
    }
  }
  EXPECT_TRUE(tun.written.empty());
  io.flush();
  ASSERT_EQ(tun.written.size(), 1u);
  ASSERT_EQ(tun.pieces_per_frame.size(), 1u);
  EXPECT_GT(tun.pieces_per_frame[0], 1u) << "one gather write of the pieces";
  EXPECT_EQ(VnetHeader::parse(tun.written[0]).gso_type, kGsoTcpV4);
  pkt::CollectSink sink;
  std::vector<uint8_t> scratch(65536);
  ASSERT_EQ(split_tun_frame(tun.written[0], scratch, sink), SplitError::kNone);
  EXPECT_EQ(sink.packets, ps);
  EXPECT_EQ(io.write_errors(), 0u);
}

}  // namespace
}  // namespace wgp
