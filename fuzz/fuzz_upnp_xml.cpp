// The XML a UPnP gateway sends us, through the parsers of libminiupnpc that
// the UPnP client (src/node/upnp_client.cpp) runs on it: parserootdesc for
// the device description UPNP_GetIGDFromUrl fetches, ParseNameValue for the
// SOAP answers of GetExternalIPAddress and AddPortMapping. The library's
// parsers, but the bytes are the gateway's and they land in our process.
// Input: byte 0 picks the parser (bit 0: 0 description, 1 SOAP answer); the
// rest is the document. Besides "no crash, no overread", checked: every
// string the description parser fills is NUL-terminated in its field, and
// the external address read from a SOAP answer is a string our IpAddress
// parser takes or refuses, as the client does.
#include <miniupnpc/miniupnpc.h>
#include <miniupnpc/upnpreplyparse.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "net/ip.h"

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_upnp_xml: %s\n", what);
  std::abort();
}

void check_terminated(const char* field, size_t size, const char* what) {
  if (strnlen(field, size) == size) fail(what);
}

void description(const char* xml, int size) {
  IGDdatas data;
  std::memset(&data, 0, sizeof data);
  parserootdesc(xml, size, &data);
  check_terminated(data.urlbase, sizeof data.urlbase, "urlbase");
  check_terminated(data.presentationurl, sizeof data.presentationurl, "presentationurl");
  for (const IGDdatas_service* s : {&data.CIF, &data.first, &data.second, &data.IPv6FC}) {
    check_terminated(s->controlurl, sizeof s->controlurl, "controlurl");
    check_terminated(s->eventsuburl, sizeof s->eventsuburl, "eventsuburl");
    check_terminated(s->scpdurl, sizeof s->scpdurl, "scpdurl");
    check_terminated(s->servicetype, sizeof s->servicetype, "servicetype");
  }
}

void soap_answer(const char* xml, int size) {
  NameValueParserData data;
  std::memset(&data, 0, sizeof data);
  ParseNameValue(xml, size, &data);
  for (const char* name : {"NewExternalIPAddress", "errorCode", "NewReservedPort"}) {
    const char* value = GetValueFromNameValueList(&data, name);
    if (value) (void)wgp::IpAddress::parse(value);
  }
  ClearNameValueList(&data);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const char* xml = reinterpret_cast<const char*>(data + 1);
  const int length = int(size - 1);
  if (data[0] & 1)
    soap_answer(xml, length);
  else
    description(xml, length);
  return 0;
}
