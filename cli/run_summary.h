#pragma once
// The end-of-run report of `edpipe load`: as text for people, as one JSON object for scripts.
#include <string>
#include <vector>

#include "ingest_batch.h"
#include "row_tally.h"

namespace edpipe::cli {

struct RunSummary {
  std::string command = "load";
  bool dry_run = true;
  size_t inputs = 0;
  LineCounts lines;
  uint64_t bytes_read = 0;  // uncompressed bytes of the lines
  uint64_t raw_bytes = 0;   // bytes read from disk or the pipe
  double seconds = 0;
  TallyResult rows;
  Timestamp watermark = 0;
  Timestamp abandon_after = 0;
  std::vector<std::string> input_errors;
  // A load into the database: its transactions, retried faults, values or rows refused.
  uint64_t batches = 0, retries = 0, rows_dead_lettered = 0;
  // job.log lines that had another line's seq with other content: one of them was kept.
  uint64_t log_conflicts = 0;
};

std::string render_json(const RunSummary& s);
std::string render_text(const RunSummary& s);
std::string render_rollup_table(const RollupTable& rollups);
std::string human_bytes(double bytes);

}  // namespace edpipe::cli
