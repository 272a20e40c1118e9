#pragma once
// Decodes blocks of lines into trace records with simdjson On-Demand.
//
// Phases, in order (record_decoder.cpp):
//   1. classify: the framer (line_framing.h) finds the record candidate in each line (for plain
//      NDJSON: a line whose first non-blank byte is `{`); the rest of the line and every line
//      without a candidate is blanked in place, so the candidates can be parsed as one stream;
//      a Docker wrapper is set aside and decoded line by line after the stream;
//   2. index: candidates are indexed in groups of ~64 KiB by simdjson's stage 1 (the offsets of
//      structural characters and scalars), and each record's fields are read from that index by
//      a reader made for the wire format's shape (structural_fields.h); each record must start
//      exactly where its line starts;
//   3. exact path: a group stage 1 refuses, or a record the structural reader is not sure of,
//      is parsed alone with simdjson On-Demand (record_fields.h), which decides each line's fate
//      exactly (torn JSON, invalid UTF-8, too deep, odd shapes);
//   4. validate (field_validator.cpp): the fields of the wire format, into a TraceRecord or a
//      rejection with the field and the reason.
#include <memory>

#include "ingest/ingest_batch.h"
#include "ingest/line_framing.h"
#include "ingest/line_reader.h"

namespace edpipe::ingest {

// Exact: every record through the exact path (step 3), for tests that hold the structural
// reader to it.
enum class DecodePath : uint8_t { Structural, Exact };

class RecordDecoder {
 public:
  explicit RecordDecoder(FramingOptions framing = {}, DecodePath path = DecodePath::Structural);  // throws FramingError
  ~RecordDecoder();
  RecordDecoder(const RecordDecoder&) = delete;
  RecordDecoder& operator=(const RecordDecoder&) = delete;

  // Appends the fate of every line of `block` to `out`. `block` is modified (blanked lines).
  void decode(LineBlock& block, uint32_t input_index, IngestBatch& out);

  // Records (and record candidates) decided by the exact path so far: those the structural
  // reader was not sure of, and every one under DecodePath::Exact.
  uint64_t exact_path_lines() const noexcept;

  // Decodes one line (no trailing newline needed): the slow path and the unit tests' entry point.
  void decode_line(std::string_view line, SourcePos pos, IngestBatch& out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace edpipe::ingest
