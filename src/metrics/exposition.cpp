// Prometheus text format 0.0.4: the escaping rules (label values escape '\',
// '"' and newline; HELP escapes '\' and newline) and number formatting.
#include "metrics/exposition.h"

#include <charconv>
#include <cmath>
#include <set>
#include <stdexcept>

namespace wgp::metrics {
namespace {

bool name_char(char c, bool first, bool colon_ok) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') return true;
  if (c == ':') return colon_ok;
  return !first && c >= '0' && c <= '9';
}

bool valid_name(std::string_view name, bool colon_ok) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i)
    if (!name_char(name[i], i == 0, colon_ok)) return false;
  return true;
}

void append_escaped(std::string& out, std::string_view text, bool quote) {
  for (char c : text) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else if (c == '"' && quote)
      out += "\\\"";
    else
      out += c;
  }
}

// Integers exactly; doubles in the shortest form that reads back the same
// (std::to_chars), whole ones without exponent, with Prometheus's spellings
// of the special values.
void append_value(std::string& out, const Value& value) {
  char buf[32];
  if (const uint64_t* n = std::get_if<uint64_t>(&value)) {
    auto r = std::to_chars(buf, buf + sizeof buf, *n);
    out.append(buf, r.ptr);
    return;
  }
  double d = std::get<double>(value);
  if (std::isnan(d)) {
    out += "NaN";
  } else if (std::isinf(d)) {
    out += d > 0 ? "+Inf" : "-Inf";
  } else if (d == std::trunc(d) && std::fabs(d) < 0x1p53) {
    // Whole numbers (timestamps) as integers: "1700000000", not "1.7e+09".
    auto r = std::to_chars(buf, buf + sizeof buf, int64_t(d));
    out.append(buf, r.ptr);
  } else {
    auto r = std::to_chars(buf, buf + sizeof buf, d);
    out.append(buf, r.ptr);
  }
}

void check_family(const Family& f, std::set<std::string_view>& seen) {
  if (!valid_metric_name(f.name)) throw std::invalid_argument("metric name '" + f.name + "'");
  if (f.type == MetricType::kCounter && !f.name.ends_with("_total"))
    throw std::invalid_argument("counter '" + f.name + "' does not end in _total");
  if (!seen.insert(f.name).second) throw std::invalid_argument("metric '" + f.name + "' twice");
  for (const Sample& s : f.samples)
    for (const Label& l : s.labels)
      if (!valid_label_name(l.name))
        throw std::invalid_argument("label name '" + l.name + "' of " + f.name);
}

}  // namespace

bool valid_metric_name(std::string_view name) { return valid_name(name, true); }

bool valid_label_name(std::string_view name) {
  return valid_name(name, false) && !name.starts_with("__");
}

std::string format_exposition(const std::vector<Family>& families) {
  std::string out;
  std::set<std::string_view> seen;
  for (const Family& f : families) {
    check_family(f, seen);
    if (f.samples.empty()) continue;
    out += "# HELP " + f.name + ' ';
    append_escaped(out, f.help, false);
    out += "\n# TYPE " + f.name + (f.type == MetricType::kCounter ? " counter\n" : " gauge\n");
    for (const Sample& s : f.samples) {
      out += f.name;
      if (!s.labels.empty()) {
        out += '{';
        for (size_t i = 0; i < s.labels.size(); ++i) {
          if (i) out += ',';
          out += s.labels[i].name + "=\"";
          append_escaped(out, s.labels[i].value, true);
          out += '"';
        }
        out += '}';
      }
      out += ' ';
      append_value(out, s.value);
      out += '\n';
    }
  }
  return out;
}

}  // namespace wgp::metrics
