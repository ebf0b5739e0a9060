// The body of a UAPI `set=1` request (PROTOCOL.md §7.2–7.3), applied to a
// DeviceControl one line at a time, as wireguard-go does: lines take effect
// in order, the first bad line stops the request with a negative errno, and
// nothing already applied is rolled back.
//
// The parser never sees a socket: the server feeds it lines as they arrive,
// tests feed it strings. Error texts name the key and the problem but never
// echo the value of a key line (it may be a private or preshared key).
#pragma once

#include <string>
#include <string_view>

#include "control/device_control.h"

namespace wgp::control {

// Negative errno values a UAPI reply carries (`errno=<n>`), as wg-go sends them.
inline constexpr int kUapiOk = 0;
inline constexpr int kUapiEio = -5;          // EIO
inline constexpr int kUapiEinval = -22;      // EINVAL: bad key or value
inline constexpr int kUapiEproto = -71;      // EPROTO: line is not key=value
inline constexpr int kUapiEaddrinuse = -98;  // EADDRINUSE: port or fwmark not applied

// One set request in progress. Construct it after the `set=1` line, call
// feed_line() for every following line without its '\n' up to (not
// including) the blank line, then finish(). After the first error, further
// lines are ignored and the same error is kept.
class UapiSetRequest {
 public:
  explicit UapiSetRequest(DeviceControl& device) : device_(device) {}

  // Applies one `key=value` line. Returns 0 or the request's (sticky) error.
  int feed_line(std::string_view line);
  // Ends the request (the blank line arrived); returns 0 or the error.
  int finish();

  int error() const { return error_; }
  // Why the request failed, fit for a log: key and reason, never a value.
  const std::string& error_text() const { return error_text_; }

 private:
  int fail(int code, std::string text);
  int device_line(std::string_view key, std::string_view value);
  int peer_line(std::string_view key, std::string_view value);
  int public_key_line(std::string_view value);

  DeviceControl& device_;
  int error_ = kUapiOk;
  std::string error_text_;
  bool in_peers_ = false;  // a public_key line was seen: device keys are over
  // The peer that peer keys apply to. `dummy_` (own key, removed, or
  // update_only on a new peer): values are still checked, but not applied.
  PublicKey peer_{};
  bool dummy_ = false;
  bool created_ = false;  // the current public_key line created the peer
};

// Applies a whole request body (the lines after `set=1`) up to the first blank
// line or the end of `body`. Returns 0 or the negative errno; `error_text`
// (optional) receives the reason.
int apply_set_request(DeviceControl& device, std::string_view body,
                      std::string* error_text = nullptr);

}  // namespace wgp::control
