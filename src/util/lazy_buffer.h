// A large byte buffer whose pages are not touched when it is made: packet
// buffers sized for 64 KiB datagrams cost memory only where packets land,
// so an idle node stays small (a zero-filled std::vector would commit every
// page up front).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace wgp {

class LazyBuffer {
 public:
  explicit LazyBuffer(size_t size) : bytes_(new uint8_t[size]), size_(size) {}  // not zeroed
  uint8_t* data() { return bytes_.get(); }
  const uint8_t* data() const { return bytes_.get(); }
  size_t size() const { return size_; }

 private:
  std::unique_ptr<uint8_t[]> bytes_;
  size_t size_;
};

}  // namespace wgp
