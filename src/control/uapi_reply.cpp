#include "control/uapi_reply.h"

#include <charconv>
#include <chrono>

#include "control/uapi_get.h"
#include "util/bytes.h"

namespace wgp::control {
namespace {

template <typename T>
bool parse_number(std::string_view text, T& out) {
  if (text.empty()) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

// Cuts the next '\n'-terminated line off `text`. False at the end or on an
// unterminated last line (wg rejects those too).
bool next_line(std::string_view& text, std::string_view& line) {
  size_t nl = text.find('\n');
  if (nl == std::string_view::npos) return false;
  line = text.substr(0, nl);
  text.remove_prefix(nl + 1);
  return true;
}

class ReplyParser {
 public:
  explicit ReplyParser(DeviceSnapshot& out) : out_(out) {}

  GetReplyResult run(std::string_view text) {
    std::string_view line;
    while (next_line(text, line)) {
      if (line.empty()) return fail("blank line before errno");
      size_t eq = line.find('=');
      if (eq == std::string_view::npos) return fail("line without '='");
      std::string_view key = line.substr(0, eq), value = line.substr(eq + 1);
      if (key == "errno") return finish(value);
      if (!take(key, value)) return fail("bad value for " + std::string(key));
    }
    return fail("reply ended before errno");
  }

 private:
  GetReplyResult fail(std::string why) { return {false, 0, std::move(why)}; }

  GetReplyResult finish(std::string_view value) {
    int code = 0;
    if (!parse_number(value, code)) return fail("bad errno value");
    if (code != 0) return {false, code, "server reported errno " + std::to_string(code)};
    finish_handshake_time();
    return {true, 0, {}};
  }

  PeerSnapshot* peer() { return out_.peers.empty() ? nullptr : &out_.peers.back(); }

  bool take(std::string_view key, std::string_view value) {
    if (key == "public_key") {
      finish_handshake_time();
      auto pk = from_hex_exact<kKeySize>(value);
      if (!pk) return false;
      out_.peers.emplace_back().public_key = *pk;
      return true;
    }
    if (key.starts_with(kExtraKeyPrefix)) {
      auto& extra = peer() ? peer()->extra : out_.extra;
      extra.emplace_back(std::string(key.substr(kExtraKeyPrefix.size())), std::string(value));
      return true;
    }
    return peer() ? take_peer(*peer(), key, value) : take_device(key, value);
  }

  bool take_device(std::string_view key, std::string_view value) {
    if (key == "private_key") {
      auto sk = secret_key_from_hex(value);
      if (!sk) return false;
      if (sk->is_zero()) {
        out_.private_key.reset();
      } else {
        out_.private_key = std::move(*sk);
      }
      return true;
    }
    if (key == "listen_port") return parse_number(value, out_.listen_port);
    if (key == "fwmark") return parse_number(value, out_.fwmark);
    return true;  // unknown device keys are ignored, as wg does
  }

  bool take_peer(PeerSnapshot& p, std::string_view key, std::string_view value) {
    if (key == "preshared_key") {
      auto psk = secret_key_from_hex(value);
      if (!psk) return false;
      p.preshared_key = std::move(*psk);
      return true;
    }
    if (key == "endpoint") {
      p.endpoint = Endpoint::parse(value);
      return p.endpoint.has_value();
    }
    // Bounded so that sec * 1e9 + nsec fits WallTime's int64 nanoseconds
    // (a fuzzer found the signed overflow); the formatter never sends more.
    if (key == "last_handshake_time_sec")
      return parse_number(value, handshake_sec_) && handshake_sec_ >= -kMaxHandshakeSec &&
             handshake_sec_ <= kMaxHandshakeSec;
    if (key == "last_handshake_time_nsec")
      return parse_number(value, handshake_nsec_) && handshake_nsec_ >= 0 &&
             handshake_nsec_ < 1'000'000'000;
    if (key == "tx_bytes") return parse_number(value, p.tx_bytes);
    if (key == "rx_bytes") return parse_number(value, p.rx_bytes);
    if (key == "persistent_keepalive_interval") return parse_number(value, p.persistent_keepalive);
    if (key == "allowed_ip") {
      auto prefix = IpPrefix::parse(value);
      if (!prefix) return false;
      p.allowed_ips.push_back(*prefix);
      return true;
    }
    return true;  // protocol_version and unknown keys
  }

  // sec/nsec arrive on separate lines; 0/0 means never.
  void finish_handshake_time() {
    if (PeerSnapshot* p = peer(); p && (handshake_sec_ != 0 || handshake_nsec_ != 0)) {
      p->last_handshake = WallTime(std::chrono::duration_cast<WallTime::duration>(
          std::chrono::seconds(handshake_sec_) + std::chrono::nanoseconds(handshake_nsec_)));
    }
    handshake_sec_ = 0;
    handshake_nsec_ = 0;
  }

  // |sec| * 1e9 + 999'999'999 < 2^63: years 1677 to 2262, less two seconds.
  static constexpr int64_t kMaxHandshakeSec = 9'223'372'035;

  DeviceSnapshot& out_;
  int64_t handshake_sec_ = 0;
  int64_t handshake_nsec_ = 0;
};

}  // namespace

GetReplyResult parse_get_reply(std::string_view reply, DeviceSnapshot& out) {
  return ReplyParser(out).run(reply);
}

std::optional<int> parse_errno_reply(std::string_view reply) {
  std::string_view line;
  if (!next_line(reply, line) || !line.starts_with("errno=")) return std::nullopt;
  int code = 0;
  if (!parse_number(line.substr(6), code)) return std::nullopt;
  return code;
}

}  // namespace wgp::control
