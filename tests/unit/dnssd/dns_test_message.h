// A hand-written DNS message writer for the discovery and NOTIFY tests: it
// writes exactly the bytes asked for, including lies (counts, lengths,
// pointers) that no library would produce.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "crypto/keys.h"
#include "util/bytes.h"

namespace wgp::dnssd::testing {

using Bytes = std::vector<uint8_t>;

// A made-up public key, different for each `first`.
inline PublicKey test_key(uint8_t first) {
  PublicKey k;
  for (size_t i = 0; i < k.size(); ++i) k[i] = uint8_t(first * 7 + i);
  return k;
}

// Header flag words (bytes 2–3).
constexpr uint16_t kQr = 0x8000, kAa = 0x0400, kTc = 0x0200, kRd = 0x0100;
constexpr uint16_t opcode_bits(uint8_t opcode) { return uint16_t(opcode << 11); }

inline void put16(Bytes& b, uint16_t v) {
  b.push_back(uint8_t(v >> 8));
  b.push_back(uint8_t(v));
}

// "a.b." → 01 'a' 01 'b' 00 (no escapes; "" and "." are the root).
inline Bytes name(std::string_view text) {
  Bytes out;
  while (!text.empty() && text != ".") {
    size_t dot = text.find('.');
    std::string_view label = text.substr(0, dot);
    out.push_back(uint8_t(label.size()));
    out.insert(out.end(), label.begin(), label.end());
    text = dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
  }
  out.push_back(0);
  return out;
}

// A compression pointer to `offset` (RFC 1035 §4.1.4).
inline Bytes pointer(uint16_t offset) { return {uint8_t(0xc0 | (offset >> 8)), uint8_t(offset)}; }

inline Bytes cat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

inline Bytes question(const Bytes& owner, uint16_t type, uint16_t cls = 1) {
  Bytes b = owner;
  put16(b, type);
  put16(b, cls);
  return b;
}

inline Bytes record(const Bytes& owner, uint16_t type, const Bytes& rdata, uint16_t cls = 1,
                    uint32_t ttl = 0) {
  Bytes b = owner;
  put16(b, type);
  put16(b, cls);
  put16(b, uint16_t(ttl >> 16));
  put16(b, uint16_t(ttl));
  put16(b, uint16_t(rdata.size()));
  return cat(b, rdata);
}

inline Bytes srv_rdata(uint16_t port, const Bytes& target, uint16_t priority = 0,
                       uint16_t weight = 0) {
  Bytes b;
  put16(b, priority);
  put16(b, weight);
  put16(b, port);
  return cat(b, target);
}

// An EDNS(0) OPT record with UDP size `size` (RFC 6891 §6.1.2).
inline Bytes opt(uint16_t size = 1232) { return record(name("."), 41, {}, size, 0); }

// Sections are lists of already-written entries; the counts come from them.
struct Message {
  uint16_t id = 0x1234;
  uint16_t flags = kQr | kAa;
  std::vector<Bytes> questions, answers, authority, additional;

  Bytes wire() const {
    Bytes b;
    put16(b, id);
    put16(b, flags);
    for (auto* s : {&questions, &answers, &authority, &additional}) put16(b, uint16_t(s->size()));
    for (auto* s : {&questions, &answers, &authority, &additional}) {
      for (const Bytes& e : *s) b = cat(b, e);
    }
    return b;
  }
};

}  // namespace wgp::dnssd::testing
