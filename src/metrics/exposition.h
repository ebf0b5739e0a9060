// Prometheus text exposition format, version 0.0.4: what a scrape of
// `MetricsListen` returns. Pure: families of samples in, text out. The node's
// own metrics (device_metrics.h) are built as families and formatted here, so
// the format's rules (names, escaping, HELP/TYPE lines) live in one place.
// https://prometheus.io/docs/instrumenting/exposition_formats/
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace wgp::metrics {

// The Content-Type a scrape answer carries.
constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

enum class MetricType { kCounter, kGauge };

struct Label {
  std::string name;   // [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__"
  std::string value;  // any UTF-8; escaped on output
};

// Counts are exact integers; times and ratios are doubles.
using Value = std::variant<uint64_t, double>;

struct Sample {
  std::vector<Label> labels;
  Value value;
};

// One metric family: HELP and TYPE once, then its samples. A counter's name
// ends in "_total" (Prometheus naming conventions); units are base units
// (seconds, bytes) and part of the name.
struct Family {
  std::string name;  // [a-zA-Z_:][a-zA-Z0-9_:]*
  std::string help;  // one line; '\' and newlines are escaped on output
  MetricType type = MetricType::kGauge;
  std::vector<Sample> samples;
};

bool valid_metric_name(std::string_view name);
bool valid_label_name(std::string_view name);

// The exposition of `families` in order. Families without samples are left
// out. Throws std::invalid_argument for an invalid metric or label name, a
// counter whose name lacks "_total", or two families of one name: those are
// programming errors, and a scraper would reject the whole answer.
std::string format_exposition(const std::vector<Family>& families);

}  // namespace wgp::metrics
