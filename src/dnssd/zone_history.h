// The versions of the registry's zone that secondaries copy (DESIGN.md §10):
// the current one whole, for AXFR, and a journal of the differences between
// the recent ones, for IXFR (RFC 1995), oldest first.
//
// A version is the sorted set of the zone's records but the SOA (ZoneView::
// all_records, sorted), and its serial. The journal keeps at most
// kMaxVersions differences and no more bytes than the zone itself (at least
// kMinJournalBytes): past that, an AXFR costs less than replaying the
// journal, which is also when BIND's max-journal-size logic gives up. A
// secondary whose serial the journal no longer reaches gets an AXFR.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "dnssd/record_list.h"

namespace wgp::dnssd {

// What changed from version `from` to version `to`.
struct ZoneDiff {
  uint32_t from = 0;
  uint32_t to = 0;
  RecordList removed;
  RecordList added;
  size_t wire_size() const { return removed.wire_size() + added.wire_size(); }
};

class ZoneHistory {
 public:
  static constexpr size_t kMaxVersions = 128;
  static constexpr size_t kMinJournalBytes = 64 * 1024;

  // The first version: `records` sorted (sort_unique), without the SOA.
  // Forgets the journal.
  void reset(uint32_t serial, RecordList records);
  // `records` (sorted, no SOA) becomes version `serial`, which must follow
  // the current one (RFC 1982); the difference goes to the journal. Returns
  // false, changing nothing, when the serial does not follow.
  bool commit(uint32_t serial, RecordList records);

  uint32_t serial() const { return serial_; }
  const RecordList& records() const { return records_; }

  // The differences that lead from version `serial` to the current one,
  // oldest first (empty when `serial` is the current one); nullopt when the
  // journal does not reach back to it (or it never was a version).
  std::optional<std::span<const ZoneDiff>> diffs_since(uint32_t serial) const;

  size_t journal_versions() const { return journal_.size(); }
  size_t journal_bytes() const { return journal_bytes_; }
  // The serial of the oldest version the journal reaches back to.
  uint32_t oldest_serial() const { return journal_.empty() ? serial_ : journal_.front().from; }

 private:
  void trim();

  uint32_t serial_ = 0;
  RecordList records_;
  std::vector<ZoneDiff> journal_;
  size_t journal_bytes_ = 0;
};

}  // namespace wgp::dnssd
