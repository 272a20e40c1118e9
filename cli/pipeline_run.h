#pragma once
// What `load` and `tail` share: their options, and one run of the stages behind the reader —
// rejected lines to the dead-letter output, the privacy filter, the assembler, and the rows to
// the database (or, for a dry run, to a tally) — with the end-of-run summary.
#include <atomic>
#include <boost/program_options.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "cli/run_summary.h"
#include "ingest/file_position.h"
#include "ingest/ingest_batch.h"
#include "ingest/line_framing.h"
#include "transform/privacy_filter.h"
#include "transform/trace_assembler.h"

namespace edpipe::ingest {
class DeadLetterWriter;
}  // namespace edpipe::ingest
namespace edpipe::load {
class FileOwnership;
class RowLoader;
class RowSink;
class TallySink;
}  // namespace edpipe::load

namespace edpipe::cli {

// The options as given on the command line.
struct PipelineFlags {
  bool dry_run = false, json = false, quiet = false;
  bool totals = false;  // count every row for the summary, however large the database
  std::string dead_letter;
  std::string abandon_after = "15m";
  std::string progress = "auto";
  std::string db;
  size_t batch_size = 20000;
  int connections = 2;
  std::string format = "auto", line_regex;
  bool no_payloads = false, no_job_options = false, no_results = false, no_stacks = false, no_logs = false;
  std::vector<std::string> redact, redact_fields;
  std::string max_json_bytes = "1M";
  size_t max_open_invocations = transform::kDefaultMaxOpenInvocations;
};

// Adds the options both commands take; the privacy and framing ones as groups of their own.
void add_pipeline_options(boost::program_options::options_description& general,
                          boost::program_options::options_description& framing,
                          boost::program_options::options_description& privacy, PipelineFlags& flags);

// Parses `edpipe COMMAND`: the shared options, the command's own (`own`, listed first), and
// the positional arguments into `positional`. Returns false when --help was asked and printed.
bool parse_pipeline_command(const std::string& command, const char* usage, const char* exit_text,
                            const std::vector<std::string>& args, boost::program_options::options_description& own,
                            PipelineFlags& flags, std::vector<std::string>& positional);

// "5s" as a period for the follow loop; must be more than 0.
std::chrono::milliseconds parse_interval(const std::string& text, const std::string& option);

// The flags checked and turned into the stages' options; throws UsageError.
struct PipelineSettings {
  PipelineFlags flags;
  transform::AssemblerOptions assembler;
  ingest::FramingOptions framing;
  transform::PrivacyOptions privacy;
};
PipelineSettings settings_from(const PipelineFlags& flags);

class ProgressMeter;

class PipelineRun {
 public:
  explicit PipelineRun(PipelineSettings settings);
  ~PipelineRun();

  // Opens the dead-letter output and the database (not for a dry run). On failure prints one
  // line and returns false.
  bool open();
  const std::string& conninfo() const noexcept { return conninfo_; }
  // Tail mode, after open(): the session that holds the followed files' locks and saves their
  // read positions (after every lane committed the rows they complete). None for a dry run.
  load::FileOwnership* own_followed_files();

  // One batch of lines: rejected lines reported, records filtered and folded in, the
  // invocations that are done handed on.
  void consume(ingest::IngestBatch& batch, const std::function<std::string(uint32_t input)>& input_name);
  // Hands on every invocation still open (those running load as `running`) and sends the rows
  // now, with the read positions they complete.
  void flush(std::vector<ingest::FilePosition> positions);
  // Hands on the rest and waits until the database has it all.
  void finish();

  RunSummary& summary() noexcept { return summary_; }
  // Erased before a rejected line is listed on stderr, so the two do not mix.
  void set_progress(ProgressMeter* progress) noexcept { progress_ = progress; }
  bool show_progress() const;
  // Fills the row counts (read back from the database, or the dry run's tally), prints the
  // summary and returns the exit status.
  int report(std::chrono::steady_clock::time_point started);
  // A run stopped by an error: what was still queued for the database is cancelled (what
  // committed stays; the same command again loads the rest exactly once), one line (passwords
  // masked), then the summary of what was read until then if it can still be made; returns the
  // exit status (1).
  int fail(const std::exception& error, std::chrono::steady_clock::time_point started);

 private:
  PipelineSettings s_;
  std::string conninfo_;
  transform::PrivacyFilter privacy_;
  transform::TraceAssembler assembler_;
  std::set<int32_t> days_announced_;  // the invocation days the loader was told of (prepare_days)
  RunSummary summary_;
  std::unique_ptr<ingest::DeadLetterWriter> dead_letter_;
  std::atomic<uint64_t> rows_dead_lettered_{0};  // counted on the loader thread
  std::unique_ptr<load::FileOwnership> ownership_;  // outlives the loader, which saves positions through it
  std::unique_ptr<load::RowLoader> loader_;
  std::unique_ptr<load::RowSink> sink_;
  load::TallySink* tally_ = nullptr;
  uint64_t rejected_shown_ = 0;
  ProgressMeter* progress_ = nullptr;
};

}  // namespace edpipe::cli
