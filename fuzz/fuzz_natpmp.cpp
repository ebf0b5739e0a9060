// NAT-PMP replies (RFC 6886) as libnatpmp reads them for the NAT-PMP client
// (src/node/natpmp_client.cpp). libnatpmp reads only from its own socket, so
// the harness is a real one on loopback: a "gateway" socket on port 5351 of
// an address of 127/8 chosen per process (no privilege, no clash with a
// parallel run), a libnatpmp handle told that gateway (forcegw), and each
// input sent from the gateway to the handle after a request, then read.
// Input: byte 0 picks the request (bit 0: 0 public address, 1 UDP mapping);
// the rest is the reply datagram. Besides "no crash, no overread", checked:
// a reply libnatpmp accepts is of a type it knows.
#include <arpa/inet.h>
#include <natpmp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_natpmp: %s\n", what);
  std::abort();
}

struct Harness {
  int gateway = -1;
  sockaddr_in gateway_address{};
  natpmp_t handle{};
  sockaddr_in handle_address{};

  Harness() {
    gateway = socket(AF_INET, SOCK_DGRAM, 0);
    if (gateway < 0) fail("no UDP socket");
    gateway_address.sin_family = AF_INET;
    gateway_address.sin_port = htons(NATPMP_PORT);
    // 127.x.y.1 from the pid; the next one along when taken.
    bool bound = false;
    for (unsigned i = 0; i < 64 && !bound; ++i) {
      unsigned n = (unsigned(getpid()) + i * 7919u) & 0xffffu;
      gateway_address.sin_addr.s_addr = htonl(0x7f000001u | (n << 8));
      bound =
          bind(gateway, reinterpret_cast<sockaddr*>(&gateway_address), sizeof gateway_address) == 0;
    }
    if (!bound) fail("no free 127/8 address for the gateway");
    if (initnatpmp(&handle, 1, gateway_address.sin_addr.s_addr) != 0) fail("initnatpmp");
    socklen_t len = sizeof handle_address;
    if (getsockname(handle.s, reinterpret_cast<sockaddr*>(&handle_address), &len) != 0)
      fail("getsockname");
  }

  void drain_requests() {
    unsigned char buf[64];
    while (recv(gateway, buf, sizeof buf, MSG_DONTWAIT) > 0) {
    }
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Harness h;
  if (size < 1) return 0;
  const bool mapping = data[0] & 1;
  int rc = mapping ? sendnewportmappingrequest(&h.handle, NATPMP_PROTOCOL_UDP, 51820, 51820, 7200)
                   : sendpublicaddressrequest(&h.handle);
  if (rc < 0) fail("the request was not sent");
  h.drain_requests();
  if (sendto(h.gateway, data + 1, size - 1, 0, reinterpret_cast<sockaddr*>(&h.handle_address),
             sizeof h.handle_address) != ssize_t(size - 1))
    fail("the reply was not sent");
  natpmpresp_t response;
  rc = readnatpmpresponseorretry(&h.handle, &response);
  // Whatever happened, nothing is left pending for the next input.
  h.handle.has_pending_request = 0;
  unsigned char rest[2048];
  while (recv(h.handle.s, rest, sizeof rest, MSG_DONTWAIT) > 0) {
  }
  // The client matches the type to its request itself; libnatpmp gives one
  // of the three it knows.
  if (rc == 0 && response.type != NATPMP_RESPTYPE_PUBLICADDRESS &&
      response.type != NATPMP_RESPTYPE_UDPPORTMAPPING &&
      response.type != NATPMP_RESPTYPE_TCPPORTMAPPING)
    fail("a reply of an unknown type accepted");
  return 0;
}
