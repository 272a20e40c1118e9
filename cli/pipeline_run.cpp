#include "cli/pipeline_run.h"

#include <unistd.h>

#include <iostream>

#include "cli/arguments.h"
#include "cli/db_commands.h"
#include "cli/progress_meter.h"
#include "ingest/dead_letter.h"
#include "load/database_report.h"
#include "load/file_positions.h"
#include "load/pg_connection.h"
#include "load/retention.h"
#include "load/row_loader.h"
#include "load/row_sink.h"

namespace edpipe::cli {
namespace po = boost::program_options;

namespace {
constexpr size_t kRejectedShownOnStderr = 20;
}

void add_pipeline_options(po::options_description& general, po::options_description& framing,
                          po::options_description& privacy, PipelineFlags& f) {
  general.add_options()
      ("dry-run,n", po::bool_switch(&f.dry_run),
       "no database: parse, rebuild and roll up, then print the summary and the hourly metrics")
      ("json", po::bool_switch(&f.json), "print the summary (with the hourly metrics) as one JSON object on stdout")
      ("dead-letter", po::value(&f.dead_letter)->value_name("FILE"),
       "write every rejected line to FILE as one JSON object (file, line, offset, reason, detail, raw), and every "
       "value or row PostgreSQL refuses; - for stdout")
      ("abandon-after", po::value(&f.abandon_after)->value_name("DURATION")->default_value("15m"),
       "an invocation with no end whose newest record is this much older than the newest record seen is 'abandoned'")
      ("progress", po::value(&f.progress)->value_name("WHEN")->default_value("auto"),
       "progress line on stderr: auto (when stderr is a terminal), always, never")
      ("quiet,q", po::bool_switch(&f.quiet), "do not list rejected lines on stderr (the summary still counts them)")
      ("totals", po::bool_switch(&f.totals),
       "count every row of the database for the summary, however large (past 2 million rows the summary "
       "otherwise gives PostgreSQL's estimates of the rows and no statuses: counting takes seconds a load)")
      ("db", po::value(&f.db)->value_name("DB"), kDbOptionHelp)
      ("batch-size", number_option(f.batch_size, size_t{1}, size_t{10'000'000}, "batch-size", "ROWS"),
       "rows sent per batch: each lane writes its part of a batch in one transaction (the first batches start "
       "smaller and double up to it; batches are cut between reads of the input, up to 1 MiB each, so a batch "
       "may hold more)")
      ("connections", number_option(f.connections, 1, load::kShardCount, "connections"),
       "database connections loading side by side, each the invocations of its own shards (1-16)")
      ("max-open-invocations",
       number_option(f.max_open_invocations, size_t{10}, size_t{100'000'000}, "max-open-invocations"),
       "past this many invocations in flight, the least recently active load as they stand (running) and leave "
       "memory; their later records merge exactly (bounds memory: ~20 KB each)");
  framing.add_options()
      ("format", po::value(&f.format)->value_name("FORMAT")->default_value("auto"),
       "how the platform frames each line: auto (each line recognised on its own), ndjson, lambda, netlify, "
       "docker, kubectl, regex")
      ("line-regex", po::value(&f.line_regex)->value_name("RE2"),
       "with --format regex: an RE2 pattern whose named group (?P<json>...) is the record");
  privacy.add_options()
      ("no-payloads", po::bool_switch(&f.no_payloads), "do not store Hasura event payloads (the columns taken from them stay)")
      ("no-job-options", po::bool_switch(&f.no_job_options), "do not store job options")
      ("no-results", po::bool_switch(&f.no_results), "do not store job results")
      ("no-stacks", po::bool_switch(&f.no_stacks), "do not store error stacks (messages stay)")
      ("no-logs", po::bool_switch(&f.no_logs), "do not store job log lines")
      ("redact", po::value(&f.redact)->value_name("RE2")->composing(),
       "replace every match with [REDACTED] in every stored text field (names, e-mail, role, correlation id, "
       "messages, stacks) and in every string value inside stored JSON (keys untouched); each is matched on its "
       "own, so ^...$ anchors a whole value; repeatable")
      ("redact-field", po::value(&f.redact_fields)->value_name("NAME")->composing(),
       "replace the value of this JSON key, at any depth of stored JSON, with \"[REDACTED]\"; repeatable")
      ("max-json-bytes", po::value(&f.max_json_bytes)->value_name("SIZE")->default_value("1M"),
       "store a larger JSON value as {\"truncated\":true,\"original_bytes\":N}");
}

bool parse_pipeline_command(const std::string& command, const char* usage, const char* exit_text,
                            const std::vector<std::string>& args, po::options_description& own, PipelineFlags& flags,
                            std::vector<std::string>& positional) {
  po::options_description general, framing("Log framing"), privacy("Privacy and size");
  general.add_options()("help,h", "show this help and exit");
  add_pipeline_options(general, framing, privacy, flags);
  po::options_description visible(usage);
  visible.add(general).add(own).add(framing).add(privacy);
  po::options_description hidden;
  hidden.add_options()("positional", po::value(&positional));
  po::options_description all;
  all.add(visible).add(hidden);
  po::positional_options_description pos;
  pos.add("positional", -1);
  const po::variables_map vm = parse_command(command, args, all, &pos);
  if (vm.count("help")) {
    std::cout << visible << exit_text;
    return false;
  }
  return true;
}

std::chrono::milliseconds parse_interval(const std::string& text, const std::string& option) {
  const auto ms = std::chrono::milliseconds(parse_duration(text, option) / 1000);
  if (ms.count() <= 0) throw UsageError("--" + option + ": must be at least 1ms");
  return ms;
}

PipelineSettings settings_from(const PipelineFlags& flags) {
  PipelineSettings s;
  s.flags = flags;
  s.assembler.abandon_after = parse_duration(flags.abandon_after, "abandon-after");
  if (flags.progress != "auto" && flags.progress != "always" && flags.progress != "never")
    throw UsageError("--progress: expected auto, always or never, got '" + flags.progress + "'");
  s.assembler.max_open = flags.max_open_invocations;
  const auto format = ingest::log_format_from_name(flags.format);
  if (!format)
    throw UsageError("--format: expected auto, ndjson, lambda, netlify, docker, kubectl or regex, got '" +
                     flags.format + "'");
  s.framing.format = *format;
  s.framing.line_regex = flags.line_regex;
  try {
    ingest::LineFramer check(s.framing);  // a bad pattern is bad usage, said before anything is read
  } catch (const ingest::FramingError& e) {
    throw UsageError(e.what());
  }
  s.privacy.no_payloads = flags.no_payloads;
  s.privacy.no_job_options = flags.no_job_options;
  s.privacy.no_results = flags.no_results;
  s.privacy.no_stacks = flags.no_stacks;
  s.privacy.no_logs = flags.no_logs;
  s.privacy.redact_patterns = flags.redact;
  s.privacy.redact_fields = flags.redact_fields;
  s.privacy.max_json_bytes = parse_size(flags.max_json_bytes, "max-json-bytes");
  if (s.privacy.max_json_bytes < 64) throw UsageError("--max-json-bytes: must be at least 64");
  try {
    transform::PrivacyFilter check(s.privacy);
  } catch (const transform::PrivacyError& e) {
    throw UsageError(e.what());
  }
  return s;
}

PipelineRun::PipelineRun(PipelineSettings settings)
    : s_(std::move(settings)), privacy_(s_.privacy), assembler_(s_.assembler) {
  summary_.dry_run = s_.flags.dry_run;
  summary_.abandon_after = s_.assembler.abandon_after;
  summary_.abandon_after_text = s_.flags.abandon_after;
}

PipelineRun::~PipelineRun() = default;

bool PipelineRun::show_progress() const {
  return s_.flags.progress == "always" || (s_.flags.progress == "auto" && ::isatty(2));
}

bool PipelineRun::open() {
  if (!s_.flags.dead_letter.empty()) {
    try {
      dead_letter_ = std::make_unique<ingest::DeadLetterWriter>(s_.flags.dead_letter);
    } catch (const std::exception& e) {
      std::cerr << "edpipe: " << e.what() << "\n";
      return false;
    }
  }
  conninfo_ = load::resolve_conninfo(s_.flags.db);
  if (s_.flags.dry_run) {
    auto t = std::make_unique<load::TallySink>();
    tally_ = t.get();
    sink_ = std::move(t);
    return true;
  }
  load::LoaderOptions lo;
  lo.abandon_after = s_.assembler.abandon_after;
  lo.connections = s_.flags.connections;
  lo.batch_rows = s_.flags.batch_size;
  loader_ = std::make_unique<load::RowLoader>(conninfo_, lo, [this](const std::string& json) {
    ++rows_dead_lettered_;
    if (dead_letter_) {
      // On the loader thread, inside the batch's transaction, once per value: a write that
      // fails (disk full) throws, and the batch does not commit without its dead letters.
      dead_letter_->write_raw(json);
      dead_letter_->flush();
    } else if (!s_.flags.quiet) {
      std::cerr << "edpipe: not loaded: " << json;
    }
  });
  try {
    loader_->open();
    // What a prune left behind stays behind: records older than the horizon are left out here;
    // the loader leaves out what belongs to pruned invocations, against the horizon of the moment.
    if (const auto h = loader_->with_retries([](pqxx::connection& c) { return load::read_horizon(c); }))
      assembler_.set_retention_horizon(*h);
  } catch (const std::exception& e) {
    std::cerr << "edpipe: " << load::mask_secrets(e.what(), conninfo_) << "\n";
    return false;
  }
  sink_ = std::make_unique<load::DatabaseSink>(*loader_, lo, [this] {
    if (dead_letter_) dead_letter_->flush();
  });
  return true;
}

load::FileOwnership* PipelineRun::own_followed_files() {
  if (!loader_) return nullptr;
  if (!ownership_) {
    ownership_ = std::make_unique<load::FileOwnership>(conninfo_);
    loader_->save_positions_with(ownership_.get());
  }
  return ownership_.get();
}

void PipelineRun::consume(ingest::IngestBatch& batch, const std::function<std::string(uint32_t)>& input_name) {
  // A prune while this run goes on (a tail runs for months) moves the horizon; the loader's
  // batches read it: from then on the records older than the new one are left out here too.
  if (loader_)
    if (const auto h = loader_->horizon_seen()) assembler_.set_retention_horizon(*h);
  summary_.lines += batch.counts;
  summary_.bytes_read += batch.bytes;
  for (const auto& r : batch.rejected) {
    std::string name = input_name(r.pos.input);
    if (name == "-") name = "<stdin>";
    if (dead_letter_) dead_letter_->write(r, name);
    if (!s_.flags.quiet && rejected_shown_++ < kRejectedShownOnStderr) {
      if (progress_) progress_->finish();
      std::cerr << "edpipe: " << name << ":" << r.pos.line << ": rejected (" << ingest::reject_reason_code(r.reason)
                << "): " << r.detail << "\n";
    }
  }
  privacy_.filter(batch.records, batch.text);
  if (loader_) {
    // The loader makes a new day's partitions as soon as its first records are read, while the
    // assembler holds their rows until their invocations end.
    std::vector<int32_t> new_days;
    int32_t last = kUndatedDay;
    for (const auto& r : batch.records) {
      const int32_t day = invocation_day(r.invocation_id);
      if (day == last) continue;
      last = day;
      if (day != kUndatedDay && days_announced_.insert(day).second) new_days.push_back(day);
    }
    loader_->prepare_days(std::move(new_days));
  }
  assembler_.add(batch.records);
  transform::RowBatch rows;
  assembler_.take_ready(rows);
  sink_->add(rows);
}

void PipelineRun::flush(std::vector<ingest::FilePosition> positions) {
  transform::RowBatch rows;
  assembler_.take_all(rows);
  sink_->add(rows);
  if (dead_letter_) dead_letter_->flush();  // also for a dry run: rejected lines on disk at every flush
  sink_->flush(std::move(positions));
}

void PipelineRun::finish() {
  transform::RowBatch rows;
  assembler_.take_all(rows);
  sink_->add(rows);
  sink_->finish();
  if (dead_letter_) dead_letter_->flush();
}

int PipelineRun::report(std::chrono::steady_clock::time_point started) {
  if (summary_.lines.total > 0 && summary_.lines.records == 0 && summary_.lines.rejected == 0)
    std::cerr << "edpipe: warning: no trace record in " << summary_.lines.total << " line"
              << (summary_.lines.total == 1 ? "" : "s") << " (--format " << s_.flags.format
              << "): expected JSON objects with a `type` and an `invocation_id`, one per line, after the prefix "
                 "the platform writes (for a prefix --format auto does not know, use --format regex --line-regex)\n";
  if (!s_.flags.quiet && rejected_shown_ > kRejectedShownOnStderr)
    std::cerr << "edpipe: ... and " << (rejected_shown_ - kRejectedShownOnStderr) << " more rejected lines"
              << (dead_letter_ ? " (all are in " + s_.flags.dead_letter + ")" : " (--dead-letter FILE keeps them all)")
              << "\n";
  if (tally_) {
    summary_.watermark = assembler_.watermark();
    summary_.rows = tally_->tally.finish(transform::AbandonRule{assembler_.watermark(), s_.assembler.abandon_after});
    summary_.log_conflicts = assembler_.log_conflicts() + summary_.rows.log_conflicts;
  } else {
    // What the database now holds, read back: totals over the database, the hours this run touched.
    summary_.watermark = loader_->with_retries([](pqxx::connection& c) { return load::read_watermark(c); });
    const load::LoaderStats stats = loader_->stats();
    summary_.rows = loader_->with_retries(
        [&](pqxx::connection& c) { return load::read_database_tally(c, &stats.touched_hours, s_.flags.totals); });
    summary_.batches = stats.batches;
    summary_.retries = stats.retries;
    summary_.synchronous_commit = loader_->synchronous_commit();
    summary_.rows_inserted = stats.rows_inserted;
    summary_.rows_updated = stats.rows_updated;
    summary_.hours_touched = stats.touched_hours.size();
    summary_.rows_dead_lettered = rows_dead_lettered_;
    summary_.log_conflicts = assembler_.log_conflicts() + stats.log_conflicts;
    summary_.beyond_retention = assembler_.beyond_retention() + stats.beyond_retention;
  }
  summary_.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (s_.flags.json) {
    std::cout << render_json(summary_);
  } else {
    std::cout << render_text(summary_) << "\n"
              << (summary_.dry_run ? "Hourly metrics (what a load would write to metrics_hourly)\n"
                                   : "Hourly metrics of the hours this run changed (metrics_hourly)\n")
              << render_rollup_table(summary_.rows.rollups);
  }
  std::cout.flush();
  return summary_.input_errors.empty() ? kExitOk : kExitInputError;
}

int PipelineRun::fail(const std::exception& error, std::chrono::steady_clock::time_point started) {
  if (sink_) sink_->cancel();  // every lane idle before the summary reads through one of them
  const std::string why = load::mask_secrets(error.what(), conninfo_);
  std::cerr << "edpipe: " << why << "\n";
  if (loader_)
    std::cerr << "edpipe: the batches not yet committed were cancelled; what committed stays, and the same command "
                 "again loads the rest exactly once\n";
  summary_.input_errors.push_back(why);
  try {
    report(started);
  } catch (const std::exception&) {  // the database cannot be read back: the line above says why
  }
  return kExitInputError;
}

}  // namespace edpipe::cli
