#include "cli/load_command.h"

#include <sys/stat.h>

#include <unistd.h>

#include <boost/program_options.hpp>
#include <chrono>
#include <iostream>

#include "cli/arguments.h"
#include "cli/follow_loop.h"
#include "cli/pipeline_run.h"
#include "cli/progress_meter.h"
#include "ingest/trace_reader.h"

namespace edpipe::cli {
namespace po = boost::program_options;

namespace {

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
    "  netlify logs:function detector | edpipe load -\n"
    "  edpipe load --format lambda --redact '[\\w.+-]+@[\\w-]+\\.[\\w.]+' exported-cloudwatch.log\n"
    "\n"
    "On a pipe that does not end (stdin that is not a regular file), the rows are flushed every\n"
    "--flush-interval: invocations still running then load as `running` and complete later.\n";

// stdin is a pipe, a socket or a terminal: lines may keep coming for as long as it is open.
bool stdin_is_stream() {
  struct stat st {};
  return ::fstat(0, &st) == 0 && !S_ISREG(st.st_mode);
}


}  // namespace

int run_load(const std::vector<std::string>& args) {
  PipelineFlags flags;
  std::vector<std::string> inputs;
  std::string flush_interval = "5s";
  po::options_description own;
  own.add_options()("flush-interval", po::value(&flush_interval)->value_name("DURATION")->default_value("5s"),
                    "reading a pipe on stdin: flush the rows at least this often");
  if (!parse_pipeline_command("load", kUsage, kExitText, args, own, flags, inputs)) return kExitOk;
  const PipelineSettings settings = settings_from(flags);
  FollowSettings follow;
  follow.flush_interval = parse_interval(flush_interval, "flush-interval");
  follow.save_positions = false;
  if (inputs.empty()) inputs.push_back("-");

  const auto started = std::chrono::steady_clock::now();
  PipelineRun run(settings);
  const bool streaming = inputs.size() == 1 && inputs[0] == "-" && stdin_is_stream();
  ingest::InputSetResult set;
  if (!streaming) set = ingest::expand_inputs(inputs);
  for (const auto& e : set.errors) {
    std::cerr << "edpipe: " << e << "\n";
    run.summary().input_errors.push_back(e);
  }
  for (const auto& w : set.warnings) std::cerr << "edpipe: warning: " << w << "\n";
  if (inputs.size() == 1 && inputs[0] == "-" && ::isatty(STDIN_FILENO))
    std::cerr << "edpipe: reading trace records from standard input (a terminal); end with Ctrl-D. "
                 "`edpipe load --help` lists the other inputs.\n";
  run.summary().inputs = streaming ? 1 : set.inputs.size();
  // The database is checked before any input is read: a wrong --db fails fast, with one line.
  if (!run.open()) return kExitInputError;

  try {
    if (streaming) {
      install_stop_handlers();
      ingest::TailOptions topt;
      topt.patterns = {"-"};
      ingest::FileTailer tailer(topt, settings.framing, {});
      follow_to_the_end(tailer, run, follow);
    } else {
      ingest::TraceReader reader(set.inputs, settings.framing);
      ProgressMeter progress(run.show_progress(), reader.total_size());
      run.set_progress(&progress);
      ingest::IngestBatch batch;
      while (reader.next(batch)) {
        run.consume(batch, [&](uint32_t i) { return reader.inputs()[i].path; });
        progress.update(reader.raw_bytes_consumed(), run.summary().lines.records);
      }
      run.finish();
      progress.finish();
      for (const auto& f : reader.failures()) {
        std::cerr << "edpipe: " << f.what() << "\n";
        run.summary().input_errors.push_back(f.what());
      }
      run.summary().raw_bytes = reader.raw_bytes_consumed();
    }
  } catch (const std::exception& e) {
    return run.fail(e, started);
  }
  return run.report(started);
}

}  // namespace edpipe::cli
