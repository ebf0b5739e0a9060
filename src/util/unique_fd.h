// UniqueFd owns one file descriptor from the line that opens it: it closes the
// descriptor when destroyed or reset, can be moved but never copied, and hands
// the descriptor over with release(). -1 means "owns nothing".
#pragma once

#include <unistd.h>

#include <utility>

namespace wgp {

class UniqueFd {
 public:
  UniqueFd() = default;
  // Takes ownership of `fd` (which may be -1).
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { reset(); }

  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  explicit operator bool() const { return valid(); }

  // Gives up ownership without closing; returns the descriptor (or -1).
  [[nodiscard]] int release() { return std::exchange(fd_, -1); }

  // Closes the owned descriptor (if any) and takes `fd` instead. close() errors
  // are ignored: on Linux the descriptor is gone either way, and retrying after
  // EINTR could close a descriptor another thread has just been given.
  void reset(int fd = -1) {
    int old = std::exchange(fd_, fd);
    if (old >= 0 && old != fd) ::close(old);
  }

 private:
  int fd_ = -1;
};

}  // namespace wgp
