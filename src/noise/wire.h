// Every WireGuard wire size, offset and protocol constant in one place
// (PROTOCOL.md §3, §4.4, §5.1). Integers on the wire are little-endian.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace wgp::noise {

using namespace std::chrono_literals;

enum class MessageType : uint32_t {
  kInitiation = 1,
  kResponse = 2,
  kCookieReply = 3,
  kTransport = 4,
};

// Type 1 — handshake initiation.
constexpr size_t kInitiationSize = 148;
constexpr size_t kInitiationSenderOffset = 4;
constexpr size_t kInitiationEphemeralOffset = 8;
constexpr size_t kInitiationStaticOffset = 40;
constexpr size_t kInitiationTimestampOffset = 88;
constexpr size_t kInitiationMac1Offset = 116;
constexpr size_t kInitiationMac2Offset = 132;

// Type 2 — handshake response.
constexpr size_t kResponseSize = 92;
constexpr size_t kResponseSenderOffset = 4;
constexpr size_t kResponseReceiverOffset = 8;
constexpr size_t kResponseEphemeralOffset = 12;
constexpr size_t kResponseEmptyOffset = 44;
constexpr size_t kResponseMac1Offset = 60;
constexpr size_t kResponseMac2Offset = 76;

// Type 3 — cookie reply.
constexpr size_t kCookieReplySize = 64;
constexpr size_t kCookieReplyReceiverOffset = 4;
constexpr size_t kCookieReplyNonceOffset = 8;
constexpr size_t kCookieReplyCookieOffset = 32;

// Type 4 — transport data.
constexpr size_t kTransportHeaderSize = 16;
constexpr size_t kTransportReceiverOffset = 4;
constexpr size_t kTransportCounterOffset = 8;
constexpr size_t kTagSize = 16;
constexpr size_t kTransportMinSize = kTransportHeaderSize + kTagSize;  // a keepalive
constexpr size_t kPaddingMultiple = 16;
// UDP payload overhead of a data packet: header + tag.
constexpr size_t kTransportOverhead = kTransportMinSize;

static_assert(kInitiationMac2Offset + 16 == kInitiationSize);
static_assert(kResponseMac2Offset + 16 == kResponseSize);
static_assert(kCookieReplyCookieOffset + 32 == kCookieReplySize);

// Counters and times (PROTOCOL.md §4.4, §5.1). REJECT_AFTER_MESSAGES is the kernel's.
constexpr uint64_t kRekeyAfterMessages = uint64_t(1) << 60;
constexpr uint64_t kRejectAfterMessages = UINT64_MAX - 8129;  // 2^64 - 8130
constexpr auto kRekeyAfterTime = 120s;
constexpr auto kRejectAfterTime = 180s;
constexpr auto kRekeyAttemptTime = 90s;
constexpr auto kRekeyTimeout = 5s;
constexpr auto kRekeyTimeoutJitterMax = 334ms;  // exclusive
constexpr int kMaxTimerHandshakes = 18;         // 90 s / 5 s
constexpr auto kKeepaliveTimeout = 10s;
constexpr auto kCookieSecretMaxAge = 120s;
constexpr auto kCookieSecretLatency = 5s;
constexpr auto kZeroKeyMaterialAfter = 3 * kRejectAfterTime;  // 540 s
constexpr auto kUnderLoadStickiness = 1s;
constexpr auto kInitiationFloodWindow = 20ms;  // 1 s / INITIATIONS_PER_SECOND
constexpr size_t kMaxStagedPackets = 128;

}  // namespace wgp::noise
