#include "config/config_values.h"

#include <algorithm>
#include <cctype>
#include <cstdint>

namespace wgp::config {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

std::optional<uint64_t> parse_base(std::string_view text, unsigned base, uint64_t max) {
  if (text.empty()) return std::nullopt;
  uint64_t v = 0;
  for (char c : text) {
    unsigned d;
    if (is_digit(c)) {
      d = unsigned(c - '0');
    } else if (base == 16 && std::isxdigit(static_cast<unsigned char>(c))) {
      d = unsigned(std::tolower(static_cast<unsigned char>(c)) - 'a' + 10);
    } else {
      return std::nullopt;
    }
    if (d >= base || d > max) return std::nullopt;
    // Checked before multiplying, so no overflow for any max < 2^64 / 16.
    if (v > (max - d) / base) return std::nullopt;
    v = v * base + d;
  }
  return v;
}

}  // namespace

std::optional<uint64_t> parse_decimal(std::string_view text, uint64_t max) {
  return parse_base(text, 10, max);
}

std::optional<uint32_t> parse_fwmark(std::string_view text) {
  if (iequals(text, "off")) return 0;
  std::optional<uint64_t> v;
  // wg switches to hexadecimal on a lower-case "0x" prefix with digits after it.
  if (text.size() > 2 && text[0] == '0' && text[1] == 'x')
    v = parse_base(text.substr(2), 16, UINT32_MAX);
  else
    v = parse_base(text, 10, UINT32_MAX);
  if (!v) return std::nullopt;
  return uint32_t(*v);
}

std::optional<uint16_t> parse_keepalive(std::string_view text) {
  if (iequals(text, "off")) return 0;
  auto v = parse_decimal(text, 65535);
  if (!v) return std::nullopt;
  return uint16_t(*v);
}

std::optional<bool> parse_bool(std::string_view text) {
  if (iequals(text, "yes") || iequals(text, "true")) return true;
  if (iequals(text, "no") || iequals(text, "false")) return false;
  return std::nullopt;
}

std::vector<std::string_view> split_list(std::string_view text) {
  std::vector<std::string_view> out;
  if (text.empty()) return out;
  size_t start = 0;
  for (;;) {
    size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) {
      out.push_back(text.substr(start));
      return out;
    }
    out.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
}

std::optional<HostPort> split_host_port(std::string_view text, std::string& why) {
  HostPort hp;
  std::string_view port;
  if (text.empty()) {
    why = "empty endpoint";
    return std::nullopt;
  }
  if (text[0] == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) {
      why = "'[' without a matching ']'";
      return std::nullopt;
    }
    hp.host = std::string(text.substr(1, close - 1));
    if (close + 1 >= text.size() || text[close + 1] != ':') {
      why = "no ':PORT' after the ']'";
      return std::nullopt;
    }
    port = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      why = "no ':PORT' (write HOST:PORT or [IPv6]:PORT)";
      return std::nullopt;
    }
    hp.host = std::string(text.substr(0, colon));
    port = text.substr(colon + 1);
    if (hp.host.find(':') != std::string::npos) {
      why = "an IPv6 address must be in brackets: [IPv6]:PORT";
      return std::nullopt;
    }
  }
  if (hp.host.empty()) {
    why = "no host before the port";
    return std::nullopt;
  }
  auto p = parse_decimal(port, 65535);
  if (!p || *p == 0) {
    why = "port is not a number 1-65535";
    return std::nullopt;
  }
  hp.port = uint16_t(*p);
  return hp;
}

std::optional<std::string> normalise_dns_name(std::string_view text, std::string& why,
                                              size_t* wire_length) {
  if (text.empty()) {
    why = "empty name";
    return std::nullopt;
  }
  if (text == ".") {
    why = "the root zone cannot hold peers; name a zone below it";
    return std::nullopt;
  }
  std::string name = to_lower(text);
  if (name.back() != '.') name.push_back('.');
  size_t wire = 1;  // the root label's length byte
  size_t start = 0;
  while (start < name.size()) {
    size_t dot = name.find('.', start);
    std::string_view label(name.data() + start, dot - start);
    if (label.empty()) {
      why = "empty label (two dots in a row, or a leading dot)";
      return std::nullopt;
    }
    if (label.size() > 63) {
      why = "a label is longer than 63 characters";
      return std::nullopt;
    }
    for (char c : label) {
      if (!is_alpha(c) && !is_digit(c) && c != '-' && c != '_') {
        why = "labels may hold only letters, digits, '-' and '_'";
        return std::nullopt;
      }
    }
    if (label.front() == '-' || label.back() == '-') {
      why = "a label cannot begin or end with '-'";
      return std::nullopt;
    }
    wire += 1 + label.size();
    start = dot + 1;
  }
  if (wire > 255) {
    why = "longer than 255 bytes in wire form";
    return std::nullopt;
  }
  if (wire_length) *wire_length = wire;
  return name;
}

std::optional<std::string> parse_host_label(std::string_view text, std::string& why) {
  constexpr std::string_view kForm =
      " (a Name is one DNS label: 1-63 letters, digits and '-', not at either end; e.g. alice)";
  if (text.empty() || text.size() > 63 || text.front() == '-' || text.back() == '-' ||
      !std::all_of(text.begin(), text.end(),
                   [](char c) { return is_alpha(c) || is_digit(c) || c == '-'; })) {
    why = text.find('.') != std::string_view::npos ? "not one label: no '.' in a Name"
                                                   : "not a host name";
    why += kForm;
    return std::nullopt;
  }
  return to_lower(text);
}

bool safe_to_echo(std::string_view text) {
  if (text.empty()) return false;
  bool digits = true, word = true;
  for (char c : text) {
    digits = digits && is_digit(c);
    word = word && (is_alpha(c) || is_digit(c) || c == '_' || c == '-');
  }
  return (digits && text.size() <= 20) || (word && text.size() <= 8);
}

bool looks_like_a_name(std::string_view text) {
  if (text.size() < 9 || text.size() > 32 || !is_alpha(text[0])) return false;
  size_t capitals = 0;
  for (char c : text) {
    if (!is_alpha(c) && c != '_' && c != '-') return false;
    capitals += c >= 'A' && c <= 'Z';
  }
  size_t letters = size_t(std::count_if(text.begin(), text.end(), [](char c) { return is_alpha(c); }));
  return capitals == letters || capitals <= std::max<size_t>(1, text.size() / 5);
}

size_t edit_distance(std::string_view a, std::string_view b) {
  constexpr size_t kMax = 32;
  if (a.size() > kMax || b.size() > kMax) return SIZE_MAX;
  // One row of the classic dynamic programme; row[j] = distance(a[0..i), b[0..j)).
  size_t row[kMax + 1];
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      bool same = std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                  std::tolower(static_cast<unsigned char>(b[j - 1]));
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (same ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

bool near_name(std::string_view text, std::string_view name) {
  if (text.empty() || text.size() > 24) return false;
  for (char c : text)
    if (!is_alpha(c)) return false;
  size_t d = edit_distance(text, name);
  return d <= 2 && d * 3 <= name.size();
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

bool istarts_with(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && iequals(text.substr(0, prefix.size()), prefix);
}

std::string to_lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = char(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::optional<Endpoint> parse_listen_address(std::string_view text, std::string& why) {
  bool address_chars = !text.empty() && text.size() <= 50;
  for (char c : text)
    if (!std::isxdigit(static_cast<unsigned char>(c)) && c != '.' && c != ':' && c != '[' &&
        c != ']')
      address_chars = false;
  std::string shown = address_chars ? "'" + std::string(text) + "'" : "the value";
  auto endpoint = Endpoint::parse(text);
  if (!endpoint) {
    why = shown +
          " is not IP:PORT (e.g. 127.0.0.1:9586, or [::1]:9586 for IPv6; names are not resolved)";
    return std::nullopt;
  }
  if (endpoint->port == 0) {
    why = "port 0: give the port Prometheus will scrape (1-65535, e.g. 9586)";
    return std::nullopt;
  }
  return endpoint;
}

bool is_loopback(const IpAddress& address) {
  if (address.is_v4()) return address.bytes[0] == 127;
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::equal(kMapped, kMapped + 12, address.bytes.begin())) return address.bytes[12] == 127;
  for (size_t i = 0; i < 15; ++i)
    if (address.bytes[i] != 0) return false;
  return address.bytes[15] == 1;
}

}  // namespace wgp::config
