#pragma once
// What ingest hands to transform: the records of some lines, and the fate of every line.
#include <array>
#include <cstdint>
#include <vector>

#include "ingest/rejected_line.h"
#include "ingest/trace_record.h"

namespace edpipe::ingest {

// Every line read ends in exactly one of records / non_record / rejected.
struct LineCounts {
  uint64_t total = 0;
  uint64_t records = 0;
  uint64_t non_record = 0;    // plain text, other JSON, unknown record types
  uint64_t unknown_type = 0;  // the part of non_record that had an unknown `type`
  uint64_t rejected = 0;
  std::array<uint64_t, kRecordTypeCount> by_type{};
  std::array<uint64_t, kRejectReasonCount> by_reason{};

  LineCounts& operator+=(const LineCounts& o) {
    total += o.total;
    records += o.records;
    non_record += o.non_record;
    unknown_type += o.unknown_type;
    rejected += o.rejected;
    for (size_t i = 0; i < by_type.size(); ++i) by_type[i] += o.by_type[i];
    for (size_t i = 0; i < by_reason.size(); ++i) by_reason[i] += o.by_reason[i];
    return *this;
  }
  bool adds_up() const { return total == records + non_record + rejected; }
};

// A batch owns the text its records view: they are valid until it is cleared (the reader's next
// block), so whoever keeps a record's text past that copies it (the transform does, into rows).
struct IngestBatch {
  std::vector<TraceRecord> records;
  TextArena text{64 * 1024};
  std::vector<RejectedLine> rejected;
  LineCounts counts;
  uint64_t bytes = 0;  // uncompressed bytes of the lines in this batch

  // A line rejected: kept, and counted by its reason. `whole_line` counts it in `total` too
  // (the decoder counts the lines it reads itself).
  void reject(RejectedLine&& line, bool whole_line) {
    ++counts.by_reason[static_cast<size_t>(line.reason)];
    ++counts.rejected;
    if (whole_line) ++counts.total;
    rejected.push_back(std::move(line));
  }

  void clear() {
    records.clear();
    text.clear();
    rejected.clear();
    counts = {};
    bytes = 0;
  }
};

}  // namespace edpipe::ingest
