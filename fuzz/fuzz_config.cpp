// The config file parser (src/config/config.h) on arbitrary text. Endpoint
// names go to a resolver that never touches the network: it answers from the
// name's length, so both the "resolved" and the "cannot resolve" paths run.
// Properties: the only exception is ConfigError, its message is one line, and
// it never repeats the interface's private key or a TransferKey secret.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "config/config.h"

namespace {

using namespace wgp;

constexpr const char* kBase64Alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_config: %s\n", what);
  std::abort();
}

ResolveResult fake_resolver(const std::string& host) {
  switch (host.size() % 3) {
    case 0:
      return {{*IpAddress::parse("192.0.2.53")}, ""};
    case 1:
      return {{*IpAddress::parse("2001:db8::53"), *IpAddress::parse("192.0.2.54")}, ""};
    default:
      return {{}, "no such host (fuzz resolver)"};
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 16384) return -1;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    Config c = parse_config(text, "fuzz.conf", fake_resolver);
    for (const auto& w : c.warnings)
      if (w.find('\n') != std::string::npos) fail("warning spans lines");
  } catch (const ConfigError& e) {
    std::string_view what = e.what();
    if (what.find('\n') != std::string_view::npos) fail("error message spans lines");
    // Key material of the input never comes back in a message: no 44-character
    // base64 key that the input holds may appear in what().
    for (size_t at = text.find("PrivateKey"); at != std::string_view::npos;
         at = text.find("PrivateKey", at + 1)) {
      size_t eq = text.find('=', at);
      if (eq == std::string_view::npos) break;
      size_t start = text.find_first_not_of(" \t", eq + 1);
      if (start == std::string_view::npos || start + 44 > text.size()) continue;
      std::string_view key = text.substr(start, 44);
      if (key.find_first_of(" \t\r\n#") != std::string_view::npos) continue;
      if (what.find(key) != std::string_view::npos) fail("error message repeats a private key");
    }
    // Nor a TransferKey secret: the text after the last ':' of its line, when
    // it is base64 as a secret is (any other text there could be a phrase of
    // the message's own wording, which the fuzzer learns and plants).
    for (size_t at = text.find("TransferKey"); at != std::string_view::npos;
         at = text.find("TransferKey", at + 1)) {
      size_t end = text.find_first_of("\r\n#", at);
      std::string_view line = text.substr(at, end == std::string_view::npos ? end : end - at);
      size_t colon = line.rfind(':');
      if (colon == std::string_view::npos) continue;
      std::string_view secret = line.substr(colon + 1);
      while (!secret.empty() && (secret.back() == ' ' || secret.back() == '\t'))
        secret.remove_suffix(1);
      while (!secret.empty() && (secret.front() == ' ' || secret.front() == '\t'))
        secret.remove_prefix(1);
      if (secret.find_first_not_of(kBase64Alphabet) != std::string_view::npos) continue;
      if (secret.size() >= 12 && what.find(secret) != std::string_view::npos)
        fail("error message repeats a TransferKey secret");
    }
  }
  return 0;
}
