// The types of wgpunch's extra status fields (device_control.h), for
// `status --json`: the control socket carries every field as text, and this
// table says what each one is, so JSON readers get numbers as numbers, lists
// as arrays, yes/no as booleans and moments as Unix seconds or null. The
// schema is written out in wgpunch(8), STATUS IN JSON; keep the two together.
#pragma once

#include <string_view>

namespace wgp::control {

enum class FieldKind {
  kNumber,  // a counter or a size: a JSON number
  kText,    // a JSON string
  kList,    // ", "-separated (offloads: " "-separated): an array of strings
  kFlag,    // "yes" or "no": true or false
  kMoment,  // key ends in "_unix" (device_control.h): seconds or null
};

// What `key` holds. Keys that are not in the table are numbers when their
// value is a decimal integer and text otherwise (a newer node's fields).
FieldKind field_kind(std::string_view key, std::string_view value);

}  // namespace wgp::control
