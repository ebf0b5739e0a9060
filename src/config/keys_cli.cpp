#include "config/keys_cli.h"

#include <sodium.h>

#include <cctype>
#include <istream>
#include <ostream>
#include <string>

#include "crypto/keys.h"
#include "crypto/x25519.h"

namespace wgp {
namespace {

// Anything longer is not a key; stop reading rather than buffer a stream.
constexpr size_t kMaxInput = 1024;

void write_key(std::ostream& out, std::span<const uint8_t, kKeySize> key) {
  std::string text = key_to_base64(key);
  out << text << '\n';
  out.flush();
  sodium_memzero(text.data(), text.size());
  if (!out) throw KeyCliError("cannot write the key to standard output");
}

// Zeroes a string's bytes when it goes out of scope (it held a private key).
struct WipeOnExit {
  std::string& s;
  ~WipeOnExit() { sodium_memzero(s.data(), s.size()); }
};

}  // namespace

void genkey(std::ostream& out, Random& rng) {
  PrivateKey key = generate_private_key(rng);
  write_key(out, key.span());
}

void genkey(std::ostream& out) {
  SystemRandom rng;
  genkey(out, rng);
}

void pubkey(std::istream& in, std::ostream& out) {
  std::string input;
  WipeOnExit wipe{input};
  // Reserved up front so the string never reallocates and leaves a copy behind.
  input.reserve(kMaxInput + 1);
  char c;
  while (input.size() <= kMaxInput && in.get(c)) input.push_back(c);
  if (input.size() > kMaxInput)
    throw KeyCliError("input is too long: expected one base64 private key");
  size_t begin = 0, end = input.size();
  while (begin < end && std::isspace(static_cast<unsigned char>(input[begin]))) ++begin;
  while (end > begin && std::isspace(static_cast<unsigned char>(input[end - 1]))) --end;
  if (begin == end) throw KeyCliError("no private key on standard input");
  auto key = secret_key_from_base64(std::string_view(input).substr(begin, end - begin));
  if (!key)
    throw KeyCliError(
        "not a private key: expected 44 characters of base64 (as 'wgpunch genkey' prints)");
  PublicKey pub = derive_public_key(*key);
  write_key(out, pub);
}

void genpsk(std::ostream& out, Random& rng) {
  Secret<kKeySize> key;
  rng.fill(key.span());
  write_key(out, key.span());
}

void genpsk(std::ostream& out) {
  SystemRandom rng;
  genpsk(out, rng);
}

}  // namespace wgp
