// A bounds-checked reader and writer for the port-mapping messages we parse
// and build by hand (PCP, RFC 6887). Like Knot's wire_ctx, the error is
// sticky: once a read runs past the end (or a write past the buffer), every
// later one returns zeros and does nothing, and ok() stays false, so a parser
// checks once at the end instead of after every field.
#pragma once

#include <cstdint>
#include <cstring>

#include "util/bytes.h"

namespace wgp::portmap {

class WireReader {
 public:
  explicit WireReader(ByteView in) : in_(in) {}

  uint8_t u8() { return take(1) ? *at(1) : 0; }
  uint16_t u16() { return take(2) ? load_be16(at(2)) : 0; }
  uint32_t u32() { return take(4) ? load_be32(at(4)) : 0; }
  // Copies `out.size()` bytes, or zeros them past the end.
  void bytes(MutableByteView out) {
    if (out.empty()) return;
    if (take(out.size()))
      std::memcpy(out.data(), at(out.size()), out.size());
    else
      std::memset(out.data(), 0, out.size());
  }
  void skip(size_t n) { (void)take(n); }

  bool ok() const { return ok_; }
  size_t left() const { return ok_ ? in_.size() - pos_ : 0; }

 private:
  bool take(size_t n) {
    if (!ok_ || n > in_.size() - pos_) {
      ok_ = false;
      return false;
    }
    pos_ += n;
    return true;
  }
  // The `n` bytes just taken.
  const uint8_t* at(size_t n) const { return in_.data() + pos_ - n; }

  ByteView in_;
  size_t pos_ = 0;
  bool ok_ = true;
};

class WireWriter {
 public:
  explicit WireWriter(MutableByteView out) : out_(out) {}

  void u8(uint8_t v) {
    if (uint8_t* p = room(1)) *p = v;
  }
  void u16(uint16_t v) {
    if (uint8_t* p = room(2)) store_be16(p, v);
  }
  void u32(uint32_t v) {
    if (uint8_t* p = room(4)) store_be32(p, v);
  }
  void bytes(ByteView in) {
    if (in.empty()) return;
    if (uint8_t* p = room(in.size())) std::memcpy(p, in.data(), in.size());
  }
  void zeros(size_t n) {
    if (n == 0) return;
    if (uint8_t* p = room(n)) std::memset(p, 0, n);
  }

  bool ok() const { return ok_; }
  size_t size() const { return pos_; }

 private:
  uint8_t* room(size_t n) {
    if (!ok_ || n > out_.size() - pos_) {
      ok_ = false;
      return nullptr;
    }
    pos_ += n;
    return out_.data() + pos_ - n;
  }

  MutableByteView out_;
  size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace wgp::portmap
