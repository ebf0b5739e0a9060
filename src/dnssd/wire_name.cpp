#include "dnssd/wire_name.h"

#include <cstdio>

#include "dnssd/responder_query.h"

namespace wgp::dnssd {

std::optional<std::vector<uint8_t>> wire_name(std::string_view text) {
  std::vector<uint8_t> out;
  if (text == ".") return std::vector<uint8_t>{0};
  if (!text.empty() && text.back() == '.') text.remove_suffix(1);
  if (text.empty()) return std::nullopt;
  size_t start = 0;
  for (;;) {
    size_t dot = text.find('.', start);
    std::string_view label = text.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (label.empty() || label.size() > kMaxLabel) return std::nullopt;
    out.push_back(uint8_t(label.size()));
    for (char c : label) out.push_back(uint8_t(c >= 'A' && c <= 'Z' ? c + 32 : c));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  out.push_back(0);
  if (out.size() > kMaxNameWire) return std::nullopt;
  return out;
}

std::string name_text(ByteView wire) {
  std::string out;
  size_t pos = 0;
  while (pos < wire.size() && wire[pos] != 0) {
    size_t len = wire[pos];
    for (size_t i = pos + 1; i <= pos + len && i < wire.size(); ++i) {
      uint8_t c = wire[i];
      if (c == '.' || c == '\\') {
        out.push_back('\\');
        out.push_back(char(c));
      } else if (c > 0x20 && c < 0x7f) {
        out.push_back(char(c));
      } else {
        char esc[5];
        std::snprintf(esc, sizeof esc, "\\%03u", unsigned(c));
        out += esc;
      }
    }
    out.push_back('.');
    pos += 1 + len;
  }
  return out.empty() ? "." : out;
}

}  // namespace wgp::dnssd
