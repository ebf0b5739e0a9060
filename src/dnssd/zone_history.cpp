#include "dnssd/zone_history.h"

#include <algorithm>

#include "dnssd/serial.h"

namespace wgp::dnssd {

void ZoneHistory::reset(uint32_t serial, RecordList records) {
  serial_ = serial;
  records_ = std::move(records);
  journal_.clear();
  journal_bytes_ = 0;
}

bool ZoneHistory::commit(uint32_t serial, RecordList records) {
  if (!serial_less(serial_, serial)) return false;
  ZoneDiff diff;
  diff.from = serial_;
  diff.to = serial;
  diff_records(records_, records, diff.removed, diff.added);
  journal_bytes_ += diff.wire_size();
  journal_.push_back(std::move(diff));
  serial_ = serial;
  records_ = std::move(records);
  trim();
  return true;
}

void ZoneHistory::trim() {
  size_t bound = std::max(kMinJournalBytes, records_.wire_size());
  size_t drop = 0;
  while (drop < journal_.size() &&
         (journal_.size() - drop > kMaxVersions || journal_bytes_ > bound)) {
    journal_bytes_ -= journal_[drop].wire_size();
    ++drop;
  }
  journal_.erase(journal_.begin(), journal_.begin() + std::ptrdiff_t(drop));
}

std::optional<std::span<const ZoneDiff>> ZoneHistory::diffs_since(uint32_t serial) const {
  if (serial == serial_) return std::span<const ZoneDiff>();
  // Serials in the journal follow one another: find the one that starts at `serial`.
  for (size_t i = 0; i < journal_.size(); ++i)
    if (journal_[i].from == serial) return std::span<const ZoneDiff>(journal_).subspan(i);
  return std::nullopt;
}

}  // namespace wgp::dnssd
