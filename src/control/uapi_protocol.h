// One UAPI connection's protocol, without the socket: bytes go in, replies
// come out. A connection carries any number of requests, each
//   get=1\n\n                      -> the get reply (format_get_reply)
//   set=1\n key=value\n ... \n     -> errno=N\n\n  (lines applied as they arrive)
// Like wireguard-go, an unknown operation line closes the connection. Lines
// longer than kMaxUapiLine and set requests larger than kMaxUapiRequest close
// it too, so a client cannot make the server buffer without bound.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "control/device_control.h"
#include "control/uapi_set.h"

namespace wgp::control {

class UapiProtocol {
 public:
  enum class Status {
    kNeedInput,  // no complete request left: read more, then call step() again
    kReply,      // take_reply() and send it, then call step() again
    kClose,      // close the connection (after sending any reply taken)
  };

  UapiProtocol(DeviceControl& device, size_t max_line, size_t max_request);

  // Appends received bytes. Call step() afterwards.
  void receive(std::string_view bytes);
  // Handles buffered lines until one reply is ready, input runs out, or the
  // connection must close. At most one reply is produced per call, so a
  // client that pipelines requests without reading cannot pile up output.
  Status step();
  // The reply produced by the last kReply (moved out).
  std::string take_reply() { return std::move(reply_); }
  // Why the last kClose or error happened (for a log line; never key material).
  const std::string& last_error() const { return last_error_; }

 private:
  enum class State { kOperation, kGetBlank, kSet, kClosed };
  Status handle_line(std::string_view line);
  Status close(std::string why);

  DeviceControl& device_;
  const size_t max_line_;
  const size_t max_request_;
  std::string buffer_;
  size_t consumed_ = 0;  // bytes of buffer_ already handled
  State state_ = State::kOperation;
  std::optional<UapiSetRequest> set_;
  size_t request_bytes_ = 0;
  std::string reply_;
  std::string last_error_;
};

}  // namespace wgp::control
