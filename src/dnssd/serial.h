// SOA serial numbers: RFC 1982 arithmetic (32-bit, so "later" means less
// than 2^31 ahead, modulo 2^32), and the registry's serial policy.
//
// Policy (DESIGN.md §10): a new version gets max(previous + 1, Unix time),
// and versions are committed at most once per second. Then a serial is
// never ahead of the clock at its commit (each commit's Unix second is at
// least one more than the last), so a restarted registry that starts from
// the time again never goes back, without any state on disk; it only
// repeats a serial when it restarts within the second of its last commit,
// which its first commit, one second after the start, heals. A wall clock
// set back across a restart would go back too; the same holds for Knot's
// `serial-policy: unixtime`.
#pragma once

#include <cstdint>

namespace wgp::dnssd {

// RFC 1982 §3.2: s1 < s2 when s2 is ahead by 1 .. 2^31 - 1. Two serials
// exactly 2^31 apart are neither less nor greater (undefined there).
constexpr bool serial_less(uint32_t s1, uint32_t s2) {
  return s1 != s2 && uint32_t(s2 - s1) < (uint32_t(1) << 31);
}

// RFC 1982 §3.1: addition of n in 0 .. 2^31 - 1.
constexpr uint32_t serial_add(uint32_t s, uint32_t n) { return s + n; }

// The serial of the version after `previous`, committed at `unix_seconds`:
// the Unix time when that is ahead of `previous`, else previous + 1.
constexpr uint32_t next_serial(uint32_t previous, uint64_t unix_seconds) {
  uint32_t now = uint32_t(unix_seconds);  // RFC 1982 wraps the same way in 2106
  return serial_less(previous, now) ? now : serial_add(previous, 1);
}

}  // namespace wgp::dnssd
