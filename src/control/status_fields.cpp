#include "control/status_fields.h"

#include <algorithm>
#include <array>

#include "control/device_control.h"

namespace wgp::control {
namespace {

constexpr std::array<std::string_view, 7> kLists = {
    "candidates",           "trying",           "offloads",      "discovery_registry",
    "registry_secondaries", "local_candidates", "restart_needed"};
constexpr std::array<std::string_view, 2> kFlags = {"registry_public", "registry_relay"};
// Text whatever it looks like (a zone name may be all digits and dots).
constexpr std::array<std::string_view, 9> kTexts = {"path",
                                                    "endpoint_source",
                                                    "discovery",
                                                    "discovery_zone",
                                                    "registry_zone",
                                                    "public_endpoint",
                                                    "discovery_last_failure",
                                                    "registry_transfer_key",
                                                    "network_namespace"};

template <size_t N>
bool in(const std::array<std::string_view, N>& table, std::string_view key) {
  return std::find(table.begin(), table.end(), key) != table.end();
}

bool decimal(std::string_view value) {
  return !value.empty() && value.size() <= 19 &&
         std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

FieldKind field_kind(std::string_view key, std::string_view value) {
  if (key.ends_with(kUnixTimeSuffix)) return FieldKind::kMoment;
  if (in(kLists, key)) return FieldKind::kList;
  if (in(kFlags, key)) return FieldKind::kFlag;
  if (in(kTexts, key) || key.starts_with("discovery_registry_")) return FieldKind::kText;
  return decimal(value) ? FieldKind::kNumber : FieldKind::kText;
}

}  // namespace wgp::control
