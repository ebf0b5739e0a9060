// Resource records in wire form, many in one buffer: how the registry holds
// a version of its zone, the differences between two versions, and the
// records one name owns. A record is stored exactly as an uncompressed
// message carries it (owner, TYPE, CLASS, TTL, RDLENGTH, RDATA, RFC 1035
// §4.1.3), so that comparing two records is comparing bytes and writing one
// into a message is a copy (plus name compression, see zone_transfer.h).
//
// Only our own records go in (ZoneView builds them): the accessors trust the
// bytes and do not re-check them.
#pragma once

#include <cstdint>
#include <vector>

#include "util/bytes.h"

namespace wgp::dnssd {

// One record of a RecordList, as views into its buffer.
struct WireRecord {
  ByteView wire;   // the whole record
  ByteView owner;  // wire-form name, uncompressed
  uint16_t type = 0;
  uint32_t ttl = 0;
  ByteView rdata;
};

class RecordList {
 public:
  // Appends a class-IN record. `owner` is an uncompressed wire-form name, and
  // names in `rdata` too. `rdata` at most 65,535 bytes.
  void add(ByteView owner, uint16_t type, uint32_t ttl, ByteView rdata);
  void add(const WireRecord& record) { add_wire(record.wire); }
  void add_wire(ByteView record);

  size_t size() const { return starts_.size(); }
  bool empty() const { return starts_.empty(); }
  WireRecord operator[](size_t i) const;
  // The bytes of all records, as an uncompressed message would hold them.
  size_t wire_size() const { return bytes_.size(); }
  ByteView bytes() const { return bytes_; }
  // What the list keeps allocated (for status and the journal's bound).
  size_t memory() const { return bytes_.capacity() + starts_.capacity() * sizeof(uint32_t); }
  void clear();
  void reserve(size_t records, size_t bytes);

  // Sorts by the records' bytes and drops repeats (a set, for comparing two
  // versions of a zone).
  void sort_unique();
  // Same records in the same order.
  bool operator==(const RecordList& other) const;

 private:
  std::vector<uint8_t> bytes_;
  std::vector<uint32_t> starts_;  // offset of each record in bytes_
};

// For two sorted lists: `removed` gets what only `before` has, `added` what
// only `after` has, both sorted.
void diff_records(const RecordList& before, const RecordList& after, RecordList& removed,
                  RecordList& added);

}  // namespace wgp::dnssd
