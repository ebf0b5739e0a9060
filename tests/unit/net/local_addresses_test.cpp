// Which of a host's addresses are worth publishing as candidates (DESIGN.md
// §9), and that the host's real list honours the exclusions.
#include "net/local_addresses.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace wgp {
namespace {

TEST(LocalAddresses, CandidatesAreLanIpv4AndGlobalIpv6) {
  auto yes = [](const char* a) { return is_candidate_address(*IpAddress::parse(a)); };
  EXPECT_TRUE(yes("10.1.0.2"));
  EXPECT_TRUE(yes("192.168.1.20"));
  EXPECT_TRUE(yes("198.51.100.7"));
  EXPECT_TRUE(yes("2001:db8:1::2"));
  EXPECT_TRUE(yes("2a00:1450::1"));
  EXPECT_FALSE(yes("127.0.0.1"));
  EXPECT_FALSE(yes("127.1.2.3"));
  EXPECT_FALSE(yes("0.0.0.0"));
  EXPECT_FALSE(yes("169.254.10.1"));  // link-local
  EXPECT_FALSE(yes("224.0.0.1"));     // multicast
  EXPECT_FALSE(yes("255.255.255.255"));
  EXPECT_FALSE(yes("::1"));
  EXPECT_FALSE(yes("::"));
  EXPECT_FALSE(yes("fe80::1"));       // link-local
  EXPECT_FALSE(yes("fd00::1"));       // unique local: most often a tunnel's own
  EXPECT_FALSE(yes("::ffff:10.1.0.2"));
  EXPECT_FALSE(yes("ff02::1"));
}

TEST(LocalAddresses, HostListHasNoLoopbackNoRepeatsAndHonoursExclusions) {
  auto all = local_candidate_addresses("", {});
  for (const IpAddress& a : all) EXPECT_TRUE(is_candidate_address(a)) << a.to_string();
  for (size_t i = 0; i < all.size(); ++i)
    for (size_t j = i + 1; j < all.size(); ++j) EXPECT_NE(all[i], all[j]);
  if (!all.empty()) {
    auto fewer = local_candidate_addresses("", std::span(&all[0], 1));
    EXPECT_EQ(std::find(fewer.begin(), fewer.end(), all[0]), fewer.end());
  }
}

TEST(LocalAddresses, WatchSocketOpensAndNeverBlocks) {
  UniqueFd fd = open_address_watch();
  EXPECT_TRUE(fd);
  (void)drain_address_watch(fd.get());  // non-blocking: returns at once either way
  EXPECT_FALSE(drain_address_watch(fd.get()) && drain_address_watch(fd.get()) &&
               drain_address_watch(fd.get()))
      << "three drains in a row all found something: it does not drain";
}

}  // namespace
}  // namespace wgp
