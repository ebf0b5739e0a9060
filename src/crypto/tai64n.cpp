#include "crypto/tai64n.h"

#include "util/bytes.h"

namespace wgp {
namespace {

// TAI64 label of the Unix epoch: 2^62 + 10 leap seconds (as wg-go and the kernel).
constexpr uint64_t kTai64Base = 0x400000000000000aULL;
// The kernel rounds down to rounddown_pow_of_two(NSEC_PER_SEC / 50) = 2^24 ns
// so the initiation does not reveal the sender's precise clock.
constexpr uint32_t kNanosecondMask = ~uint32_t(0xFFFFFF);

}  // namespace

Tai64n tai64n(WallTime now) {
  using namespace std::chrono;
  auto since_epoch = duration_cast<nanoseconds>(now.time_since_epoch());
  auto secs = floor<seconds>(since_epoch);
  auto nsec = uint32_t((since_epoch - secs).count());
  Tai64n out;
  store_be64(out.data(), kTai64Base + uint64_t(secs.count()));
  store_be32(out.data() + 8, nsec & kNanosecondMask);
  return out;
}

}  // namespace wgp
