#include "dnssd/peer_txt.h"

#include <algorithm>

namespace wgp::dnssd {

namespace {

constexpr size_t kMaxString = 255;  // RFC 1035 §3.3: a length byte
constexpr std::string_view kVersion = "txtvers=1";
constexpr std::string_view kAllowedKey = "allowed=";

void put_string(std::vector<uint8_t>& out, std::string_view s) {
  out.push_back(uint8_t(s.size()));
  out.insert(out.end(), s.begin(), s.end());
}

// "allowed=<p1>,<p2>..." with as many whole prefixes as fit one string.
std::string allowed_string(const std::vector<IpPrefix>& allowed) {
  std::string s(kAllowedKey);
  for (const IpPrefix& p : allowed) {
    std::string item = (s.size() > kAllowedKey.size() ? "," : "") + p.to_string();
    if (s.size() + item.size() > kMaxString) break;
    s += item;
  }
  return s;
}

}  // namespace

std::vector<uint8_t> build_peer_txt(const PeerTxt& txt) {
  std::vector<uint8_t> out;
  out.reserve(128);
  put_string(out, kVersion);
  put_string(out, "pub=" + key_to_base64(txt.key));
  put_string(out, allowed_string(txt.allowed));
  if (!txt.name.empty()) put_string(out, "name=" + txt.name);
  return out;
}

}  // namespace wgp::dnssd
