#include "portmap/ssdp.h"

#include <boost/beast/http.hpp>
#include <cctype>
#include <charconv>
#include <utility>  // before Asio: Boost 1.74 awaitable.hpp needs std::exchange

namespace wgp::portmap {

namespace http = boost::beast::http;

namespace {
constexpr size_t kMaxAnswer = 2048;
}

std::string build_msearch(const IpAddress& gateway) {
  return "M-SEARCH * HTTP/1.1\r\n"
         "HOST: " +
         gateway.to_string() + ":" + std::to_string(kSsdpPort) +
         "\r\n"
         "MAN: \"ssdp:discover\"\r\n"
         "MX: 1\r\n"
         "ST: " +
         std::string(kIgdSearchTarget) + "\r\n\r\n";
}

std::optional<std::string> read_ssdp_location(ByteView datagram) {
  if (datagram.empty() || datagram.size() > kMaxAnswer) return std::nullopt;
  http::response_parser<http::empty_body> parser;
  parser.header_limit(kMaxAnswer);
  parser.eager(true);
  boost::beast::error_code ec;
  parser.put(boost::asio::buffer(datagram.data(), datagram.size()), ec);
  // The answer ends with its header; a body (there should be none) ends at
  // the datagram's end.
  if (!ec && !parser.is_done()) parser.put_eof(ec);
  if (ec || !parser.is_header_done()) return std::nullopt;
  const auto& answer = parser.get();
  if (answer.result() != http::status::ok) return std::nullopt;
  auto location = answer.find("LOCATION");
  if (location == answer.end() || location->value().empty()) return std::nullopt;
  return std::string(location->value());
}

std::optional<HttpUrl> parse_http_url(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  if (url.size() < kScheme.size()) return std::nullopt;
  for (size_t i = 0; i < kScheme.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(url[i])) != kScheme[i]) return std::nullopt;
  url.remove_prefix(kScheme.size());
  size_t end = url.find('/');
  std::string_view authority = url.substr(0, end);
  HttpUrl out;
  if (end != std::string_view::npos) out.path = std::string(url.substr(end));
  if (authority.find('@') != std::string_view::npos) return std::nullopt;
  size_t colon = authority.find(':');
  auto host = IpAddress::parse(authority.substr(0, colon));
  if (!host || !host->is_v4()) return std::nullopt;
  out.host = *host;
  if (colon != std::string_view::npos) {
    std::string_view port = authority.substr(colon + 1);
    unsigned value = 0;
    auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || ec != std::errc() || p != port.data() + port.size() || value == 0 ||
        value > 65535)
      return std::nullopt;
    out.port = uint16_t(value);
  }
  return out;
}

bool url_on_link(std::string_view url, const InterfaceAddress& link) {
  auto parsed = parse_http_url(url);
  if (!parsed || !link.address.is_v4() || parsed->host == link.address) return false;
  auto subnet = IpPrefix::parse(link.address.to_string() + "/" + std::to_string(link.length));
  return subnet && subnet->contains(parsed->host);
}

}  // namespace wgp::portmap
