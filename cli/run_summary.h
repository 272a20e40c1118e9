#pragma once
// The end-of-run report of `edpipe load`: as text for people, as one JSON object for scripts.
#include <string>
#include <vector>

#include "ingest/ingest_batch.h"
#include "transform/row_tally.h"

namespace edpipe::cli {

struct RunSummary {
  std::string command = "load";
  bool dry_run = true;
  size_t inputs = 0;
  ingest::LineCounts lines;
  uint64_t bytes_read = 0;  // uncompressed bytes of the lines
  uint64_t raw_bytes = 0;   // bytes read from disk or the pipe
  double seconds = 0;
  transform::TallyResult rows;
  Timestamp watermark = 0;
  Timestamp abandon_after = 0;
  std::string abandon_after_text = "15m";  // as given on the command line
  std::vector<std::string> input_errors;
  // A load into the database: its transactions, retried faults, values or rows refused.
  uint64_t batches = 0, retries = 0, rows_dead_lettered = 0;
  // The server's synchronous_commit, as the loader's sessions commit with it: anything but
  // "off" means a commit is on disk before the database acknowledges it (and edpipe counts it).
  std::string synchronous_commit;
  // What this load changed: rows inserted, writes to stored rows, hours whose rollup changed
  // (`rows.rollups` holds those hours; `rows` otherwise counts the whole database).
  uint64_t rows_inserted = 0, rows_updated = 0, hours_touched = 0;
  // job.log lines that had another line's seq with other content: one of them was kept.
  uint64_t log_conflicts = 0;
  // Left out by retention: records older than the horizon, and rows of invocations a prune deleted.
  uint64_t beyond_retention = 0;
};

std::string render_json(const RunSummary& s);
std::string render_text(const RunSummary& s);
// The hourly table, at most `max_rows` hours and "… and N more"; under 120 columns.
std::string render_rollup_table(const transform::RollupTable& rollups, size_t max_rows = 24);
std::string human_bytes(double bytes);

}  // namespace edpipe::cli
