#include "dnssd/base32.h"

#include <array>
#include <cstring>

namespace wgp::dnssd {

namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

// Value of a base32 digit (either case), or -1.
int digit_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a';
  if (c >= '2' && c <= '7') return c - '2' + 26;
  return -1;
}

// Data characters in a final group of 8 for 1..5 bytes of input: the only
// lengths RFC 4648 §6 produces (the rest of the group is '=').
constexpr std::array<int, 5> kDigitsForBytes = {2, 4, 5, 7, 8};

}  // namespace

std::string base32_encode(ByteView data) {
  std::string out;
  out.reserve((data.size() + 4) / 5 * 8);
  for (size_t i = 0; i < data.size(); i += 5) {
    size_t n = std::min<size_t>(5, data.size() - i);
    uint64_t group = 0;  // 40 bits, the first byte most significant
    for (size_t j = 0; j < 5; ++j) group = group << 8 | (j < n ? data[i + j] : 0);
    int digits = kDigitsForBytes[n - 1];
    for (int j = 0; j < 8; ++j) {
      out.push_back(j < digits ? kAlphabet[(group >> (35 - 5 * j)) & 31] : '=');
    }
  }
  return out;
}

std::optional<std::vector<uint8_t>> base32_decode(std::string_view text) {
  if (text.size() % 8 != 0) return std::nullopt;
  std::vector<uint8_t> out;
  out.reserve(text.size() / 8 * 5);
  for (size_t i = 0; i < text.size(); i += 8) {
    bool last = i + 8 == text.size();
    int digits = 0;
    while (digits < 8 && text[i + digits] != '=') ++digits;
    // Padding only in the last group, only to the end of it.
    for (int j = digits; j < 8; ++j) {
      if (text[i + j] != '=') return std::nullopt;
    }
    if (!last && digits != 8) return std::nullopt;
    int bytes = 0;
    for (int b = 0; b < 5; ++b) {
      if (kDigitsForBytes[b] == digits) bytes = b + 1;
    }
    if (bytes == 0) return std::nullopt;
    uint64_t group = 0;
    for (int j = 0; j < 8; ++j) {
      int v = j < digits ? digit_value(text[i + j]) : 0;
      if (v < 0) return std::nullopt;
      group = group << 5 | uint64_t(v);
    }
    // Bits past the last whole byte must be zero (RFC 4648 §3.5, canonical).
    if (group & ((uint64_t(1) << (40 - 8 * bytes)) - 1)) return std::nullopt;
    for (int b = 0; b < bytes; ++b) out.push_back(uint8_t(group >> (32 - 8 * b)));
  }
  return out;
}

std::string peer_label(const PublicKey& key) { return base32_encode(ByteView(key)); }

std::optional<PublicKey> key_from_label(std::string_view label) {
  if (label.size() != kPeerLabelSize) return std::nullopt;
  auto bytes = base32_decode(label);
  if (!bytes || bytes->size() != kKeySize) return std::nullopt;
  PublicKey key;
  std::memcpy(key.data(), bytes->data(), kKeySize);
  return key;
}

}  // namespace wgp::dnssd
