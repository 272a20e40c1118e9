#include "cli/run_summary.h"

#include <cstdio>
#include <sstream>

#include "core/json_text.h"

namespace edpipe::cli {
namespace {

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

template <class Names, class Counts>
std::string json_counts(const Names& name_of, const Counts& counts, size_t n) {
  std::string out = "{";
  for (size_t i = 0; i < n; ++i) {
    if (i) out += ',';
    append_json_string(out, name_of(i));
    out += ':' + std::to_string(counts[i]);
  }
  return out + "}";
}

auto record_name = [](size_t i) { return std::string(record_type_name(static_cast<ingest::RecordType>(i))); };
auto reason_name = [](size_t i) { return std::string(ingest::reject_reason_code(static_cast<ingest::RejectReason>(i))); };
auto invocation_name = [](size_t i) { return std::string(status_name(static_cast<transform::InvocationStatus>(i))); };
auto event_name_of = [](size_t i) { return std::string(status_name(static_cast<transform::EventStatus>(i))); };
auto job_name_of = [](size_t i) { return std::string(status_name(static_cast<transform::JobStatus>(i))); };

std::string json_opt(const std::optional<double>& v, int digits) { return v ? fixed(*v, digits) : "null"; }
std::string json_opt(const std::optional<int64_t>& v) { return v ? std::to_string(*v) : "null"; }

template <class Names, class Counts>
std::string text_counts(const Names& name_of, const Counts& counts, size_t n, bool skip_zero) {
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    if (skip_zero && counts[i] == 0) continue;
    if (!out.empty()) out += ", ";
    out += name_of(i) + " " + std::to_string(counts[i]);
  }
  return out.empty() ? "-" : out;
}

}  // namespace

std::string human_bytes(double b) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB"};
  int u = 0;
  while (b >= 1000 && u < 4) {
    b /= 1000;
    ++u;
  }
  return fixed(b, u == 0 ? 0 : 1) + " " + units[u];
}

std::string render_json(const RunSummary& s) {
  std::string o = "{";
  o += "\"dry_run\":" + std::string(s.dry_run ? "true" : "false");
  o += ",\"inputs\":" + std::to_string(s.inputs);
  o += ",\"lines\":{\"total\":" + std::to_string(s.lines.total) + ",\"records\":" + std::to_string(s.lines.records) +
       ",\"non_record\":" + std::to_string(s.lines.non_record) + ",\"rejected\":" + std::to_string(s.lines.rejected) +
       ",\"unknown_type\":" + std::to_string(s.lines.unknown_type) + "}";
  o += ",\"records_by_type\":" + json_counts(record_name, s.lines.by_type, ingest::kRecordTypeCount);
  o += ",\"rejected_by_reason\":" + json_counts(reason_name, s.lines.by_reason, ingest::kRejectReasonCount);
  o += ",\"rows\":{\"invocations\":" + std::to_string(s.rows.invocations) +
       ",\"event_executions\":" + std::to_string(s.rows.event_executions) +
       ",\"job_executions\":" + std::to_string(s.rows.job_executions) + ",\"job_logs\":" + std::to_string(s.rows.job_logs) +
       ",\"metrics_hourly\":" + std::to_string(s.rows.hourly_rows) + "}";
  // Estimated rows (a large database, without --totals): the statuses were not counted.
  o += ",\"rows_estimated\":" + std::string(s.rows.rows_estimated ? "true" : "false");
  const bool counted = !s.rows.rows_estimated;
  o += ",\"invocations_by_status\":" +
       (counted ? json_counts(invocation_name, s.rows.invocations_by_status, transform::kInvocationStatusCount) : "null");
  o += ",\"events_by_status\":" +
       (counted ? json_counts(event_name_of, s.rows.events_by_status, transform::kEventStatusCount) : "null");
  o += ",\"jobs_by_status\":" + (counted ? json_counts(job_name_of, s.rows.jobs_by_status, transform::kJobStatusCount) : "null");
  o += ",\"chained_invocations\":" + (counted ? std::to_string(s.rows.chained_invocations) : "null");
  o += ",\"log_conflicts\":" + std::to_string(s.log_conflicts);
  o += ",\"beyond_retention\":" + std::to_string(s.beyond_retention);
  o += ",\"watermark\":" + (s.lines.records ? json_string(format_rfc3339(s.watermark)) : std::string("null"));
  o += ",\"abandon_after\":" + json_string(s.abandon_after_text);
  o += ",\"abandon_after_seconds\":" + std::to_string(s.abandon_after / kMicrosPerSecond);
  o += ",\"bytes_read\":" + std::to_string(s.bytes_read);
  o += ",\"bytes_on_disk\":" + std::to_string(s.raw_bytes);
  if (!s.dry_run)
    o += ",\"database\":{\"batches\":" + std::to_string(s.batches) + ",\"retries\":" + std::to_string(s.retries) +
         ",\"dead_lettered\":" + std::to_string(s.rows_dead_lettered) +
         ",\"rows_inserted\":" + std::to_string(s.rows_inserted) + ",\"rows_updated\":" + std::to_string(s.rows_updated) +
         ",\"hours_touched\":" + std::to_string(s.hours_touched) +
         ",\"synchronous_commit\":" + json_string(s.synchronous_commit) +
         ",\"durable_commits\":" + (s.synchronous_commit == "off" ? "false" : "true") + "}";
  o += ",\"seconds\":" + fixed(s.seconds, 3);
  o += ",\"input_errors\":[";
  for (size_t i = 0; i < s.input_errors.size(); ++i) {
    if (i) o += ',';
    append_json_string(o, s.input_errors[i]);
  }
  o += "],\"metrics_hourly\":[";
  bool first = true;
  for (const auto& [key, r] : s.rows.rollups) {
    if (!first) o += ',';
    first = false;
    o += "{\"hour_bucket\":" + json_string(format_rfc3339(key.hour)) + ",\"source_function\":" + json_string(key.source_function);
    o += ",\"total_invocations\":" + std::to_string(r.total_invocations);
    o += ",\"successful_invocations\":" + std::to_string(r.successful_invocations);
    o += ",\"failed_invocations\":" + std::to_string(r.failed_invocations);
    o += ",\"running_invocations\":" + std::to_string(r.running_invocations);
    o += ",\"total_events_detected\":" + std::to_string(r.events_detected);
    o += ",\"total_jobs_run\":" + std::to_string(r.jobs_run);
    o += ",\"total_jobs_succeeded\":" + std::to_string(r.jobs_succeeded);
    o += ",\"total_jobs_failed\":" + std::to_string(r.jobs_failed);
    o += ",\"avg_duration_ms\":" + json_opt(r.avg_duration_ms(), 3);
    o += ",\"min_duration_ms\":" + json_opt(r.min_duration_ms);
    o += ",\"max_duration_ms\":" + json_opt(r.max_duration_ms);
    o += ",\"p50_duration_ms\":" + json_opt(r.percentile(0.50), 3);
    o += ",\"p95_duration_ms\":" + json_opt(r.percentile(0.95), 3);
    o += ",\"p99_duration_ms\":" + json_opt(r.percentile(0.99), 3);
    o += ",\"top_detected_events\":" + transform::HourlyRollup::top_json(r.detected_events);
    o += ",\"top_failed_jobs\":" + transform::HourlyRollup::top_json(r.failed_jobs) + "}";
  }
  o += "]}\n";
  return o;
}

std::string render_text(const RunSummary& s) {
  std::ostringstream o;
  const double mbps = s.seconds > 0 ? s.bytes_read / s.seconds / 1e6 : 0;
  o << "edpipe " << s.command << (s.dry_run ? " (dry run: nothing written)" : "") << "\n";
  // This run: what it read and, for a load, what it changed.
  o << "  read        " << s.inputs << " input" << (s.inputs == 1 ? "" : "s") << ", " << human_bytes(double(s.bytes_read));
  if (s.raw_bytes && s.raw_bytes != s.bytes_read) o << " (" << human_bytes(double(s.raw_bytes)) << " on disk)";
  o << " in " << fixed(s.seconds, 2) << " s (" << fixed(mbps, 1) << " MB/s)\n";
  o << "  lines       " << s.lines.total << " = " << s.lines.records << " records + " << s.lines.non_record
    << " non-record";
  if (s.lines.unknown_type) o << " (" << s.lines.unknown_type << " of an unknown type)";
  o << " + " << s.lines.rejected << " rejected\n";
  o << "  records     " << text_counts(record_name, s.lines.by_type, ingest::kRecordTypeCount, true) << "\n";
  if (s.lines.rejected) o << "  rejected    " << text_counts(reason_name, s.lines.by_reason, ingest::kRejectReasonCount, true) << "\n";
  if (s.log_conflicts)
    o << "  log lines   " << s.log_conflicts << " shared a seq with another line of other content (one of each kept)\n";
  if (s.beyond_retention)
    o << "  retention   " << s.beyond_retention << " left out: records older than the retention horizon, rows of pruned invocations\n";
  if (!s.dry_run) {
    o << "  changed     " << s.rows_inserted << " rows inserted, " << s.rows_updated << " updated, " << s.hours_touched
      << " hour" << (s.hours_touched == 1 ? "" : "s") << " of metrics_hourly\n";
    o << "  database    " << s.batches << " transaction" << (s.batches == 1 ? "" : "s") << ", " << s.retries
      << " retried, " << s.rows_dead_lettered << " values or rows refused (see --dead-letter)\n";
    if (s.synchronous_commit == "off")
      o << "  durability  NOT crash-safe: the server's synchronous_commit is off, so a server crash can lose commits "
           "counted here (set it to on; see docs/operations.md)\n";
    else
      o << "  durability  every commit counted here was durable before it was acknowledged (synchronous_commit "
        << s.synchronous_commit << ")\n";
  }
  // What the database holds now (a dry run: what a load of this input alone would hold).
  o << (s.dry_run ? "rows a load would hold\n" : "the database now holds\n");
  o << "  rows        " << (s.rows.rows_estimated ? "about " : "") << "invocations " << s.rows.invocations
    << ", event_executions " << s.rows.event_executions << ", job_executions " << s.rows.job_executions << ", job_logs "
    << s.rows.job_logs << ", metrics_hourly " << s.rows.hourly_rows << "\n";
  if (s.rows.rows_estimated) {
    o << "  statuses    not counted: PostgreSQL's estimates of a database this large (--totals counts every row)\n";
  } else {
    o << "  invocations " << text_counts(invocation_name, s.rows.invocations_by_status, transform::kInvocationStatusCount, false);
    if (s.rows.chained_invocations) o << " (" << s.rows.chained_invocations << " caused by a job)";
    o << "\n";
    o << "  events      " << text_counts(event_name_of, s.rows.events_by_status, transform::kEventStatusCount, false) << "\n";
    o << "  jobs        " << text_counts(job_name_of, s.rows.jobs_by_status, transform::kJobStatusCount, false) << "\n";
  }
  if (s.lines.records || !s.dry_run)
    o << "  watermark   " << (s.watermark ? format_rfc3339(s.watermark) : std::string("none yet"))
      << " (abandoned: no end and quiet for " << s.abandon_after_text << " before it)\n";
  for (const auto& e : s.input_errors) o << "  input error " << e << "\n";
  return o.str();
}

std::string render_rollup_table(const transform::RollupTable& rollups, size_t max_rows) {
  std::ostringstream o;
  char line[512];
  // 16 + 2 + 22 + 4 * 6 + 7 + 2 * 6 + 4 * 9 = 119 columns at most.
  std::snprintf(line, sizeof line, "%-16s  %-22s%6s%6s%6s%6s%7s%6s%6s%9s%9s%9s%9s\n", "hour (UTC)", "source_function",
                "total", "ok", "fail", "run", "events", "jobs", "jobs", "avg ms", "p50 ms", "p95 ms", "p99 ms");
  o << line;
  std::snprintf(line, sizeof line, "%-16s  %-22s%6s%6s%6s%6s%7s%6s%6s\n", "", "", "", "", "", "", "detect", "run",
                "fail");
  o << line;
  // At most 8 characters, so that a column of 9 keeps a space before it: ms with one decimal,
  // whole ms from 100 s, hours from 100,000 s (an invocation that ran for a day or more).
  auto opt = [](const std::optional<double>& v) {
    if (!v) return std::string("-");
    if (*v < 100'000) return fixed(*v, 1);
    if (*v < 100'000'000) return fixed(*v, 0);
    return fixed(*v / 3'600'000, 1) + "h";
  };
  auto clip = [](const std::string& name) {
    if (name.empty()) return std::string("(no start record)");
    return name.size() <= 22 ? name : name.substr(0, 19) + "...";
  };
  size_t shown = 0;
  for (const auto& [key, r] : rollups) {
    if (shown++ == max_rows) break;
    std::snprintf(line, sizeof line, "%-16s  %-22s%6lld%6lld%6lld%6lld%7lld%6lld%6lld%9s%9s%9s%9s\n",
                  format_hour(key.hour).c_str(), clip(key.source_function).c_str(), (long long)r.total_invocations,
                  (long long)r.successful_invocations, (long long)r.failed_invocations, (long long)r.running_invocations,
                  (long long)r.events_detected, (long long)r.jobs_run, (long long)r.jobs_failed,
                  opt(r.avg_duration_ms()).c_str(), opt(r.percentile(0.5)).c_str(), opt(r.percentile(0.95)).c_str(),
                  opt(r.percentile(0.99)).c_str());
    o << line;
    std::string tops;
    for (const auto& [name, n] : transform::HourlyRollup::top(r.detected_events, 3)) tops += (tops.empty() ? "" : ", ") + name + " " + std::to_string(n);
    std::string fails;
    for (const auto& [name, n] : transform::HourlyRollup::top(r.failed_jobs, 3)) fails += (fails.empty() ? "" : ", ") + name + " " + std::to_string(n);
    std::string detail;
    if (!tops.empty()) detail += "detected: " + tops;
    if (!fails.empty()) detail += (detail.empty() ? "" : "; ") + std::string("failed jobs: ") + fails;
    if (!detail.empty()) {
      detail = "                  " + detail;
      if (detail.size() > 119) detail = detail.substr(0, 116) + "...";
      o << detail << "\n";
    }
  }
  if (rollups.size() > max_rows) o << "... and " << rollups.size() - max_rows << " more (--json lists them all)\n";
  if (rollups.empty()) o << "(no hour changed)\n";
  return o.str();
}

}  // namespace edpipe::cli
