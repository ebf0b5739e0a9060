#include "util/unique_fd.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <utility>

namespace wgp {
namespace {

bool is_open(int fd) { return ::fcntl(fd, F_GETFD) != -1; }

TEST(UniqueFd, ClosesOnDestruction) {
  int raw;
  {
    UniqueFd fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    raw = fd.get();
    ASSERT_TRUE(fd.valid());
    EXPECT_TRUE(is_open(raw));
  }
  EXPECT_FALSE(is_open(raw));
}

TEST(UniqueFd, DefaultOwnsNothing) {
  UniqueFd fd;
  EXPECT_FALSE(fd.valid());
  EXPECT_FALSE(static_cast<bool>(fd));
  EXPECT_EQ(fd.get(), -1);
  fd.reset();  // closing nothing is fine
  EXPECT_EQ(fd.get(), -1);
}

TEST(UniqueFd, MoveTransfersOwnership) {
  UniqueFd a(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  int raw = a.get();
  UniqueFd b(std::move(a));
  EXPECT_EQ(a.get(), -1);
  EXPECT_EQ(b.get(), raw);
  UniqueFd c(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  int old_c = c.get();
  c = std::move(b);  // c's old descriptor is closed, raw now owned by c
  EXPECT_EQ(c.get(), raw);
  EXPECT_FALSE(is_open(old_c));
  EXPECT_TRUE(is_open(raw));
  c = std::move(c);  // self-move keeps the descriptor
  EXPECT_TRUE(is_open(raw));
}

TEST(UniqueFd, ReleaseGivesUpWithoutClosing) {
  UniqueFd fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  int raw = fd.release();
  EXPECT_EQ(fd.get(), -1);
  EXPECT_TRUE(is_open(raw));
  ::close(raw);
}

TEST(UniqueFd, ResetClosesOldAndAdoptsNew) {
  UniqueFd fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  int first = fd.get();
  int second = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  fd.reset(second);
  EXPECT_FALSE(is_open(first));
  EXPECT_EQ(fd.get(), second);
  fd.reset(second);  // resetting to the same descriptor must not close it
  EXPECT_TRUE(is_open(second));
  fd.reset();
  EXPECT_FALSE(is_open(second));
}

}  // namespace
}  // namespace wgp
