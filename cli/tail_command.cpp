// `edpipe tail`: follow files and load what arrives, exactly once across restarts.
#include <boost/program_options.hpp>
#include <chrono>
#include <iostream>
#include <memory>

#include "cli/arguments.h"
#include "cli/follow_loop.h"
#include "cli/load_command.h"
#include "cli/pipeline_run.h"
#include "ingest/input_set.h"
#include "load/file_positions.h"

namespace edpipe::cli {
namespace po = boost::program_options;

namespace {

const char* kUsage =
    "Usage: edpipe tail [OPTIONS] PATH|GLOB...\n"
    "\n"
    "Follow log files like `tail -F` and load the trace records they receive into PostgreSQL.\n"
    "A PATH is a file or a directory (its *.ndjson, *.jsonl, *.log files and their .gz forms); a\n"
    "GLOB is matched again every --rescan-interval, so new files are picked up. Files rotated by\n"
    "rename are read to their end before they are let go; a file that shrinks (copytruncate)\n"
    "starts over. Let the pattern match the rotated names too (app.log*) so that lines written\n"
    "just before a copytruncate are read from the copy: replayed lines change nothing.\n"
    "\n"
    "Every --flush-interval (or --batch-size rows) the rows go to the database; invocations\n"
    "still running load as `running` and complete at a later flush. The read position of every\n"
    "file (device, inode and a hash of its first bytes; uncompressed offset for .gz) commits\n"
    "once the rows it produced have committed: after a crash or kill -9 of edpipe or of the\n"
    "server, a restart resumes there (lines read twice change nothing). A partial last line waits for its newline. Only one edpipe may follow a\n"
    "file at a time (an advisory lock in the database, taken again after the server restarts;\n"
    "if another edpipe took it meanwhile, this one stops with exit status 1). SIGINT/SIGTERM:\n"
    "the batch in hand is committed, then edpipe exits 0.\n"
    "\n"
    "Options";

const char* kExitText =
    "\n"
    "Exit status: 0 stopped by SIGINT/SIGTERM (or --exit-on-eof reached the end); 1 the database\n"
    "could not be reached or is not migrated, another edpipe follows the files, or the run failed;\n"
    "2 bad usage.\n"
    "\n"
    "Examples:\n"
    "  edpipe tail --db postgresql://edpipe@db/observability '/var/log/detector/*.ndjson*'\n"
    "  edpipe tail --format docker '/var/lib/docker/containers/*/*-json.log'\n"
    "  edpipe tail --redact '[\\w.+-]+@[\\w-]+\\.[\\w.]+' --no-stacks /var/log/detector/\n";

}  // namespace

int run_tail(const std::vector<std::string>& args) {
  PipelineFlags flags;
  std::vector<std::string> patterns;
  std::string flush_interval = "5s", rescan_interval = "1s", rotate_wait = "5s";
  bool from_beginning = false, exit_on_eof = false;
  po::options_description own;
  own.add_options()
      ("flush-interval", po::value(&flush_interval)->value_name("DURATION")->default_value("5s"),
       "commit the rows and positions at least this often")
      ("from-beginning", po::bool_switch(&from_beginning),
       "read every file from its start, ignoring the saved positions (a replay changes nothing)")
      ("rescan-interval", po::value(&rescan_interval)->value_name("DURATION")->default_value("1s"),
       "how often the patterns are matched again for new and rotated files")
      ("rotate-wait", po::value(&rotate_wait)->value_name("DURATION")->default_value("5s"),
       "a file rotated away is let go once it has not grown for this long (its partial last line is read then)")
      ("exit-on-eof", po::bool_switch(&exit_on_eof),
       "exit once every file is read to its end, instead of waiting for more");
  if (!parse_pipeline_command("tail", kUsage, kExitText, args, own, flags, patterns)) return kExitOk;
  if (patterns.empty()) throw UsageError("no PATH or GLOB to follow");
  const PipelineSettings settings = settings_from(flags);
  FollowSettings follow;
  follow.flush_interval = parse_interval(flush_interval, "flush-interval");
  follow.exit_on_eof = exit_on_eof;
  follow.save_positions = !flags.dry_run;
  ingest::TailOptions topt;
  topt.patterns = patterns;
  topt.from_beginning = from_beginning;
  topt.rescan_interval = parse_interval(rescan_interval, "rescan-interval");
  topt.rotate_wait = std::chrono::milliseconds(parse_duration(rotate_wait, "rotate-wait") / 1000);

  const auto started = std::chrono::steady_clock::now();
  install_stop_handlers();
  PipelineRun run(settings);
  run.summary().command = "tail";
  // A path that names nothing yet is followed all the same (it may appear), but never silently:
  // a typo in a service unit would otherwise wait for months without a word.
  const ingest::InputSetResult now = ingest::expand_inputs(patterns);
  for (const auto& e : now.errors) {
    if (exit_on_eof) {
      std::cerr << "edpipe: " << e << "\n";
      run.summary().input_errors.push_back(e);
    } else {
      std::cerr << "edpipe: warning: " << e << " (expected a trace log file; waiting for it to appear)\n";
    }
  }
  for (const auto& w : now.warnings) std::cerr << "edpipe: warning: " << w << " (waiting for files to appear)\n";
  if (!run.open()) return kExitInputError;
  try {
    std::vector<ingest::FilePosition> saved;
    ingest::FileTailer::ClaimFile claim;
    if (load::FileOwnership* ownership = run.own_followed_files()) {
      saved = ownership->saved_positions();
      claim = [ownership](const ingest::FilePosition& f) { ownership->claim(f); };
      follow.each_turn = [ownership] { ownership->keep(); };
    }
    ingest::FileTailer tailer(topt, settings.framing, std::move(saved), claim);
    follow_to_the_end(tailer, run, follow);
    run.summary().inputs = tailer.followed_files();
  } catch (const std::exception& e) {
    return run.fail(e, started);
  }
  return run.report(started);
}

}  // namespace edpipe::cli
