// The config parser's state machine, internal to src/config/: parse_config
// feeds it the file line by line, then finish() runs the checks that need the
// whole file and resolves endpoint names. Split from config.cpp so the line
// rules (parser.cpp) and the whole-file rules (parser_finish.cpp) each fit in
// one file.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace wgp::config {

enum class Section { kNone, kInterface, kPeer, kRegistry, kDiscovery };

class Parser {
 public:
  Parser(const std::string& path, const Resolver& resolve) : path_(path), resolve_(resolve) {
    config_.path = path;
  }

  // One line of the file as read (comments and whitespace still in it).
  // `number` counts from 1. Throws ConfigError.
  void feed_line(int number, std::string_view raw);

  // Checks that need the whole file, then resolves endpoints. Call once, after
  // the last line. Throws ConfigError.
  Config finish();

 private:
  // Where things were written, for messages about them after the fact.
  struct PeerLines {
    int public_key = 0;
    int endpoint = 0;
    int name = 0;
  };

  [[noreturn]] void fail(int line, std::string_view key, const std::string& problem) const;
  void warn(int line, std::string_view key, const std::string& problem);

  void section_header(int line, std::string_view text);
  void key_value(int line, std::string_view key, std::string_view value);
  void interface_key(int line, const std::string& key, std::string_view value);
  void peer_key(int line, const std::string& key, std::string_view value);
  void registry_key(int line, const std::string& key, std::string_view value);
  void transfer_key(int line, const std::string& key, std::string_view value);
  void secondary(int line, const std::string& key, std::string_view item);
  void discovery_key(int line, const std::string& key, std::string_view value);
  // Records a single-valued key; a second one in the same section is an error.
  void once(int line, const std::string& key);
  // A [Registry] or [Discovery] Zone, canonical (lower case, trailing dot).
  std::string zone(int line, const std::string& key, std::string_view value);

  void check_interface();
  void check_peers();
  void check_registry_and_discovery();
  void check_names();
  void resolve_endpoints();

  std::string path_;
  const Resolver& resolve_;
  Config config_;

  Section section_ = Section::kNone;
  int section_line_ = 0;
  std::map<std::string, int> seen_;  // single-valued keys of this section -> line
  int interface_line_ = 0;
  int private_key_line_ = 0;
  int mtu_line_ = 0;
  int registry_line_ = 0;       // [Registry] header
  int discovery_line_ = 0;      // [Discovery] header
  int secondary_line_ = 0;      // the first [Registry] Secondary
  int transfer_key_line_ = 0;   // [Registry] TransferKey
  int self_line_ = 0;                    // [Registry] Self
  int self_endpoint_line_ = 0;           // [Registry] SelfEndpoint
  std::vector<int> registry_key_lines_;  // per entry of DiscoveryConfig::registries
  bool have_private_key_ = false;
  std::vector<PeerLines> peer_lines_;  // parallel to config_.peers
};

}  // namespace wgp::config
