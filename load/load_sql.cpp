#include "load/load_sql.h"

#include <vector>

#include "load/row_columns.h"

namespace edpipe::load::sql {
namespace {

std::string create_staging(const char* table, RowTable rows) {
  std::string out = std::string("CREATE TEMP TABLE IF NOT EXISTS ") + table + " (";
  const char* sep = "";
  for (const auto& c : staged_columns(rows)) {
    out += std::string(sep) + c.name + " " + c.type;
    sep = ", ";
  }
  return out + ") ON COMMIT DELETE ROWS;\n";
}
std::vector<std::string> column_names(RowTable rows, bool derived) {
  std::vector<std::string> out;
  for (const auto& c : staged_columns(rows)) out.push_back(c.name);
  if (derived)
    for (const auto& c : derived_columns(rows)) out.push_back(c.name);
  return out;
}

// `col = CASE WHEN <wins> THEN EXCLUDED.col ELSE t.col END` for each column of one lifecycle step.
std::string take_if(const std::string& wins, const std::vector<std::string>& cols) {
  std::string out;
  for (const auto& c : cols) out += "  " + c + " = CASE WHEN " + wins + " THEN EXCLUDED." + c + " ELSE t." + c + " END,\n";
  return out;
}

// The winner rules of row_state.cpp: the earlier start; a failed end before a completed one,
// then the earlier end; a tie in both goes to the lower content rank (content_hash.h). A row
// stored before the ranks were (migration 007) has none: a tie then keeps what is stored.
std::string earlier(const std::string& at, const std::string& rank) {
  return "(EXCLUDED." + at + " < t." + at + " OR (EXCLUDED." + at + " = t." + at + " AND EXCLUDED." + rank + " < t." +
         rank + "))";
}
std::string start_wins(const std::string& at, const std::string& rank) {
  return "(EXCLUDED." + at + " IS NOT NULL AND (t." + at + " IS NULL OR " + earlier(at, rank) + "))";
}
std::string end_wins(const std::string& at, const std::string& rank, const std::string& failed_new,
                     const std::string& failed_old) {
  return "(EXCLUDED." + at + " IS NOT NULL AND (t." + at + " IS NULL OR (" + failed_new + ") > (" + failed_old +
         ") OR ((" + failed_new + ") = (" + failed_old + ") AND " + earlier(at, rank) + ")))";
}
// A row's name comes from its first step present (its name rank): a lower rank takes it, and so
// does the winner of the step the name already comes from.
std::string name_wins(const std::string& rank, const std::vector<std::string>& step_wins) {
  std::string out = "(EXCLUDED." + rank + " < t." + rank + " OR (EXCLUDED." + rank + " = t." + rank + " AND CASE t." +
                    rank;
  for (size_t i = 0; i < step_wins.size(); ++i) out += " WHEN " + std::to_string(i) + " THEN " + step_wins[i];
  return out + " ELSE false END))";
}
const std::string kCorrelationWins =
    "(EXCLUDED.correlation_id IS NOT NULL AND (t.correlation_id IS NULL OR "
    "EXCLUDED.correlation_id COLLATE \"C\" < t.correlation_id COLLATE \"C\"))";
const std::string kTimes =
    "  first_record_at = least(t.first_record_at, EXCLUDED.first_record_at),\n"
    "  last_record_at = greatest(t.last_record_at, EXCLUDED.last_record_at),\n"
    "  correlation_id = CASE WHEN " + kCorrelationWins + " THEN EXCLUDED.correlation_id ELSE t.correlation_id END,\n"
    "  updated_at = $2::timestamptz\n";
const std::string kTimesChanged = "EXCLUDED.first_record_at < t.first_record_at OR EXCLUDED.last_record_at > t.last_record_at OR " +
                                  kCorrelationWins;

// A step's duration: the end record's own duration_ms, else end ts - start ts.
std::string step_ms(const std::string& started, const std::string& ended, const std::string& reported) {
  return "(CASE WHEN " + ended + " IS NULL THEN NULL WHEN " + reported + " IS NOT NULL THEN " + reported + " WHEN " +
         started + " IS NOT NULL THEN greatest(0, round(extract(epoch FROM " + ended + " - " + started +
         ") * 1000)) END)::integer";
}
}  // namespace

// derive.h's AbandonRule on a row's columns ($1 the watermark minus the window): no end, and the
// newest record older than that. The cutoff comes computed: timestamptz arithmetic depends on
// the time zone, and Citus refuses what is not IMMUTABLE in the CASEs of an upsert.
std::string abandoned(const std::string& s) {
  return "(" + s + ".end_status IS NULL AND " + s + ".last_record_at < $1::timestamptz)";
}

namespace {

// The statuses a row's facts give, from end-record columns: the facts of derive.h's EndFact.
std::string end_status(const std::string& row, const std::string& abandoned_sql, bool job) {
  const std::vector<std::string> facts = {row + ".end_status IS NOT NULL", row + ".end_status = 'failed'", abandoned_sql};
  return job ? status_sql(transform::kJobStatusRules, facts) : status_sql(transform::kInvocationStatusRules, facts);
}
std::string event_status(const std::string& v, const std::string& invocation_abandoned) {
  return status_sql(transform::kEventStatusRules, {v + ".handler_ended_at IS NOT NULL", "coalesce(" + v + ".handler_failed, false)",
                                        v + ".detection_ended_at IS NOT NULL", "coalesce(" + v + ".detection_failed, false)",
                                        "coalesce(" + v + ".detected, false)", v + ".handler_started_at IS NOT NULL",
                                        invocation_abandoned});
}

std::string merge_invocations() {
  const std::string s = start_wins("started_at", "start_rank");
  const std::string e = end_wins("ended_at", "end_rank", "EXCLUDED.end_status = 'failed'", "t.end_status = 'failed'");
  return "INSERT INTO invocations AS t (id, invocation_day, source_function, source_system, source_table, source_operation,\n"
         "  source_event_id, source_event_time, source_event_payload, source_user_email, source_user_role, source_job_ref,\n"
         "  auto_load_modules, event_modules_directory, context_data, started_at, ended_at, end_status,\n"
         "  reported_duration_ms, error_message, error_stack, first_record_at, last_record_at, correlation_id,\n"
         "  start_rank, end_rank, status, created_at, total_duration_ms, events_detected_count, total_jobs_run,\n"
         "  total_jobs_succeeded, total_jobs_failed, jobs_timed, job_duration_sum_ms)\n"
         // A new invocation's derived columns come from the batch (its children are all in it), so
         // that the derive pass finds nothing to rewrite: each new row is written once.
         "SELECT s.id, s.invocation_day, coalesce(s.source_function, ''), s.source_system, s.source_table, s.source_operation,\n"
         "  s.source_event_id, s.source_event_time, s.source_event_payload, s.source_user_email, s.source_user_role,\n"
         "  s.source_job_ref, s.auto_load_modules, s.event_modules_directory, s.context_data, s.started_at, s.ended_at,\n"
         "  s.end_status, s.reported_duration_ms, s.error_message, s.error_stack, s.first_record_at, s.last_record_at,\n"
         "  s.correlation_id, s.start_rank, s.end_rank,\n"
         "  " + end_status("s", abandoned("s"), false) + ",\n"
         "  coalesce(s.started_at, s.first_record_at), " + step_ms("s.started_at", "s.ended_at", "s.reported_duration_ms") + ",\n"
         "  coalesce(e.detected, 0), coalesce(j.run, 0), coalesce(j.ok, 0), coalesce(j.failed, 0), coalesce(j.timed, 0),\n"
         "  coalesce(j.total_ms, 0)\n"
         "FROM stage_invocations s\n"
         "LEFT JOIN (SELECT invocation_id, count(*) FILTER (WHERE detected) AS detected FROM stage_event_executions\n"
         "           GROUP BY 1) e ON e.invocation_id = s.id\n"
         "LEFT JOIN (SELECT invocation_id, count(*) AS run, count(*) FILTER (WHERE end_status = 'completed') AS ok,\n"
         "                  count(*) FILTER (WHERE end_status = 'failed') AS failed, count(d) AS timed, sum(d) AS total_ms\n"
         "           FROM (SELECT *, " + step_ms("started_at", "ended_at", "reported_duration_ms") + " AS d\n"
         "                 FROM stage_job_executions) sj\n"
         "           GROUP BY 1) j ON j.invocation_id = s.id\n"
         "ORDER BY s.id\n"
         "ON CONFLICT (id, invocation_day) DO UPDATE SET\n" +
         take_if(s, {"source_function", "source_system", "source_table", "source_operation", "source_event_id",
                     "source_event_time", "source_event_payload", "source_user_email", "source_user_role",
                     "source_job_ref", "auto_load_modules", "event_modules_directory", "context_data", "started_at",
                     "start_rank"}) +
         // A start that wins with another source job drops the link; kLinkSourceJobs makes the new one.
         "  source_job_id = CASE WHEN " + s + " AND EXCLUDED.source_job_ref IS DISTINCT FROM t.source_job_ref THEN NULL "
         "ELSE t.source_job_id END,\n" +
         take_if(e, {"ended_at", "end_status", "reported_duration_ms", "error_message", "error_stack", "end_rank"}) +
         kTimes +
         "WHERE " + s + " OR " + e + " OR " + kTimesChanged;
}

std::string merge_events() {
  const std::string ds = start_wins("detection_started_at", "detection_start_rank");
  const std::string de =
      end_wins("detection_ended_at", "detection_end_rank", "EXCLUDED.detection_failed", "t.detection_failed");
  const std::string hs = start_wins("handler_started_at", "handler_start_rank");
  const std::string he = end_wins("handler_ended_at", "handler_end_rank", "EXCLUDED.handler_failed", "t.handler_failed");
  const std::string name = name_wins("event_name_rank", {ds, de, hs, he});
  return "INSERT INTO event_executions AS t (id, invocation_id, invocation_day, event_name, event_name_rank, event_module_path,\n"
         "  detection_started_at, detection_ended_at, detected, detection_failed, reported_detection_ms,\n"
         "  detection_error, detection_error_stack, handler_started_at, handler_ended_at, handler_failed,\n"
         "  reported_handler_ms, handler_error, handler_error_stack, first_record_at, last_record_at, correlation_id,\n"
         "  detection_start_rank, detection_end_rank, handler_start_rank, handler_end_rank,\n"
         "  created_at, status, detection_duration_ms, handler_duration_ms, jobs_count, jobs_succeeded, jobs_failed)\n"
         "SELECT v.id, v.invocation_id, v.invocation_day, v.event_name, v.event_name_rank, v.event_module_path, v.detection_started_at,\n"
         "  v.detection_ended_at, coalesce(v.detected, false), v.detection_failed, v.reported_detection_ms,\n"
         "  v.detection_error, v.detection_error_stack, v.handler_started_at, v.handler_ended_at, v.handler_failed,\n"
         "  v.reported_handler_ms, v.handler_error, v.handler_error_stack, v.first_record_at, v.last_record_at,\n"
         "  v.correlation_id, v.detection_start_rank, v.detection_end_rank, v.handler_start_rank, v.handler_end_rank,\n"
         "  coalesce(v.detection_started_at, v.first_record_at),\n"
         "  " + event_status("v", "coalesce(" + abandoned("i") + ", false)") + ",\n"
         "  " + step_ms("v.detection_started_at", "v.detection_ended_at", "v.reported_detection_ms") + ",\n"
         "  " + step_ms("v.handler_started_at", "v.handler_ended_at", "v.reported_handler_ms") + ",\n"
         "  coalesce(j.n, 0), coalesce(j.ok, 0), coalesce(j.failed, 0)\n"
         "FROM stage_event_executions v\n"
         "LEFT JOIN stage_invocations i ON i.id = v.invocation_id\n"
         "LEFT JOIN (SELECT event_execution_id, count(*) AS n, count(*) FILTER (WHERE end_status = 'completed') AS ok,\n"
         "                  count(*) FILTER (WHERE end_status = 'failed') AS failed FROM stage_job_executions\n"
         "           GROUP BY 1) j ON j.event_execution_id = v.id\n"
         "ORDER BY v.id\n"
         "ON CONFLICT (id, invocation_id, invocation_day) DO UPDATE SET\n" +
         take_if(name, {"event_name", "event_name_rank"}) +
         take_if(ds, {"detection_started_at", "event_module_path", "detection_start_rank"}) +
         take_if(de, {"detection_ended_at", "detected", "detection_failed", "reported_detection_ms", "detection_error",
                      "detection_error_stack", "detection_end_rank"}) +
         take_if(hs, {"handler_started_at", "handler_start_rank"}) +
         take_if(he, {"handler_ended_at", "handler_failed", "reported_handler_ms", "handler_error", "handler_error_stack",
                      "handler_end_rank"}) +
         kTimes + "WHERE " + name + " OR " + ds + " OR " + de + " OR " + hs + " OR " + he + " OR " + kTimesChanged;
}

std::string merge_jobs() {
  const std::string s = start_wins("started_at", "start_rank");
  const std::string e = end_wins("ended_at", "end_rank", "EXCLUDED.end_status = 'failed'", "t.end_status = 'failed'");
  const std::string name = name_wins("job_name_rank", {s, e});
  return "INSERT INTO job_executions AS t (id, invocation_id, invocation_day, event_execution_id, job_name, job_name_rank,\n"
         "  job_function_name, job_options, started_at, ended_at, end_status, reported_duration_ms, result,\n"
         "  error_message, error_stack, first_record_at, last_record_at, correlation_id, start_rank, end_rank,\n"
         "  status, created_at, duration_ms)\n"
         "SELECT v.id, v.invocation_id, v.invocation_day, v.event_execution_id, v.job_name, v.job_name_rank, v.job_function_name,\n"
         "  v.job_options, v.started_at, v.ended_at, v.end_status, v.reported_duration_ms, v.result, v.error_message,\n"
         "  v.error_stack, v.first_record_at, v.last_record_at, v.correlation_id, v.start_rank, v.end_rank,\n"
         "  " + end_status("v", "coalesce(" + abandoned("i") + ", false)", true) + ",\n"
         "  coalesce(v.started_at, v.first_record_at), " + step_ms("v.started_at", "v.ended_at", "v.reported_duration_ms") + "\n"
         "FROM stage_job_executions v LEFT JOIN stage_invocations i ON i.id = v.invocation_id\n"
         "ORDER BY v.id\n"
         "ON CONFLICT (id, invocation_id, invocation_day) DO UPDATE SET\n" +
         take_if(name, {"job_name", "job_name_rank", "event_execution_id"}) +
         take_if(s, {"started_at", "job_function_name", "job_options", "start_rank"}) +
         take_if(e, {"ended_at", "end_status", "reported_duration_ms", "result", "error_message", "error_stack",
                     "end_rank"}) +
         kTimes + "WHERE " + name + " OR " + s + " OR " + e + " OR " + kTimesChanged;
}

}  // namespace

// Made when a batch first stages rows, so a load of new invocations alone never makes them; their
// "already exists" notices are not wanted.
const std::string kCreateStaging =
    "SET LOCAL client_min_messages = warning;\n" + create_staging("stage_invocations", RowTable::Invocations) +
    create_staging("stage_event_executions", RowTable::EventExecutions) +
    create_staging("stage_job_executions", RowTable::JobExecutions) + create_staging("stage_job_logs", RowTable::JobLogs);
const char* const kCreateTouched =
    "CREATE TEMP TABLE IF NOT EXISTS touched_invocations (id uuid PRIMARY KEY) ON COMMIT DELETE ROWS";

const char* const kLockMigrations = "SELECT pg_advisory_xact_lock(7321001, 0)";
static_assert(kMigrationLockSpace == 7321001, "kLockMigrations spells the space out");

std::string lock_shards(const std::vector<int>& shards) {
  std::string out = "SELECT 1";
  for (int s : shards)
    out += ", pg_advisory_xact_lock(" + std::to_string(kShardLockSpace) + ", " + std::to_string(s) + ")";
  return out;
}

const char* const kTryLockFile = "SELECT pg_try_advisory_lock($1)";

// A loader's session holds this shared advisory lock from its start to its end, so that others
// (a prune) see a load running even between its batches. Nobody takes it exclusively.
const std::string kMarkLoaderSession = "SELECT pg_advisory_lock_shared(" + std::to_string(kLoaderMarkSpace) + ", 0)";

// A load running now: another session holds the loader mark, or holds or waits for a shard lock
// (two-key advisory locks show their keys as classid and objid, objsubid 2).
const std::string kLoadsBeside =
    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2 AND classid IN (" +
    std::to_string(kShardLockSpace) + ", " + std::to_string(kLoaderMarkSpace) + ") AND pid <> pg_backend_pid())";

// Both halves of (device, inode) folded into one bigint.
int64_t file_lock_key(uint64_t device, uint64_t inode) noexcept {
  uint64_t h = 0x6564706970655f66ULL;  // "edpipe_f"
  for (uint64_t v : {device, inode}) h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  return static_cast<int64_t>(h);
}

const char* const kSavePosition = R"(
INSERT INTO edpipe_file_positions (device, inode, head_hash, head_bytes, byte_offset, line_number, path)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (device, inode) DO UPDATE SET head_hash = EXCLUDED.head_hash, head_bytes = EXCLUDED.head_bytes,
  byte_offset = EXCLUDED.byte_offset, line_number = EXCLUDED.line_number, path = EXCLUDED.path, updated_at = now())";

const char* const kReadPositions =
    "SELECT device, inode, head_hash, head_bytes, byte_offset, line_number, path FROM edpipe_file_positions";

const char* const kReadWatermark = "SELECT (extract(epoch FROM watermark) * 1000000)::bigint FROM edpipe_watermark";

// Loaders take turns from here: after their shard locks and before any row lock (the COPYs
// before it lock no stored row), so two loaders never wait on each other in opposite orders.
const char* const kLockWatermark = R"(
INSERT INTO edpipe_watermark AS w (id, watermark) VALUES (true, $1)
ON CONFLICT (id) DO UPDATE SET watermark = greatest(w.watermark, EXCLUDED.watermark)
RETURNING (extract(epoch FROM watermark) * 1000000)::bigint, (extract(epoch FROM now()) * 1000000)::bigint)";

const std::string kLockSerialEnd = "SELECT pg_advisory_xact_lock(" + std::to_string(kSerialEndLockSpace) + ", 0)";
const char* const kTouchedIds = "SELECT id::text FROM touched_invocations";
const char* const kTouchStaged = "INSERT INTO touched_invocations SELECT DISTINCT id FROM stage_invocations ON CONFLICT DO NOTHING";

// Stored invocations whose abandoned verdict changes under the new watermark: a running one
// that falls quiet for the window, or an abandoned one whose newest record is inside the window
// again (a longer --abandon-after). Only those two ranges of the open-invocations index are
// read: the abandoned invocations of every past day stay abandoned, and are not looked at.
const std::string kTouchFlipping = R"(
INSERT INTO touched_invocations
SELECT id FROM invocations
WHERE (status = 'running' OR (status = 'abandoned' AND last_record_at >= $1::timestamptz))
  AND ended_at IS NULL
  AND (status = 'abandoned') <> )" + abandoned("invocations") + R"(
ON CONFLICT DO NOTHING)";

const std::string kMergeInvocations = merge_invocations();
const std::string kMergeEvents = merge_events();
const std::string kMergeJobs = merge_jobs();

// Two lines of one id: the same line again (a replay: nothing written), or lines of one seq
// that differ, of which the lower content rank stays. (Rows stored before migration 007 have no
// rank: they stay.) The conflicts are counted first, for the summary.
const char* const kCountLogConflicts = R"(
SELECT count(*), count(*) FILTER (WHERE s.seq IS NOT NULL AND t.content_rank IS NOT NULL AND t.content_rank <> s.content_rank)
FROM stage_job_logs s
JOIN job_logs t ON t.id = s.id AND t.invocation_id = s.invocation_id AND t.invocation_day = s.invocation_day)";

const char* const kInsertLogs = R"(
INSERT INTO job_logs AS t (id, invocation_id, invocation_day, job_execution_id, level, message, data, source,
  correlation_id, occurrence, created_at, seq, content_rank)
SELECT id, invocation_id, invocation_day, job_execution_id, level, message, data, source, correlation_id, occurrence,
  created_at, seq, content_rank
FROM stage_job_logs ORDER BY id
ON CONFLICT (id, invocation_id, invocation_day) DO UPDATE SET
  job_execution_id = EXCLUDED.job_execution_id, level = EXCLUDED.level, message = EXCLUDED.message,
  data = EXCLUDED.data, source = EXCLUDED.source, correlation_id = EXCLUDED.correlation_id,
  occurrence = EXCLUDED.occurrence, created_at = EXCLUDED.created_at, seq = EXCLUDED.seq,
  content_rank = EXCLUDED.content_rank
WHERE EXCLUDED.content_rank < t.content_rank)";

// The links load_lane.cpp's link_source_jobs makes. One statement on invocations alone, by id and
// day: on Citus a job lives with its own invocation, not with the one it caused, so a join would
// not run on the workers; the days narrow it to their partitions.
const char* const kLinkSourceJobs = R"(
UPDATE invocations SET source_job_id = source_job_ref, updated_at = $4::timestamptz
WHERE source_job_id IS NULL AND source_job_ref = ANY($3::uuid[])
  AND id = ANY($1::uuid[]) AND invocation_day = ANY($2::date[]))";
const char* const kTakeWaitingLinks =
    "DELETE FROM edpipe_waiting_links WHERE job_id = ANY($1::uuid[]) RETURNING invocation_id::text";
const char* const kAddWaitingLinks = R"(
INSERT INTO edpipe_waiting_links (job_id, invocation_id, invocation_day)
SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::date[]) ON CONFLICT DO NOTHING)";
const char* const kStoredJobs = "SELECT id::text FROM job_executions WHERE id = ANY($1::uuid[])";
const char* const kWidenDaySpans = R"(
INSERT INTO edpipe_day_spans AS s (invocation_day, first_at, last_at)
SELECT * FROM unnest($1::date[], $2::timestamptz[], $3::timestamptz[])
ON CONFLICT (invocation_day) DO UPDATE SET first_at = least(s.first_at, EXCLUDED.first_at),
                                           last_at = greatest(s.last_at, EXCLUDED.last_at)
WHERE EXCLUDED.first_at < s.first_at OR EXCLUDED.last_at > s.last_at)";

namespace {
// The rows of `alias` (a table in a FROM) that are the touched invocations': `alias.column` one
// of their ids. On one server a join to the temp table right after the table (the planner then
// starts from the temp table and reads the rest by index); on Citus conditions on the ids and
// days, parameters `first` and `first + 1`, for the statement's WHERE.
struct Touched {
  std::string join;   // after the table's name and alias in FROM
  std::string where;  // "" or " AND …", after the WHERE's first condition
};
Touched touched(TouchedBy by, const std::string& alias, const std::string& column, int first) {
  if (by == TouchedBy::TempTable)
    return {" JOIN touched_invocations " + alias + "_t ON " + alias + "_t.id = " + alias + "." + column, ""};
  return {"", " AND " + alias + "." + column + " = ANY($" + std::to_string(first) + "::uuid[]) AND " + alias +
                  ".invocation_day = ANY($" + std::to_string(first + 1) + "::date[])"};
}
}  // namespace

TouchedStatements touched_statements(TouchedBy by) {
  TouchedStatements s;
  const Touched inv = touched(by, "i", "id", 1);
  s.contributions = R"(
SELECT i.id, (extract(epoch FROM i.created_at) * 1000000)::bigint AS created_us, i.source_function, i.status,
       i.total_duration_ms, i.events_detected_count, i.total_jobs_run, i.total_jobs_succeeded, i.total_jobs_failed,
       coalesce((SELECT array_agg(e.status || ' ' || e.detected::text || ' ' || coalesce(e.handler_duration_ms::text, '-') ||
                                  ' ' || e.event_name) FROM event_executions e
                 WHERE e.invocation_id = i.id AND e.invocation_day = i.invocation_day),
                '{}') AS event_runs,
       coalesce((SELECT array_agg(j.status || ' ' || coalesce(j.duration_ms::text, '-') || ' ' || j.job_name)
                 FROM job_executions j WHERE j.invocation_id = i.id AND j.invocation_day = i.invocation_day), '{}') AS job_runs
FROM invocations i)" + inv.join + " WHERE true" + inv.where;

  const Touched v_inv = touched(by, "v", "id", 3);
  s.derive_invocations = R"(
UPDATE invocations i SET status = d.status, created_at = d.created_at, total_duration_ms = d.total_duration_ms,
       updated_at = $2::timestamptz
FROM (
  SELECT v.id, )" + end_status("v", abandoned("v"), false) + R"( AS status,
         coalesce(v.started_at, v.first_record_at) AS created_at,
         )" + step_ms("v.started_at", "v.ended_at", "v.reported_duration_ms") + R"( AS total_duration_ms
  FROM invocations v)" + v_inv.join + " WHERE true" + v_inv.where + R"(
) d
WHERE i.id = d.id
  AND (i.status, i.created_at, i.total_duration_ms) IS DISTINCT FROM (d.status, d.created_at, d.total_duration_ms))";

  // A child's invocation: on Citus named by the ids as well, so that the coordinator sends each
  // shard its part only; on one server the join to the child says it already.
  const Touched v = touched(by, "v", "invocation_id", 2);
  const std::string parent = by == TouchedBy::Arrays ? touched(by, "i", "id", 2).where : std::string();
  s.derive_jobs = R"(
UPDATE job_executions j SET status = d.status, duration_ms = d.duration_ms, created_at = d.created_at,
       failure_function = d.failure_function, updated_at = $1::timestamptz
FROM (
  SELECT s.*, CASE WHEN s.status = 'failed' THEN s.source_function END AS failure_function FROM (
    SELECT v.id, v.invocation_id, )" + end_status("v", "i.status = 'abandoned'", true) + R"( AS status,
           )" + step_ms("v.started_at", "v.ended_at", "v.reported_duration_ms") + R"( AS duration_ms,
           coalesce(v.started_at, v.first_record_at) AS created_at, i.source_function
    FROM job_executions v)" + v.join + R"(
    JOIN invocations i ON i.id = v.invocation_id AND i.invocation_day = v.invocation_day
    WHERE true)" + v.where + parent + R"(
  ) s
) d
WHERE j.invocation_id = d.invocation_id AND j.id = d.id
  AND (j.status, j.duration_ms, j.created_at, j.failure_function)
      IS DISTINCT FROM (d.status, d.duration_ms, d.created_at, d.failure_function))";

  const Touched jobs = touched(by, "j", "invocation_id", 2);
  const std::string derived_events = R"(
  SELECT s.*, CASE WHEN s.status IN ('handler_failed', 'detection_failed') THEN s.source_function END AS failure_function
  FROM (
  SELECT v.id, v.invocation_id, v.invocation_day, i.source_function, )" + event_status("v", "i.status = 'abandoned'") + R"( AS status,
         )" + step_ms("v.detection_started_at", "v.detection_ended_at", "v.reported_detection_ms") + R"( AS detection_ms,
         )" + step_ms("v.handler_started_at", "v.handler_ended_at", "v.reported_handler_ms") + R"( AS handler_ms,
         coalesce(v.detection_started_at, v.first_record_at) AS created_at,
         coalesce(c.n, 0)::integer AS jobs_count, coalesce(c.ok, 0)::integer AS jobs_succeeded,
         coalesce(c.failed, 0)::integer AS jobs_failed
  FROM event_executions v)" + v.join + R"(
  JOIN invocations i ON i.id = v.invocation_id AND i.invocation_day = v.invocation_day
  LEFT JOIN (SELECT j.invocation_id, j.event_execution_id, count(*) AS n,
                    count(*) FILTER (WHERE j.status = 'completed') AS ok, count(*) FILTER (WHERE j.status = 'failed') AS failed
             FROM job_executions j)" + jobs.join + " WHERE true" + jobs.where + R"(
             GROUP BY j.invocation_id, j.event_execution_id) c
    ON c.invocation_id = v.invocation_id AND c.event_execution_id = v.id
  WHERE true)" + v.where + parent + R"(
  ) s
)";
  const std::string update_events = R"(
UPDATE event_executions e SET status = d.status, detection_duration_ms = d.detection_ms,
       handler_duration_ms = d.handler_ms, created_at = d.created_at,
       jobs_count = d.jobs_count, jobs_succeeded = d.jobs_succeeded, jobs_failed = d.jobs_failed,
       failure_function = d.failure_function, updated_at = $1::timestamptz
FROM )";
  const std::string changed_events = R"(
  AND (e.status, e.detection_duration_ms, e.handler_duration_ms, e.created_at, e.jobs_count, e.jobs_succeeded, e.jobs_failed,
       e.failure_function)
      IS DISTINCT FROM (d.status, d.detection_ms, d.handler_ms, d.created_at, d.jobs_count, d.jobs_succeeded, d.jobs_failed,
                        d.failure_function))";
  // On one server the derived rows are worked out first (MATERIALIZED), from the temp table
  // out, and the rows to update are read by their key: planned as one statement, the update
  // merge-joined the touched rows with the whole of event_executions in invocation order on a
  // database with statistics (350 ms a batch of a replay of 20,000 invocations, against 70).
  if (by == TouchedBy::TempTable)
    s.derive_events = "WITH d AS MATERIALIZED (" + derived_events + ")" + update_events +
                      "d\nWHERE e.invocation_id = d.invocation_id AND e.invocation_day = d.invocation_day AND e.id = d.id" +
                      changed_events;
  else
    s.derive_events = update_events + "(" + derived_events + ") d\nWHERE e.invocation_id = d.invocation_id AND e.id = d.id" +
                      changed_events;

  const Touched t = touched(by, "t", "id", 2), x = touched(by, "x", "invocation_id", 2);
  s.count_children = R"(
UPDATE invocations i SET events_detected_count = d.ed, total_jobs_run = d.jr, total_jobs_succeeded = d.js,
       total_jobs_failed = d.jf, jobs_timed = d.jt, job_duration_sum_ms = d.jd, updated_at = $1::timestamptz
FROM (
  SELECT t.id,
         coalesce(e.ed, 0)::integer AS ed, coalesce(j.jr, 0)::integer AS jr, coalesce(j.js, 0)::integer AS js,
         coalesce(j.jf, 0)::integer AS jf, coalesce(j.jt, 0)::integer AS jt, coalesce(j.jd, 0)::bigint AS jd
  FROM invocations t)" + t.join + R"(
  LEFT JOIN (SELECT x.invocation_id, count(*) FILTER (WHERE x.detected) AS ed FROM event_executions x)" + x.join +
                      " WHERE true" + x.where + R"( GROUP BY x.invocation_id) e ON e.invocation_id = t.id
  LEFT JOIN (SELECT x.invocation_id, count(*) AS jr, count(*) FILTER (WHERE x.status = 'completed') AS js,
                    count(*) FILTER (WHERE x.status = 'failed') AS jf, count(x.duration_ms) AS jt, sum(x.duration_ms) AS jd
             FROM job_executions x)" + x.join + " WHERE true" + x.where + R"( GROUP BY x.invocation_id) j
    ON j.invocation_id = t.id
  WHERE true)" + t.where + R"(
) d
WHERE i.id = d.id
  AND (i.events_detected_count, i.total_jobs_run, i.total_jobs_succeeded, i.total_jobs_failed, i.jobs_timed, i.job_duration_sum_ms)
      IS DISTINCT FROM (d.ed, d.jr, d.js, d.jf, d.jt, d.jd))";
  return s;
}

// A rollup's mergeable state: the columns rollup_from_row() reads, by these names.
#define EDPIPE_ROLLUP_STATE                                                                                    \
  "total_invocations, successful_invocations, failed_invocations, running_invocations, total_events_detected, " \
  "total_jobs_run, total_jobs_succeeded, total_jobs_failed, duration_count, duration_sum_ms, min_duration_ms, "  \
  "max_duration_ms, duration_zero_count, duration_bucket_keys, duration_bucket_counts, "                         \
  "detected_event_counts::text AS detected_event_counts, failed_job_counts::text AS failed_job_counts, "      \
  "detected_events_other, failed_jobs_other"

// The hours ($1 epoch seconds) and functions ($2), in step: their stored rows, locked for update.
const char* const kReadRollups = "SELECT extract(epoch FROM m.hour_bucket)::bigint AS hour_epoch, m.source_function, "
    EDPIPE_ROLLUP_STATE " FROM metrics_hourly m JOIN unnest($1::bigint[], $2::text[]) AS u(h, f)"
    " ON m.hour_bucket = to_timestamp(u.h) AND m.source_function = u.f FOR UPDATE OF m";

const char* const kReadAllRollups = "SELECT extract(epoch FROM hour_bucket)::bigint AS hour_epoch, source_function, "
    EDPIPE_ROLLUP_STATE " FROM metrics_hourly";
#undef EDPIPE_ROLLUP_STATE

const char* const kMinMaxOfHour = R"(
SELECT min(total_duration_ms), max(total_duration_ms) FROM invocations
WHERE created_at >= $1::timestamptz AND created_at < $1::timestamptz + interval '1 hour' AND source_function = $2)";

const char* const kUpsertRollups = R"(
INSERT INTO metrics_hourly (hour_bucket, source_function, total_invocations, successful_invocations,
  failed_invocations, running_invocations, total_events_detected, total_jobs_run, total_jobs_succeeded,
  total_jobs_failed, avg_duration_ms, min_duration_ms, max_duration_ms, p50_duration_ms, p95_duration_ms,
  p99_duration_ms, top_detected_events, top_failed_jobs, duration_count, duration_sum_ms, duration_zero_count,
  duration_bucket_keys, duration_bucket_counts, detected_event_counts, failed_job_counts, detected_events_other,
  failed_jobs_other)
SELECT to_timestamp(u.h), u.f, u.ti, u.si, u.fi, u.ri, u.ed, u.jr, u.js, u.jf, u.avg::numeric, u.mn::integer,
       u.mx::integer, u.p50::numeric, u.p95::numeric, u.p99::numeric, u.top_ev::jsonb, u.top_jobs::jsonb, u.dc, u.ds,
       u.dz, u.keys::integer[], u.counts::bigint[], u.ev::jsonb, u.jobs::jsonb, u.ev_other, u.jobs_other
FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[],
            $8::bigint[], $9::bigint[], $10::bigint[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[],
            $16::text[], $17::text[], $18::text[], $19::bigint[], $20::bigint[], $21::bigint[], $22::text[], $23::text[],
            $24::text[], $25::text[], $26::bigint[], $27::bigint[])
  AS u(h, f, ti, si, fi, ri, ed, jr, js, jf, avg, mn, mx, p50, p95, p99, top_ev, top_jobs, dc, ds, dz, keys, counts,
       ev, jobs, ev_other, jobs_other)
ON CONFLICT (hour_bucket, source_function) DO UPDATE SET
  total_invocations = EXCLUDED.total_invocations, successful_invocations = EXCLUDED.successful_invocations,
  failed_invocations = EXCLUDED.failed_invocations, running_invocations = EXCLUDED.running_invocations,
  total_events_detected = EXCLUDED.total_events_detected, total_jobs_run = EXCLUDED.total_jobs_run,
  total_jobs_succeeded = EXCLUDED.total_jobs_succeeded, total_jobs_failed = EXCLUDED.total_jobs_failed,
  avg_duration_ms = EXCLUDED.avg_duration_ms, min_duration_ms = EXCLUDED.min_duration_ms,
  max_duration_ms = EXCLUDED.max_duration_ms, p50_duration_ms = EXCLUDED.p50_duration_ms,
  p95_duration_ms = EXCLUDED.p95_duration_ms, p99_duration_ms = EXCLUDED.p99_duration_ms,
  top_detected_events = EXCLUDED.top_detected_events, top_failed_jobs = EXCLUDED.top_failed_jobs,
  duration_count = EXCLUDED.duration_count, duration_sum_ms = EXCLUDED.duration_sum_ms,
  duration_zero_count = EXCLUDED.duration_zero_count, duration_bucket_keys = EXCLUDED.duration_bucket_keys,
  duration_bucket_counts = EXCLUDED.duration_bucket_counts, detected_event_counts = EXCLUDED.detected_event_counts,
  failed_job_counts = EXCLUDED.failed_job_counts, detected_events_other = EXCLUDED.detected_events_other,
  failed_jobs_other = EXCLUDED.failed_jobs_other, updated_at = now())";

// An hour's listed names (migration 012), from name_metrics_hourly, which the load has brought up
// to date in the same transaction: the $3 most frequent of each kind (count descending, then
// name in byte order, as HourlyRollup::listed orders them), then per kind the rest's sum
// (name NULL). Reads the hour's names, writes none.
const char* const kListedNames = R"(
WITH ranked AS (
  SELECT hour_bucket, source_function, kind, name, n,
         row_number() OVER (PARTITION BY hour_bucket, source_function, kind ORDER BY n DESC, name COLLATE "C") AS rk
  FROM (SELECT r.hour_bucket, r.source_function, r.kind, r.name,
               CASE r.kind WHEN 'event' THEN r.detected ELSE r.failed END AS n
        FROM name_metrics_hourly r JOIN unnest($1::bigint[], $2::text[]) AS u(h, f)
          ON r.kind IN ('event', 'job') AND r.hour_bucket = to_timestamp(u.h) AND r.source_function = u.f) c
  WHERE n > 0)
SELECT extract(epoch FROM hour_bucket)::bigint, source_function, kind, name, n FROM ranked WHERE rk <= $3
UNION ALL
SELECT extract(epoch FROM hour_bucket)::bigint, source_function, kind, NULL, sum(n) FROM ranked WHERE rk > $3
GROUP BY hour_bucket, source_function, kind)";

const char* const kDeleteRollups = R"(
DELETE FROM metrics_hourly m USING unnest($1::bigint[], $2::text[]) AS u(h, f)
WHERE m.hour_bucket = to_timestamp(u.h) AND m.source_function = u.f)";

// name_metrics_hourly: the mergeable state, by these names.
#define EDPIPE_NAME_ROLLUP_STATE \
  "kind, name, runs, failed, detected, duration_zero_count, duration_bucket_keys, duration_bucket_counts"
// Only the names a load changes: an hour may hold many. `kind IN (...)`: the primary key begins
// with the kind.
const char* const kReadNameRollups = "SELECT extract(epoch FROM r.hour_bucket)::bigint AS hour_epoch, r.source_function, "
    EDPIPE_NAME_ROLLUP_STATE " FROM name_metrics_hourly r"
    " JOIN unnest($1::bigint[], $2::text[], $3::text[], $4::text[]) AS u(h, f, k, nm)"
    " ON r.kind = u.k AND r.hour_bucket = to_timestamp(u.h) AND r.source_function = u.f AND r.name = u.nm";
const char* const kReadAllNameRollups = "SELECT extract(epoch FROM hour_bucket)::bigint AS hour_epoch, source_function, "
    EDPIPE_NAME_ROLLUP_STATE " FROM name_metrics_hourly";
#undef EDPIPE_NAME_ROLLUP_STATE

const char* const kUpsertNameRollups = R"(
INSERT INTO name_metrics_hourly (kind, hour_bucket, source_function, name, runs, failed, detected, duration_zero_count,
  duration_bucket_keys, duration_bucket_counts)
SELECT u.kind, to_timestamp(u.h), u.f, u.name, u.runs, u.failed, u.detected, u.zero, u.keys::integer[], u.counts::bigint[]
FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[],
            $9::text[], $10::text[])
  AS u(h, f, kind, name, runs, failed, detected, zero, keys, counts)
ON CONFLICT (kind, hour_bucket, source_function, name) DO UPDATE SET
  runs = EXCLUDED.runs, failed = EXCLUDED.failed, detected = EXCLUDED.detected,
  duration_zero_count = EXCLUDED.duration_zero_count, duration_bucket_keys = EXCLUDED.duration_bucket_keys,
  duration_bucket_counts = EXCLUDED.duration_bucket_counts)";

const char* const kDeleteNameRollups = R"(
DELETE FROM name_metrics_hourly r USING unnest($1::bigint[], $2::text[], $3::text[], $4::text[]) AS u(h, f, k, nm)
WHERE r.kind = u.k AND r.hour_bucket = to_timestamp(u.h) AND r.source_function = u.f AND r.name = u.nm)";

// The days narrow the lookup to their partitions.
const char* const kStoredInvocations =
    "SELECT id::text FROM invocations WHERE id = ANY($1::uuid[]) AND invocation_day = ANY($2::date[])";

// A day's partitions are named <table>_dYYYYMMDD (edpipe_add_day_partitions, migration 016).
const char* const kDaysWithoutPartitions =
    "SELECT d::text FROM unnest($1::date[]) d WHERE to_regclass('invocations_d' || to_char(d, 'YYYYMMDD')) IS NULL";
const std::string kLockPartitions = "SELECT pg_advisory_xact_lock(" + std::to_string(kPartitionLockSpace) + ", 0)";
const char* const kAddDayPartitions = "SELECT coalesce(sum(edpipe_add_day_partitions(d)), 0) FROM unnest($1::date[]) d";
const char* const kUnanalyzedDayPartitions = R"(
SELECT string_agg(format('%I', c.relname), ', ' ORDER BY c.relname)
FROM unnest($1::date[]) d
CROSS JOIN unnest(ARRAY['invocations', 'event_executions', 'job_executions', 'job_logs']) t
JOIN pg_class c ON c.relname = t || '_d' || to_char(d, 'YYYYMMDD') AND c.relkind = 'r'
WHERE c.reltuples < 0)";
const char* const kDayPartitions = R"(
SELECT to_date(substr(c.relname, length('invocations_d') + 1), 'YYYYMMDD')::text AS day
FROM pg_inherits h JOIN pg_class c ON c.oid = h.inhrelid
WHERE h.inhparent = 'invocations'::regclass AND c.relname ~ '^invocations_d[0-9]{8}$'
ORDER BY 1)";
const char* const kCreateDayKept = "CREATE TEMP TABLE IF NOT EXISTS day_kept (id uuid PRIMARY KEY) ON COMMIT DELETE ROWS";
const char* const kFillDayKept = R"(
INSERT INTO day_kept SELECT id FROM invocations
WHERE invocation_day = $1::date AND NOT (created_at < $2::timestamptz AND last_record_at < $2::timestamptz))";
const char* const kCountDay = "SELECT count(*) FROM invocations WHERE invocation_day = $1::date";
const char* const kRememberDay = R"(
INSERT INTO edpipe_pruned SELECT id, last_record_at FROM invocations
WHERE invocation_day = $1::date AND last_record_at >= $2::timestamptz - interval '1 day'
  AND id NOT IN (SELECT id FROM day_kept)
ON CONFLICT (id) DO NOTHING)";
// The jobs of the day but those of kept invocations go (children without an invocation row too).
const char* const kUnlinkDay = R"(
UPDATE invocations i SET source_job_id = NULL, updated_at = $2::timestamptz
WHERE i.source_job_id IN (SELECT j.id FROM job_executions j
                          WHERE j.invocation_day = $1::date AND j.invocation_id NOT IN (SELECT id FROM day_kept))
  AND (i.invocation_day <> $1::date OR i.id IN (SELECT id FROM day_kept)))";
const char* const kUnwaitDay =
    "DELETE FROM edpipe_waiting_links WHERE invocation_day = $1::date AND invocation_id NOT IN (SELECT id FROM day_kept)";
const char* const kForgetDaySpan = "DELETE FROM edpipe_day_spans WHERE invocation_day = $1::date";
// The columns a row is written with: not those the server computes (migration 020's error_group),
// which an INSERT may not set.
const char* const kWrittenColumns =
    "SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute "
    "WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped AND attgenerated = ''";
std::string save_kept(const std::string& table, const std::string& columns) {
  const std::string owner = table == "invocations" ? "id" : "invocation_id";
  return "CREATE TEMP TABLE kept_" + table + " ON COMMIT DROP AS SELECT " + columns + " FROM " + table +
         " WHERE invocation_day = $1::date AND " + owner + " IN (SELECT id FROM day_kept)";
}
std::string restore_kept(const std::string& table, const std::string& columns) {
  return "INSERT INTO " + table + " (" + columns + ") SELECT " + columns + " FROM kept_" + table;
}
std::string drop_day(const std::string& day) {
  std::string d;
  for (char c : day)
    if (c >= '0' && c <= '9') d += c;  // YYYY-MM-DD -> YYYYMMDD
  return "DROP TABLE job_logs_d" + d + ", job_executions_d" + d + ", event_executions_d" + d + ", invocations_d" + d;
}

const char* const kReadHorizon =
    "SELECT (extract(epoch FROM horizon) * 1000000)::bigint FROM edpipe_retention FOR SHARE";
const char* const kPrunedAmong = "SELECT id::text FROM edpipe_pruned WHERE id = ANY($1::uuid[])";
const char* const kMoveHorizon = R"(
INSERT INTO edpipe_retention AS r (id, horizon) VALUES (true, date_trunc('hour', $1::timestamptz))
ON CONFLICT (id) DO UPDATE SET horizon = greatest(r.horizon, EXCLUDED.horizon),
  updated_at = CASE WHEN EXCLUDED.horizon > r.horizon THEN now() ELSE r.updated_at END
RETURNING (extract(epoch FROM horizon) * 1000000)::bigint)";
// Candidates by created_at (its index; a row's newest record is never older than its
// creation), oldest first. Children first: job_logs by the jobs' index and the partial index of
// invocation-level lines (it has none on invocation_id alone).
const char* const kPruneBatch = R"(
WITH victims AS (
  SELECT id, invocation_day, last_record_at FROM invocations
  WHERE created_at < $1::timestamptz AND last_record_at < $1::timestamptz
  ORDER BY created_at LIMIT $2),
jobs AS (SELECT j.id, j.invocation_day FROM job_executions j
         JOIN victims v ON j.invocation_id = v.id AND j.invocation_day = v.invocation_day),
-- Joins on the partition column as well: each victim's rows are looked up in its own day's
-- partition, by index (an IN list would scan every partition of job_logs).
gone_job_logs AS (DELETE FROM job_logs l USING jobs j WHERE l.job_execution_id = j.id AND l.invocation_day = j.invocation_day),
gone_own_logs AS (DELETE FROM job_logs l USING victims v
                  WHERE l.job_execution_id IS NULL AND l.invocation_id = v.id AND l.invocation_day = v.invocation_day),
gone_jobs AS (DELETE FROM job_executions j USING victims v WHERE j.invocation_id = v.id AND j.invocation_day = v.invocation_day),
gone_events AS (DELETE FROM event_executions e USING victims v WHERE e.invocation_id = v.id AND e.invocation_day = v.invocation_day),
gone AS (DELETE FROM invocations i USING victims v WHERE i.id = v.id AND i.invocation_day = v.invocation_day
         RETURNING i.id, i.last_record_at),
remembered AS (INSERT INTO edpipe_pruned SELECT id, last_record_at FROM gone ON CONFLICT (id) DO NOTHING),
unwaited AS (DELETE FROM edpipe_waiting_links w USING victims v WHERE w.invocation_id = v.id),
-- What the source job foreign key's ON DELETE SET NULL did before migration 014: the links to
-- the deleted jobs from the invocations they caused (kept ones, usually newer) are cleared.
unlinked AS (UPDATE invocations i SET source_job_id = NULL, updated_at = $3::timestamptz
             FROM jobs j WHERE i.source_job_id = j.id AND i.id NOT IN (SELECT id FROM victims))
SELECT count(*) FROM gone)";
const char* const kForgetPruned =
    "DELETE FROM edpipe_pruned WHERE last_record_at < $1::timestamptz - interval '1 day'";
const char* const kPruneRollups = R"(
WITH names AS (DELETE FROM name_metrics_hourly WHERE hour_bucket < date_trunc('hour', $1::timestamptz))
DELETE FROM metrics_hourly WHERE hour_bucket < date_trunc('hour', $1::timestamptz))";
const char* const kCountPrunable = R"(
WITH victims AS (SELECT id, invocation_day FROM invocations
                 WHERE created_at < $1::timestamptz AND last_record_at < $1::timestamptz),
jobs AS (SELECT j.id, j.invocation_day FROM job_executions j
         JOIN victims v ON j.invocation_id = v.id AND j.invocation_day = v.invocation_day)
SELECT (SELECT count(*) FROM victims),
       (SELECT count(*) FROM event_executions e JOIN victims v ON e.invocation_id = v.id AND e.invocation_day = v.invocation_day),
       (SELECT count(*) FROM jobs),
       (SELECT count(*) FROM job_logs l JOIN jobs j ON l.job_execution_id = j.id AND l.invocation_day = j.invocation_day)
       + (SELECT count(*) FROM job_logs l JOIN victims v
          ON l.job_execution_id IS NULL AND l.invocation_id = v.id AND l.invocation_day = v.invocation_day))";

std::string counted_merge(const std::string& merge) {
  return "WITH m AS (" + merge + "\nRETURNING 1)\nSELECT count(*) FROM m";
}

std::vector<std::string> invocation_columns(bool derived) { return column_names(RowTable::Invocations, derived); }
std::vector<std::string> event_columns(bool derived) { return column_names(RowTable::EventExecutions, derived); }
std::vector<std::string> job_columns(bool derived) { return column_names(RowTable::JobExecutions, derived); }
std::vector<std::string> log_columns() { return column_names(RowTable::JobLogs, false); }

}  // namespace edpipe::load::sql
