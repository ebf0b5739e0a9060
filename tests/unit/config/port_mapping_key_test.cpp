// [Interface] PortMapping = auto | no (issue 20): auto by default, either
// case, once, and a one-line error naming file, line and key otherwise.
#include <gtest/gtest.h>

#include "config/config.h"
#include "config_test_util.h"

namespace wgp {
namespace {

using namespace wgp::testing;

TEST(PortMappingKey, AutoByDefault) { EXPECT_TRUE(parse(with_interface("")).port_mapping); }

TEST(PortMappingKey, AutoOrNo) {
  EXPECT_TRUE(parse(with_interface("PortMapping = auto\n")).port_mapping);
  EXPECT_TRUE(parse(with_interface("portmapping = AUTO\n")).port_mapping);
  EXPECT_FALSE(parse(with_interface("PortMapping = no\n")).port_mapping);
  EXPECT_FALSE(parse(with_interface("PortMapping = No\n")).port_mapping);
}

TEST(PortMappingKey, Mistakes) {
  EXPECT_NE(error_of(with_interface("PortMapping = yes\n")).find("wg0.conf:3: PortMapping:"),
            std::string::npos);
  EXPECT_NE(error_of(with_interface("PortMapping = no\nPortMapping = auto\n")).find("PortMapping"),
            std::string::npos);
}

}  // namespace
}  // namespace wgp
