// The config file parser (src/config/config.h) on arbitrary text. Endpoint
// names go to a resolver that never touches the network: it answers from the
// name's length, so both the "resolved" and the "cannot resolve" paths run.
// Properties: the only exception is ConfigError, messages and warnings are
// one line each, and none repeats a piece of a secret of the input.
//
// The secret oracle is differential, so that it cannot mistake the message's
// own wording for a leak (a fuzzer learns the wording and plants it as a key):
// the input is parsed twice, the second time with every secret value
// disguised (each base64 character replaced by another, see disguise()). A
// 12-character piece of a secret leaks when the first output holds it and the
// second output holds its disguised form: the output follows the secret.
// Secrets are the values of PrivateKey and PresharedKey and the part after
// the last ':' of TransferKey, names matched in any case as the parser does.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "config/config.h"

namespace {

using namespace wgp;

constexpr std::string_view kBase64Digits =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr size_t kPiece = 12;  // as config_mutation_test: no 12 characters of a secret

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

bool same_name(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if ((a[i] | 0x20) != (b[i] | 0x20)) return false;
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

struct SecretValue {
  size_t at = 0, size = 0;  // in the input text
};

// The secret values of `text`, line by line ("Name = value # comment").
std::vector<SecretValue> find_secrets(std::string_view text) {
  std::vector<SecretValue> out;
  for (size_t begin = 0; begin < text.size();) {
    size_t end = text.find('\n', begin);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(begin, end - begin);
    size_t eq = line.find('=');
    if (eq != std::string_view::npos) {
      std::string_view name = trim(line.substr(0, eq));
      std::string_view value = line.substr(eq + 1);
      value = trim(value.substr(0, value.find('#')));
      if (same_name(name, "TransferKey")) {
        size_t colon = value.rfind(':');
        value =
            colon == std::string_view::npos ? std::string_view() : trim(value.substr(colon + 1));
      } else if (!same_name(name, "PrivateKey") && !same_name(name, "PresharedKey")) {
        value = {};
      }
      if (value.size() >= kPiece) out.push_back({size_t(value.data() - text.data()), value.size()});
    }
    begin = end + 1;
  }
  return out;
}

// Another base64 digit with the same two low bits: the 6-bit value XOR 44.
// A key's last digit before '=' carries two zero bits, so what decoded still
// decodes (to other bytes); any other character stays.
char disguise(char c) {
  size_t v = kBase64Digits.find(c);
  return v == std::string_view::npos ? c : kBase64Digits[v ^ 44];
}

// Every message and warning of one parse, one per line.
std::string parse_output(std::string_view text) {
  std::string out;
  try {
    Config c = parse_config(text, "fuzz.conf", fake_resolver);
    for (const auto& w : c.warnings) {
      if (w.find('\n') != std::string::npos) fail("warning spans lines");
      out += w + "\n";
    }
  } catch (const ConfigError& e) {
    std::string_view what = e.what();
    if (what.find('\n') != std::string_view::npos) fail("error message spans lines");
    out += std::string(what) + "\n";
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 16384) return -1;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string output = parse_output(text);
  std::vector<SecretValue> secrets = find_secrets(text);
  if (secrets.empty()) return 0;
  std::string disguised(text);
  for (const SecretValue& s : secrets)
    for (size_t i = s.at; i < s.at + s.size; ++i) disguised[i] = disguise(disguised[i]);
  std::string disguised_output = parse_output(disguised);
  for (const SecretValue& s : secrets)
    for (size_t i = s.at; i + kPiece <= s.at + s.size; ++i) {
      std::string_view piece = text.substr(i, kPiece);
      if (piece.find_first_not_of(kBase64Digits) != std::string_view::npos) continue;
      if (output.find(piece) != std::string::npos &&
          disguised_output.find(std::string_view(disguised).substr(i, kPiece)) != std::string::npos)
        fail(
            "a message or warning repeats a piece of a secret (PrivateKey, PresharedKey, "
            "TransferKey)");
    }
  return 0;
}
