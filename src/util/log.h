// One-line log messages to stderr ("wgpunch[wg0]: ..."). Never pass key
// material: log public keys in base64 at most.
#pragma once

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
    line << prefix_() << ": ";
    (line << ... << args);
    line << '\n';
    std::cerr << line.str() << std::flush;
  }

 private:
  static std::string& prefix_() {
    static std::string p = "wgpunch";
    return p;
  }
};

}  // namespace wgp
