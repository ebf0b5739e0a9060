// One-line log messages to stderr ("wgpunch[wg0]: ..."). Never pass key
// material: log public keys in base64 at most.
#pragma once

#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <sstream>
#include <string>

namespace wgp {

class Log {
 public:
  static void set_prefix(std::string prefix) { prefix_() = std::move(prefix); }
  template <class... Args>
  static void info(const Args&... args) {
    std::ostringstream line;
    line << timestamp() << ' ' << prefix_() << ": ";
    (line << ... << args);
    line << '\n';
    std::cerr << line.str() << std::flush;
  }

 private:
  // Wall-clock time of day with milliseconds, as in wireguard-go's log.
  static std::string timestamp() {
    auto now = std::chrono::system_clock::now();
    std::time_t t = std::chrono::system_clock::to_time_t(now);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm tm;
    localtime_r(&t, &tm);
    char buf[16];
    std::snprintf(buf, sizeof buf, "%02d:%02d:%02d.%03d", tm.tm_hour, tm.tm_min, tm.tm_sec, int(ms));
    return buf;
  }
  static std::string& prefix_() {
    static std::string p = "wgpunch";
    return p;
  }
};

}  // namespace wgp
