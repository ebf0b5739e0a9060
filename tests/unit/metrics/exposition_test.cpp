// format_exposition against the text format's rules: exact output for a
// small set of families, escaping, numbers, and the names it must refuse.
#include "metrics/exposition.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace wgp::metrics {
namespace {

TEST(Exposition, HelpTypeAndSamplesInOrder) {
  std::vector<Family> families = {
      {"demo_bytes_total",
       "Bytes seen.",
       MetricType::kCounter,
       {{{{"peer", "a"}}, uint64_t(5)}, {{{"peer", "b"}, {"dir", "in"}}, uint64_t(7)}}},
      {"demo_up", "Always 1.", MetricType::kGauge, {{{}, uint64_t(1)}}},
  };
  EXPECT_EQ(format_exposition(families),
            "# HELP demo_bytes_total Bytes seen.\n"
            "# TYPE demo_bytes_total counter\n"
            "demo_bytes_total{peer=\"a\"} 5\n"
            "demo_bytes_total{peer=\"b\",dir=\"in\"} 7\n"
            "# HELP demo_up Always 1.\n"
            "# TYPE demo_up gauge\n"
            "demo_up 1\n");
}

TEST(Exposition, EscapesLabelValuesAndHelp) {
  std::vector<Family> families = {
      {"demo",
       "back\\slash\nnewline \"quotes\" stay",
       MetricType::kGauge,
       {{{{"v", "a\\b\"c\nd"}}, uint64_t(0)}}},
  };
  EXPECT_EQ(format_exposition(families),
            "# HELP demo back\\\\slash\\nnewline \"quotes\" stay\n"
            "# TYPE demo gauge\n"
            "demo{v=\"a\\\\b\\\"c\\nd\"} 0\n");
}

TEST(Exposition, NumbersExactAndSpecialValues) {
  auto one = [](Value v) {
    std::string text = format_exposition({{"n", "h", MetricType::kGauge, {{{}, v}}}});
    return text.substr(text.rfind("n ") + 2);
  };
  EXPECT_EQ(one(std::numeric_limits<uint64_t>::max()), "18446744073709551615\n");
  EXPECT_EQ(one(uint64_t(0)), "0\n");
  EXPECT_EQ(one(1700000000.25), "1700000000.25\n");
  EXPECT_EQ(one(0.1), "0.1\n");
  EXPECT_EQ(one(1700000000.0), "1700000000\n");
  EXPECT_EQ(one(-3.0), "-3\n");
  EXPECT_EQ(one(1e300), "1e+300\n");
  EXPECT_EQ(one(std::nan("")), "NaN\n");
  EXPECT_EQ(one(std::numeric_limits<double>::infinity()), "+Inf\n");
  EXPECT_EQ(one(-std::numeric_limits<double>::infinity()), "-Inf\n");
}

TEST(Exposition, FamiliesWithoutSamplesAreLeftOut) {
  EXPECT_EQ(format_exposition({{"empty_total", "h", MetricType::kCounter, {}}}), "");
}

TEST(Exposition, RefusesWhatAScraperWouldReject) {
  auto fmt = [](Family f) { return format_exposition({std::move(f)}); };
  EXPECT_THROW(fmt({"9lives", "h", MetricType::kGauge, {{{}, uint64_t(1)}}}),
               std::invalid_argument);
  EXPECT_THROW(fmt({"a-b", "h", MetricType::kGauge, {{{}, uint64_t(1)}}}), std::invalid_argument);
  EXPECT_THROW(fmt({"bytes", "h", MetricType::kCounter, {{{}, uint64_t(1)}}}),
               std::invalid_argument);
  EXPECT_THROW(fmt({"g", "h", MetricType::kGauge, {{{{"__name", "x"}}, uint64_t(1)}}}),
               std::invalid_argument);
  EXPECT_THROW(fmt({"g", "h", MetricType::kGauge, {{{{"a:b", "x"}}, uint64_t(1)}}}),
               std::invalid_argument);
  Family twice{"g", "h", MetricType::kGauge, {{{}, uint64_t(1)}}};
  EXPECT_THROW(format_exposition({twice, twice}), std::invalid_argument);
}

TEST(Exposition, NameRules) {
  EXPECT_TRUE(valid_metric_name("wgpunch_peer_receive_bytes_total"));
  EXPECT_TRUE(valid_metric_name("ns:rule_total"));
  EXPECT_TRUE(valid_metric_name("_x9"));
  EXPECT_FALSE(valid_metric_name(""));
  EXPECT_FALSE(valid_metric_name("1x"));
  EXPECT_FALSE(valid_metric_name("a b"));
  EXPECT_TRUE(valid_label_name("public_key"));
  EXPECT_FALSE(valid_label_name("__reserved"));
  EXPECT_FALSE(valid_label_name("a:b"));
  EXPECT_FALSE(valid_label_name("0a"));
}

}  // namespace
}  // namespace wgp::metrics
