// Finding the gateway's UPnP device: the unicast M-SEARCH we send, the
// LOCATION we read from the answer (miniupnpd 2.3.1's, captured in a test
// namespace), and which description URLs count as on our link.
#include "portmap/ssdp.h"

#include <gtest/gtest.h>

namespace wgp::portmap {
namespace {

IpAddress ip(const char* text) { return *IpAddress::parse(text); }

ByteView bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// What miniupnpd 2.3.1 answered our M-SEARCH (tests/integration/test_portmap.sh's router).
constexpr std::string_view kMiniupnpdAnswer =
    "HTTP/1.1 200 OK\r\n"
    "CACHE-CONTROL: max-age=120\r\n"
    "ST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n"
    "USN: uuid:3d3cec3a-8cf0-11e0-98ee-001a6b17b7d3::urn:schemas-upnp-org:device:"
    "InternetGatewayDevice:1\r\n"
    "EXT:\r\n"
    "SERVER: Debian/6.18.44 UPnP/1.1 MiniUPnPd/2.3.1\r\n"
    "LOCATION: http://10.2.0.1:39203/rootDesc.xml\r\n"
    "OPT: \"http://schemas.upnp.org/upnp/1/0/\"; ns=01\r\n"
    "01-NLS: 1796624868\r\n"
    "BOOTID.UPNP.ORG: 1796624868\r\n"
    "CONFIGID.UPNP.ORG: 1337\r\n"
    "\r\n";

TEST(Ssdp, MSearchIsUnicastToTheGateway) {
  EXPECT_EQ(build_msearch(ip("10.2.0.1")),
            "M-SEARCH * HTTP/1.1\r\nHOST: 10.2.0.1:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 1\r\n"
            "ST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n\r\n");
}

TEST(Ssdp, ReadsTheLocationOfMiniupnpdsAnswer) {
  EXPECT_EQ(read_ssdp_location(bytes(kMiniupnpdAnswer)), "http://10.2.0.1:39203/rootDesc.xml");
  // Header names are case-insensitive.
  EXPECT_EQ(read_ssdp_location(bytes("HTTP/1.1 200 OK\r\nlocation: http://10.0.0.1/d.xml\r\n\r\n")),
            "http://10.0.0.1/d.xml");
}

TEST(Ssdp, RefusesOtherAnswers) {
  for (std::string_view bad : {
           std::string_view(""),
           std::string_view("HTTP/1.1 404 Not Found\r\nLOCATION: http://10.0.0.1/\r\n\r\n"),
           std::string_view("HTTP/1.1 200 OK\r\nST: x\r\n\r\n"),  // no LOCATION
           std::string_view("HTTP/1.1 200 OK\r\nLOCATION:\r\n\r\n"),
           std::string_view("M-SEARCH * HTTP/1.1\r\nHOST: 10.0.0.1:1900\r\n\r\n"),  // a request
           std::string_view("HTTP/1.1 200 OK\r\nLOCATION: http://10.0.0.1/\r\n"),   // cut short
           std::string_view("\x00\x01garbage", 9),
       })
    EXPECT_FALSE(read_ssdp_location(bytes(bad))) << bad;
  std::string huge =
      "HTTP/1.1 200 OK\r\nLOCATION: http://10.0.0.1/" + std::string(3000, 'a') + "\r\n\r\n";
  EXPECT_FALSE(read_ssdp_location(bytes(huge)));
}

TEST(Ssdp, ParsesHttpUrlsWithAnIpv4Host) {
  auto u = parse_http_url("http://10.2.0.1:39203/rootDesc.xml");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, ip("10.2.0.1"));
  EXPECT_EQ(u->port, 39203);
  EXPECT_EQ(u->path, "/rootDesc.xml");
  u = parse_http_url("HTTP://10.2.0.1");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->port, 80);
  EXPECT_EQ(u->path, "/");
  for (std::string_view bad :
       {"https://10.2.0.1/", "http://router.lan/", "http://[fe80::1]/", "http://10.2.0.1:0/",
        "http://10.2.0.1:70000/", "http://10.2.0.1:/", "http://u@10.2.0.1/", "http://10.2.0.1:80x/",
        "ftp://10.2.0.1/", "http:/", ""})
    EXPECT_FALSE(parse_http_url(bad)) << bad;
}

TEST(Ssdp, OnlyDevicesOnOurLink) {
  InterfaceAddress link = *InterfaceAddress::parse("10.2.0.2/24");
  EXPECT_TRUE(url_on_link("http://10.2.0.1:39203/rootDesc.xml", link));
  EXPECT_TRUE(url_on_link("http://10.2.0.200/ctl", link));
  EXPECT_FALSE(url_on_link("http://10.2.1.1/rootDesc.xml", link)) << "another subnet";
  EXPECT_FALSE(url_on_link("http://192.0.3.1/rootDesc.xml", link)) << "the Internet";
  EXPECT_FALSE(url_on_link("http://10.2.0.2/rootDesc.xml", link)) << "ourselves";
  EXPECT_FALSE(url_on_link("http://127.0.0.1/rootDesc.xml", link));
  EXPECT_FALSE(url_on_link("http://router/rootDesc.xml", link));
}

}  // namespace
}  // namespace wgp::portmap
