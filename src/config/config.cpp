// parse_config and load_config: the file around the line parser.
#include "config/config.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "config/parser.h"

namespace wgp {
namespace {

std::string format_message(const std::string& file, int line, const std::string& key,
                           const std::string& problem) {
  std::string m = file;
  if (line > 0) m += ":" + std::to_string(line);
  if (line > 0 && !key.empty()) m += ": " + key;
  return m + ": " + problem;
}

// A config is a few hundred bytes; a bigger file is a mistake (a device, a
// log), and reading it whole would take unbounded memory.
constexpr off_t kMaxConfigSize = 1 << 20;

// Closes the descriptor on every path out of load_config.
struct FdCloser {
  int fd;
  ~FdCloser() { ::close(fd); }
};

}  // namespace

ConfigError::ConfigError(const std::string& file, int line, const std::string& key,
                         const std::string& problem)
    : std::runtime_error(format_message(file, line, key, problem)),
      file_(file),
      line_(line),
      key_(line > 0 ? key : std::string()),
      problem_(problem) {}

ConfigError::ConfigError(const std::string& file, const std::string& problem)
    : ConfigError(file, 0, "", problem) {}

Config parse_config(std::string_view text, const std::string& path_for_messages,
                    const Resolver& resolve) {
  config::Parser parser(path_for_messages, resolve);
  int number = 0;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    parser.feed_line(++number, text.substr(start, end - start));
    start = end + 1;
  }
  return parser.finish();
}

Config load_config(const std::string& path, std::optional<gid_t> trusted_group) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) throw ConfigError(path, std::string("cannot open: ") + std::strerror(errno));
  FdCloser closer{fd};
  // fstat on the open descriptor: the mode checked is the file actually read.
  struct stat st {};
  if (::fstat(fd, &st) != 0)
    throw ConfigError(path, std::string("cannot stat: ") + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) throw ConfigError(path, "not a regular file");
  if (st.st_size > kMaxConfigSize) throw ConfigError(path, "larger than 1 MiB; not a config");

  // The buffer holds the private key: wipe it whatever happens next.
  std::string text;
  struct Wiper {
    std::string& s;
    ~Wiper() { sodium_memzero(s.data(), s.size()); }
  } wiper{text};
  text.resize(size_t(st.st_size) + 1);  // one more byte to notice a file that grew
  size_t got = 0;
  while (got < text.size()) {
    ssize_t n = ::read(fd, text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw ConfigError(path, std::string("cannot read: ") + std::strerror(errno));
    if (n == 0) break;
    got += size_t(n);
  }
  if (got > size_t(st.st_size)) throw ConfigError(path, "changed while being read");

  Config config = parse_config(std::string_view(text.data(), got), path);
  // wg-quick warns unless the mode ends in 00; the same test here, except
  // that the --user's group may read (mode 0640, group of that user).
  mode_t tolerated = trusted_group && st.st_gid == *trusted_group ? S_IRGRP : 0;
  if (st.st_mode & (S_IRWXG | S_IRWXO) & ~tolerated) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", unsigned(st.st_mode & 07777));
    config.warnings.insert(config.warnings.begin(),
                           path + ": readable or writable by others than its owner (mode " + mode +
                               ") but holds a private key; chmod 600 it");
  }
  return config;
}

}  // namespace wgp
