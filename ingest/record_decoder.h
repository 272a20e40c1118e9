#pragma once
// Decodes blocks of lines into trace records with simdjson On-Demand.
//
// Phases, in order (record_decoder.cpp):
//   1. classify: the framer (line_framing.h) finds the record candidate in each line (for plain
//      NDJSON: a line whose first non-blank byte is `{`); the rest of the line and every line
//      without a candidate is blanked in place, so the candidates can be parsed as one stream;
//      a Docker wrapper is set aside and decoded line by line after the stream;
//   2. stream: candidates are parsed in groups of ~64 KiB with one document stream per group;
//      each document must start exactly where its line starts;
//   3. fallback: any parse error or misalignment in a group re-parses that group line by line,
//      which decides each line's fate exactly (torn JSON, invalid UTF-8, too deep);
//   4. validate (record_fields.cpp): the fields of the wire format, into a TraceRecord or a
//      rejection with the field and the reason.
#include <memory>

#include "ingest/ingest_batch.h"
#include "ingest/line_framing.h"
#include "ingest/line_reader.h"

namespace edpipe::ingest {

class RecordDecoder {
 public:
  explicit RecordDecoder(FramingOptions framing = {});  // throws FramingError
  ~RecordDecoder();
  RecordDecoder(const RecordDecoder&) = delete;
  RecordDecoder& operator=(const RecordDecoder&) = delete;

  // Appends the fate of every line of `block` to `out`. `block` is modified (blanked lines).
  void decode(LineBlock& block, uint32_t input_index, IngestBatch& out);

  // Decodes one line (no trailing newline needed): the slow path and the unit tests' entry point.
  void decode_line(std::string_view line, SourcePos pos, IngestBatch& out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace edpipe::ingest
