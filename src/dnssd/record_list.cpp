#include "dnssd/record_list.h"

#include <algorithm>
#include <cassert>
#include <cstring>

#include "dnssd/responder_query.h"

namespace wgp::dnssd {

namespace {

constexpr size_t kFixedFields = 10;  // TYPE, CLASS, TTL, RDLENGTH

// Length of the uncompressed name at the start of `wire`.
size_t name_length(ByteView wire) {
  size_t pos = 0;
  while (wire[pos] != 0) pos += 1 + wire[pos];
  return pos + 1;
}

int compare(ByteView a, ByteView b) {
  int c = std::memcmp(a.data(), b.data(), std::min(a.size(), b.size()));
  if (c != 0) return c;
  return a.size() < b.size() ? -1 : a.size() > b.size() ? 1 : 0;
}

}  // namespace

void RecordList::add(ByteView owner, uint16_t type, uint32_t ttl, ByteView rdata) {
  assert(rdata.size() <= 65535);
  starts_.push_back(uint32_t(bytes_.size()));
  size_t at = bytes_.size();
  bytes_.resize(at + owner.size() + kFixedFields + rdata.size());
  uint8_t* p = bytes_.data() + at;
  std::memcpy(p, owner.data(), owner.size());
  p += owner.size();
  store_be16(p, type);
  store_be16(p + 2, kClassIn);
  store_be32(p + 4, ttl);
  store_be16(p + 8, uint16_t(rdata.size()));
  if (!rdata.empty()) std::memcpy(p + kFixedFields, rdata.data(), rdata.size());
}

void RecordList::add_wire(ByteView record) {
  starts_.push_back(uint32_t(bytes_.size()));
  bytes_.insert(bytes_.end(), record.begin(), record.end());
}

WireRecord RecordList::operator[](size_t i) const {
  size_t start = starts_[i];
  size_t end = i + 1 < starts_.size() ? starts_[i + 1] : bytes_.size();
  ByteView wire(bytes_.data() + start, end - start);
  size_t owner = name_length(wire);
  const uint8_t* f = wire.data() + owner;
  return WireRecord{wire, wire.first(owner), load_be16(f), load_be32(f + 4),
                    wire.subspan(owner + kFixedFields)};
}

void RecordList::clear() {
  bytes_.clear();
  starts_.clear();
}

void RecordList::reserve(size_t records, size_t bytes) {
  starts_.reserve(records);
  bytes_.reserve(bytes);
}

void RecordList::sort_unique() {
  std::vector<ByteView> records(size());
  for (size_t i = 0; i < records.size(); ++i) records[i] = (*this)[i].wire;
  std::sort(records.begin(), records.end(),
            [](ByteView a, ByteView b) { return compare(a, b) < 0; });
  RecordList sorted;
  sorted.reserve(size(), bytes_.size());
  for (size_t k = 0; k < records.size(); ++k) {
    if (k > 0 && compare(records[k], records[k - 1]) == 0) continue;
    sorted.add_wire(records[k]);
  }
  *this = std::move(sorted);
}

bool RecordList::operator==(const RecordList& other) const {
  return starts_ == other.starts_ && bytes_ == other.bytes_;
}

void diff_records(const RecordList& before, const RecordList& after, RecordList& removed,
                  RecordList& added) {
  size_t i = 0, j = 0;
  while (i < before.size() || j < after.size()) {
    if (j == after.size()) {
      removed.add_wire(before[i++].wire);
    } else if (i == before.size()) {
      added.add_wire(after[j++].wire);
    } else {
      int c = compare(before[i].wire, after[j].wire);
      if (c < 0) {
        removed.add_wire(before[i++].wire);
      } else if (c > 0) {
        added.add_wire(after[j++].wire);
      } else {
        ++i;
        ++j;
      }
    }
  }
}

}  // namespace wgp::dnssd
