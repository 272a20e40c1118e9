#include "load_command.h"

#include <unistd.h>

#include <atomic>
#include <boost/program_options.hpp>
#include <chrono>
#include <iostream>
#include <memory>

#include "arguments.h"
#include "background_loader.h"
#include "database_report.h"
#include "db_commands.h"
#include "dead_letter.h"
#include "pg_connection.h"
#include "row_loader.h"
#include "progress_meter.h"
#include "row_tally.h"
#include "run_summary.h"
#include "trace_assembler.h"
#include "trace_reader.h"

namespace edpipe::cli {
namespace po = boost::program_options;

namespace {

constexpr size_t kRejectedShownOnStderr = 20;

const char* kUsage =
    "Usage: edpipe load [OPTIONS] [INPUT...]\n"
    "\n"
    "Read event detector trace records from INPUTs, rebuild invocations, event executions,\n"
    "job executions and job logs, roll them up per hour and function, and load them into\n"
    "PostgreSQL (COPY, one transaction per batch; loading the same input again changes nothing).\n"
    "\n"
    "An INPUT is a file, a directory (its *.ndjson, *.jsonl, *.log files and their .gz forms,\n"
    "recursively, in path order), a glob pattern, or - for standard input (the default).\n"
    "Gzip input (also multi-member) is recognised by its content and read on the fly.\n"
    "\n"
    "Every line ends as a record, a non-record line (console text, other JSON, unknown record\n"
    "types: counted) or a rejected line (a broken record: reported with file, line and reason).\n"
    "\n"
    "Options";

const char* kExitText =
    "\n"
    "Exit status: 0 done (rejected lines are reported, not fatal); 1 an input could not be\n"
    "read, the database could not be reached or is not migrated, or the run failed; 2 bad usage.\n"
    "\n"
    "Examples:\n"
    "  edpipe load --db postgresql://edpipe@db.internal/observability samples/\n"
    "  edpipe load --dry-run samples/\n"
    "  edpipe load --dry-run --json --dead-letter rejected.ndjson 'logs/2026-11-*.ndjson.gz'\n"
    "  netlify logs:function detector | edpipe load --dry-run -\n";

struct LoadOptions {
  std::vector<std::string> inputs;
  bool dry_run = false, json = false, quiet = false;
  std::string dead_letter;
  std::string abandon_after = "15m";
  std::string progress = "auto";
  std::string db;
  size_t batch_size = 20000;
};

// Where the row fragments go: the database, or (dry run) a tally of what it would hold.
class RowSink {
 public:
  virtual ~RowSink() = default;
  virtual void add(RowBatch& rows) = 0;  // may keep rows until a batch is full
  virtual void finish() = 0;
};

class TallySink final : public RowSink {
 public:
  void add(RowBatch& rows) override { tally.add(rows); }
  void finish() override {}
  RowTally tally;
};

// Batches go to the database on a second thread while this one reads and parses on.
class DatabaseSink final : public RowSink {
 public:
  DatabaseSink(RowLoader& loader, size_t batch_size) : background_(loader), batch_size_(batch_size) {}
  void add(RowBatch& rows) override {
    auto append = [](auto& to, auto& from) { to.insert(to.end(), std::make_move_iterator(from.begin()), std::make_move_iterator(from.end())); };
    append(pending_.invocations, rows.invocations);
    append(pending_.event_executions, rows.event_executions);
    append(pending_.job_executions, rows.job_executions);
    append(pending_.job_logs, rows.job_logs);
    if (pending_.row_count() >= batch_size_) flush();
  }
  void finish() override {
    flush();
    background_.finish();
  }

 private:
  void flush() {
    if (!pending_.empty()) background_.submit(std::move(pending_));
    pending_ = {};
  }
  BackgroundLoader background_;
  size_t batch_size_;
  RowBatch pending_;
};

}  // namespace

int run_load(const std::vector<std::string>& args) {
  LoadOptions opt;
  po::options_description visible(kUsage);
  visible.add_options()
      ("help,h", "show this help and exit")
      ("dry-run,n", po::bool_switch(&opt.dry_run),
       "no database: parse, rebuild and roll up, then print the summary and the hourly metrics")
      ("json", po::bool_switch(&opt.json), "print the summary (with the hourly metrics) as one JSON object on stdout")
      ("dead-letter", po::value(&opt.dead_letter)->value_name("FILE"),
       "write every rejected line to FILE as one JSON object (file, line, offset, reason, detail, raw), and every "
       "value or row PostgreSQL refuses; - for stdout")
      ("abandon-after", po::value(&opt.abandon_after)->value_name("DURATION")->default_value("15m"),
       "an invocation with no end whose newest record is this much older than the newest record seen is 'abandoned'")
      ("progress", po::value(&opt.progress)->value_name("WHEN")->default_value("auto"),
       "progress line on stderr: auto (when stderr is a terminal), always, never")
      ("quiet,q", po::bool_switch(&opt.quiet), "do not list rejected lines on stderr (the summary still counts them)")
      ("db", po::value(&opt.db)->value_name("DB"), kDbOptionHelp)
      ("batch-size", po::value(&opt.batch_size)->value_name("ROWS")->default_value(opt.batch_size),
       "rows per database transaction");
  po::options_description hidden;
  hidden.add_options()("input", po::value(&opt.inputs));
  po::options_description all;
  all.add(visible).add(hidden);
  po::positional_options_description pos;
  pos.add("input", -1);

  const po::variables_map vm = parse_command("load", args, all, &pos);
  if (vm.count("help")) {
    std::cout << visible << kExitText;
    return kExitOk;
  }
  AssemblerOptions asm_options;
  asm_options.abandon_after = parse_duration(opt.abandon_after, "abandon-after");
  if (opt.progress != "auto" && opt.progress != "always" && opt.progress != "never")
    throw UsageError("--progress: expected auto, always or never, got '" + opt.progress + "'");
  if (opt.batch_size == 0) throw UsageError("--batch-size: must be at least 1");
  if (opt.inputs.empty()) opt.inputs.push_back("-");

  const auto started = std::chrono::steady_clock::now();
  InputSetResult set = expand_inputs(opt.inputs);
  RunSummary summary;
  summary.dry_run = opt.dry_run;
  summary.abandon_after = asm_options.abandon_after;
  for (const auto& e : set.errors) {
    std::cerr << "edpipe: " << e << "\n";
    summary.input_errors.push_back(e);
  }
  summary.inputs = set.inputs.size();

  std::unique_ptr<DeadLetterWriter> dead_letter;
  std::atomic<uint64_t> rows_dead_lettered{0};  // counted on the loader thread
  if (!opt.dead_letter.empty()) {
    try {
      dead_letter = std::make_unique<DeadLetterWriter>(opt.dead_letter);
    } catch (const std::exception& e) {
      std::cerr << "edpipe: " << e.what() << "\n";
      return kExitInputError;
    }
  }

  // The database is checked before any input is read: a wrong --db fails fast, with one line.
  const std::string conninfo = resolve_conninfo(opt.db);
  std::unique_ptr<RowLoader> loader;
  std::unique_ptr<RowSink> sink;
  TallySink* tally_sink = nullptr;
  if (opt.dry_run) {
    auto t = std::make_unique<TallySink>();
    tally_sink = t.get();
    sink = std::move(t);
  } else {
    LoaderOptions lo;
    lo.abandon_after = asm_options.abandon_after;
    loader = std::make_unique<RowLoader>(conninfo, lo, [&](const std::string& json) {
      ++rows_dead_lettered;
      if (dead_letter) dead_letter->write_raw(json);
      else if (!opt.quiet) std::cerr << "edpipe: not loaded: " << json;
    });
    try {
      loader->open();
    } catch (const std::exception& e) {
      std::cerr << "edpipe: " << e.what() << "\n";
      return kExitInputError;
    }
    sink = std::make_unique<DatabaseSink>(*loader, opt.batch_size);
  }

  TraceReader reader(set.inputs);
  TraceAssembler assembler(asm_options);
  const bool show_progress = opt.progress == "always" || (opt.progress == "auto" && ::isatty(2));
  ProgressMeter progress(show_progress, reader.total_size());
  IngestBatch batch;
  RowBatch rows;
  uint64_t rejected_shown = 0;
  try {
    while (reader.next(batch)) {
      summary.lines += batch.counts;
      summary.bytes_read += batch.bytes;
      for (const auto& r : batch.rejected) {
        const std::string& name = reader.inputs()[r.pos.input].path;
        if (dead_letter) dead_letter->write(r, name == "-" ? "<stdin>" : name);
        if (!opt.quiet && rejected_shown++ < kRejectedShownOnStderr) {
          progress.finish();
          std::cerr << "edpipe: " << (name == "-" ? "<stdin>" : name) << ":" << r.pos.line << ": rejected ("
                    << reject_reason_code(r.reason) << "): " << r.detail << "\n";
        }
      }
      assembler.add(batch.records);
      assembler.take_ready(rows);
      sink->add(rows);
      rows = {};
      progress.update(reader.raw_bytes_consumed(), summary.lines.records);
    }
    assembler.take_all(rows);
    sink->add(rows);
    sink->finish();
    if (dead_letter) dead_letter->flush();
  } catch (const std::exception& e) {
    progress.finish();
    std::cerr << "edpipe: " << mask_secrets(e.what(), conninfo) << "\n";
    return kExitInputError;
  }
  progress.finish();
  if (!opt.quiet && rejected_shown > kRejectedShownOnStderr)
    std::cerr << "edpipe: ... and " << (rejected_shown - kRejectedShownOnStderr) << " more rejected lines"
              << (dead_letter ? " (all are in " + opt.dead_letter + ")" : " (--dead-letter FILE keeps them all)") << "\n";
  for (const auto& f : reader.failures()) {
    std::cerr << "edpipe: " << f.what() << "\n";
    summary.input_errors.push_back(f.what());
  }

  summary.raw_bytes = reader.raw_bytes_consumed();
  if (tally_sink) {
    summary.watermark = assembler.watermark();
    summary.rows = tally_sink->tally.finish(AbandonRule{assembler.watermark(), asm_options.abandon_after});
  } else {
    // What the database now holds, read back: totals over the database, the hours this load touched.
    summary.watermark = loader->with_retries([](pqxx::connection& c) { return read_watermark(c); });
    summary.rows = loader->with_retries(
        [&](pqxx::connection& c) { return read_database_tally(c, loader->stats().touched_hours); });
    summary.batches = loader->stats().batches;
    summary.retries = loader->stats().retries;
    summary.rows_dead_lettered = rows_dead_lettered;
  }
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  if (opt.json) {
    std::cout << render_json(summary);
  } else {
    std::cout << render_text(summary) << "\nHourly metrics (metrics_hourly)\n"
              << render_rollup_table(summary.rows.rollups);
  }
  std::cout.flush();
  return summary.input_errors.empty() ? kExitOk : kExitInputError;
}

}  // namespace edpipe::cli
