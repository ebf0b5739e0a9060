#include "control/uapi_protocol.h"

#include "control/uapi_get.h"

namespace wgp::control {

UapiProtocol::UapiProtocol(DeviceControl& device, size_t max_line, size_t max_request)
    : device_(device), max_line_(max_line), max_request_(max_request) {}

void UapiProtocol::receive(std::string_view bytes) {
  if (state_ == State::kClosed) return;
  // Drop what was handled before growing, so the buffer holds at most one
  // partial line plus the latest read.
  if (consumed_ > 0) {
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  }
  buffer_.append(bytes);
}

UapiProtocol::Status UapiProtocol::step() {
  while (state_ != State::kClosed) {
    size_t nl = buffer_.find('\n', consumed_);
    if (nl == std::string::npos) {
      if (buffer_.size() - consumed_ > max_line_) return close("line too long");
      return Status::kNeedInput;
    }
    if (nl - consumed_ > max_line_) return close("line too long");
    std::string_view line(buffer_.data() + consumed_, nl - consumed_);
    consumed_ = nl + 1;
    Status status = handle_line(line);
    if (status != Status::kNeedInput) return status;
  }
  return Status::kClose;
}

UapiProtocol::Status UapiProtocol::handle_line(std::string_view line) {
  switch (state_) {
    case State::kOperation:
      if (line == "get=1") {
        state_ = State::kGetBlank;
      } else if (line == "set=1") {
        state_ = State::kSet;
        set_.emplace(device_);
        request_bytes_ = 0;
      } else {
        return close("unknown operation");
      }
      return Status::kNeedInput;

    case State::kGetBlank:
      if (!line.empty()) {
        // wg-go answers EINVAL for a get with trailing data; we also close,
        // since the rest of the stream can no longer be trusted to be framed.
        reply_ = "errno=" + std::to_string(kUapiEinval) + "\n\n";
        state_ = State::kClosed;
        last_error_ = "trailing data after get=1";
        return Status::kReply;
      }
      reply_ = format_get_reply(device_.snapshot());
      state_ = State::kOperation;
      return Status::kReply;

    case State::kSet: {
      if (line.empty()) {
        int code = set_->finish();
        if (code != kUapiOk) last_error_ = set_->error_text();
        set_.reset();
        reply_ = "errno=" + std::to_string(code) + "\n\n";
        state_ = State::kOperation;
        return Status::kReply;
      }
      request_bytes_ += line.size() + 1;
      if (request_bytes_ > max_request_) return close("set request too large");
      set_->feed_line(line);  // after an error the rest of the request is skipped
      return Status::kNeedInput;
    }

    case State::kClosed:
      break;
  }
  return Status::kClose;
}

UapiProtocol::Status UapiProtocol::close(std::string why) {
  state_ = State::kClosed;
  set_.reset();
  last_error_ = std::move(why);
  return Status::kClose;
}

}  // namespace wgp::control
