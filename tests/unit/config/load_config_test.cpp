// load_config: reading the file, its mode, and errors about the file itself.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "config/config.h"
#include "config_test_util.h"

namespace wgp {
namespace {

using namespace wgp::testing;

// A config file in a fresh temporary directory, removed with the fixture.
class LoadConfig : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "wgpunch-config-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/wg0.conf";
  }
  void TearDown() override {
    ::unlink(path_.c_str());
    ::rmdir(dir_.c_str());
  }
  void write(const std::string& text, mode_t mode) {
    std::ofstream(path_) << text;
    ASSERT_EQ(::chmod(path_.c_str(), mode), 0);
  }
  std::string dir_, path_;
};

TEST_F(LoadConfig, OwnerOnlyFileHasNoWarning) {
  write(with_interface("ListenPort = 51820\n"), 0600);
  Config c = load_config(path_);
  EXPECT_EQ(c.path, path_);
  EXPECT_EQ(c.listen_port, std::optional<uint16_t>(51820));
  EXPECT_TRUE(c.warnings.empty());
}

TEST_F(LoadConfig, WorldReadableFileWarns) {
  write(with_interface(""), 0644);
  Config c = load_config(path_);
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_EQ(c.warnings[0], path_ +
                               ": readable or writable by others than its owner (mode 0644) but "
                               "holds a private key; chmod 600 it");
}

TEST_F(LoadConfig, GroupReadableFileWarnsToo) {
  write(with_interface(""), 0640);
  Config c = load_config(path_);
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_NE(c.warnings[0].find("(mode 0640)"), std::string::npos);
}

TEST_F(LoadConfig, ModeWarningComesFirstThenParserWarnings) {
  write(with_interface("[Peer]\nPublicKey = " + kBobPublic + "\nAllowedIPs = 10.0.0.9/24\n"), 0604);
  Config c = load_config(path_);
  ASSERT_EQ(c.warnings.size(), 2u);
  EXPECT_NE(c.warnings[0].find("(mode 0604)"), std::string::npos);
  EXPECT_EQ(c.warnings[1], path_ +
                               ":5: AllowedIPs: 10.0.0.9/24 has host bits set; it means "
                               "10.0.0.0/24");
}

TEST_F(LoadConfig, ErrorsNameThePath) {
  write(with_interface("Table = off\n"), 0600);
  try {
    load_config(path_);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.file(), path_);
    EXPECT_EQ(e.line(), 3);
    EXPECT_EQ(e.key(), "Table");
  }
}

TEST_F(LoadConfig, MissingFile) {
  try {
    load_config(path_);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), path_ + ": cannot open: No such file or directory");
  }
}

TEST_F(LoadConfig, DirectoryIsNotAConfig) {
  try {
    load_config(dir_);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), dir_ + ": not a regular file");
  }
}

TEST_F(LoadConfig, HugeFileIsRefused) {
  write(with_interface("") + std::string(2 << 20, '#'), 0600);
  try {
    load_config(path_);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), path_ + ": larger than 1 MiB; not a config");
  }
}

}  // namespace
}  // namespace wgp
