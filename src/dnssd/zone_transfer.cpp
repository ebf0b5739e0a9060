#include "dnssd/zone_transfer.h"

#include <cstring>
#include <string_view>
#include <unordered_map>

namespace wgp::dnssd {

namespace {

constexpr size_t kFixedFields = 10;     // TYPE, CLASS, TTL, RDLENGTH
constexpr size_t kOptRecordSize = 11;   // root owner, fixed fields, empty RDATA
constexpr size_t kSoaFixedFields = 20;  // SERIAL .. MINIMUM
constexpr uint16_t kMaxPointer = 0x3FFF;

std::string_view chars(ByteView b) {
  return std::string_view(reinterpret_cast<const char*>(b.data()), b.size());
}

// Length of the uncompressed name at the start of `wire` (our own records).
size_t name_length(ByteView wire) {
  size_t pos = 0;
  while (wire[pos] != 0) pos += 1 + wire[pos];
  return pos + 1;
}

// Writes the records of one response into messages of at most `limit`
// bytes, compressing names against earlier ones of the same message. The
// names it is given must outlive it (the dictionary points into them).
class TransferWriter {
 public:
  TransferWriter(const ParsedQuery& query, size_t limit, uint8_t rcode,
                 std::vector<std::vector<uint8_t>>& out)
      : query_(query), limit_(limit), rcode_(rcode), out_(out) {
    open();
  }

  void add(const WireRecord& r) {
    // The uncompressed size bounds the written one.
    size_t worst = r.wire.size();
    if (count_ > 0 && msg().size() + worst + room_ > limit_) {
      close();
      open();
    }
    write_name(r.owner);
    size_t fixed = msg().size();
    msg().insert(msg().end(), r.wire.begin() + std::ptrdiff_t(r.owner.size()),
                 r.wire.begin() + std::ptrdiff_t(r.owner.size() + kFixedFields));
    size_t rdata_start = msg().size();
    if (r.type == kTypeNs || r.type == kTypePtr) {
      write_name(r.rdata);
    } else if (r.type == kTypeSoa) {
      size_t mname = name_length(r.rdata);
      size_t rname = name_length(r.rdata.subspan(mname));
      write_name(r.rdata.first(mname));
      write_name(r.rdata.subspan(mname, rname));
      append(r.rdata.subspan(mname + rname, kSoaFixedFields));
    } else {
      append(r.rdata);
    }
    store_be16(msg().data() + fixed + 8, uint16_t(msg().size() - rdata_start));
    ++count_;
  }

  void finish() { close(); }

 private:
  std::vector<uint8_t>& msg() { return out_.back(); }
  void append(ByteView b) { msg().insert(msg().end(), b.begin(), b.end()); }

  void open() {
    out_.emplace_back();
    msg().reserve(limit_);
    msg().resize(kDnsHeaderBytes);
    uint8_t* h = msg().data();
    store_be16(h, query_.id);
    h[2] = uint8_t(0x80 | 0x04 | (query_.flags_hi & 0x01));      // QR, AA, RD copied
    h[3] = uint8_t((query_.flags_lo & 0x10) | (rcode_ & 0x0F));  // CD copied
    dictionary_.clear();
    count_ = 0;
    room_ = 0;
    if (first_) {  // the question, as asked, and room for the OPT
      register_labels(query_.name_view(), msg().size(), query_.name_size - 1);
      append(query_.name_view());
      uint8_t tail[4];
      store_be16(tail, query_.qtype);
      store_be16(tail + 2, query_.qclass);
      append(tail);
      store_be16(h + 4, 1);
      if (query_.has_edns) room_ = kOptRecordSize;
    }
  }

  void close() {
    uint8_t* h = msg().data();
    store_be16(h + 6, uint16_t(count_));
    if (first_ && query_.has_edns) {
      uint8_t opt[kOptRecordSize] = {0};
      store_be16(opt + 1, kTypeOpt);
      store_be16(opt + 3, kAdvertisedUdpSize);
      opt[7] = query_.edns_do ? 0x80 : 0;
      append(opt);
      store_be16(msg().data() + 10, 1);
    }
    first_ = false;
  }

  // Writes `name` (uncompressed wire form): its longest suffix seen before
  // in this message becomes a pointer; the labels written register theirs.
  void write_name(ByteView name) {
    size_t at = msg().size();
    size_t pos = 0;
    while (name[pos] != 0) {
      auto it = dictionary_.find(chars(name.subspan(pos)));
      if (it != dictionary_.end()) {
        append(name.first(pos));
        uint8_t pointer[2];
        store_be16(pointer, uint16_t(0xC000 | it->second));
        append(pointer);
        register_labels(name, at, pos);
        return;
      }
      pos += 1 + name[pos];
    }
    append(name);
    register_labels(name, at, pos);
  }

  void register_labels(ByteView name, size_t at, size_t until) {
    for (size_t pos = 0; pos < until; pos += 1 + name[pos]) {
      if (at + pos > kMaxPointer) return;
      dictionary_.emplace(chars(name.subspan(pos)), uint16_t(at + pos));
    }
  }

  const ParsedQuery& query_;
  size_t limit_;
  uint8_t rcode_;
  std::vector<std::vector<uint8_t>>& out_;
  std::unordered_map<std::string_view, uint16_t> dictionary_;
  size_t count_ = 0;
  size_t room_ = 0;  // kept free in this message (for the OPT)
  bool first_ = true;
};

void add_all(TransferWriter& w, const RecordList& records) {
  for (size_t i = 0; i < records.size(); ++i) w.add(records[i]);
}

// Skips the name and fixed fields of one record (or, `question`, the
// question's); false when it does not fit in `m`.
bool skip_entry(ByteView m, size_t& pos, bool question, uint16_t* type, size_t* rdata) {
  size_t size = 0, end = 0;
  if (!read_name(m, pos, nullptr, &size, &end)) return false;
  if (question) {
    if (m.size() - end < 4) return false;
    pos = end + 4;
    return true;
  }
  if (m.size() - end < kFixedFields) return false;
  *type = load_be16(m.data() + end);
  *rdata = end + kFixedFields;
  size_t rdlength = load_be16(m.data() + end + 8);
  if (m.size() - *rdata < rdlength) return false;
  pos = *rdata + rdlength;
  return true;
}

}  // namespace

const char* transfer_kind_name(TransferKind kind) {
  switch (kind) {
    case TransferKind::kAxfr:
      return "AXFR";
    case TransferKind::kIxfr:
      return "IXFR";
    case TransferKind::kIxfrUpToDate:
      return "IXFR (up to date: SOA only)";
    case TransferKind::kIxfrAsAxfr:
      return "IXFR answered in full (journal does not reach the secondary's serial)";
  }
  return "?";
}

std::optional<uint32_t> ixfr_request_serial(ByteView m) {
  if (m.size() < kDnsHeaderBytes) return std::nullopt;
  size_t qd = load_be16(m.data() + 4), an = load_be16(m.data() + 6), ns = load_be16(m.data() + 8);
  if (qd * 5 + (an + ns) * 11 > m.size() - kDnsHeaderBytes) return std::nullopt;
  size_t pos = kDnsHeaderBytes, rdata = 0;
  uint16_t type = 0;
  for (size_t i = 0; i < qd; ++i)
    if (!skip_entry(m, pos, true, nullptr, nullptr)) return std::nullopt;
  for (size_t i = 0; i < an + ns; ++i) {
    if (!skip_entry(m, pos, false, &type, &rdata)) return std::nullopt;
    if (i < an || type != kTypeSoa) continue;
    // MNAME and RNAME (perhaps compressed), then SERIAL, inside RDATA.
    size_t size = 0, end = 0;
    if (!read_name(m, rdata, nullptr, &size, &end) || end > pos) return std::nullopt;
    if (!read_name(m, end, nullptr, &size, &end) || end > pos) return std::nullopt;
    if (pos - end < kSoaFixedFields) return std::nullopt;
    return load_be32(m.data() + end);
  }
  return std::nullopt;
}

TransferKind build_transfer(const ParsedQuery& query, std::optional<uint32_t> client_serial,
                            const ZoneView& zone, const ZoneHistory& history, size_t limit,
                            std::vector<std::vector<uint8_t>>& out) {
  RecordList current;  // SOA(n), used first and last
  zone.soa_record(history.serial(), current);
  TransferWriter w(query, limit, kRcodeNoError, out);
  TransferKind kind = TransferKind::kAxfr;
  if (query.qtype == kTypeIxfr && client_serial) {
    auto diffs = history.diffs_since(*client_serial);
    if (*client_serial == history.serial() || (diffs && diffs->empty())) {
      w.add(current[0]);
      w.finish();
      return TransferKind::kIxfrUpToDate;
    }
    if (diffs) {
      // Every SOA first: the writer's dictionary points into their names.
      RecordList soas;
      for (const ZoneDiff& d : *diffs) {
        zone.soa_record(d.from, soas);
        zone.soa_record(d.to, soas);
      }
      w.add(current[0]);
      for (size_t i = 0; i < diffs->size(); ++i) {
        w.add(soas[2 * i]);
        add_all(w, (*diffs)[i].removed);
        w.add(soas[2 * i + 1]);
        add_all(w, (*diffs)[i].added);
      }
      w.add(current[0]);
      w.finish();
      return TransferKind::kIxfr;
    }
    kind = TransferKind::kIxfrAsAxfr;
  }
  w.add(current[0]);
  add_all(w, history.records());
  w.add(current[0]);
  w.finish();
  return kind;
}

std::vector<uint8_t> build_transfer_error(const ParsedQuery& query, uint8_t rcode) {
  std::vector<std::vector<uint8_t>> out;
  TransferWriter w(query, kTransferMessageLimit, rcode, out);
  w.finish();
  return std::move(out.front());
}

}  // namespace wgp::dnssd
