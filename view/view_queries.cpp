#include "view/view_queries.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <map>
#include <set>
#include <tuple>

#include "core/duration_sketch.h"
#include "core/sql_array.h"
#include "core/uuid.h"

namespace edpipe::view {

std::string sql::at_param(int n) {
  return "('epoch'::timestamptz + $" + std::to_string(n) + "::bigint * interval '1 microsecond')";
}
std::string sql::micros(const std::string& column) {
  return "(extract(epoch FROM " + column + ") * 1000000)::bigint";  // what core/timestamp.h formats
}
std::string sql::of_function(const std::string& alias, int n, const std::string& days) {
  const std::string p = "$" + std::to_string(n);
  return "(" + p + "::text IS NULL OR EXISTS (SELECT 1 FROM invocations fi WHERE fi.id = " + alias +
         ".invocation_id AND fi.invocation_day = " + alias + ".invocation_day AND " + in_days("fi", days) +
         " AND fi.source_function = " + p + "))";
}
std::string sql::in_days(const std::string& alias, const std::string& days) {
  return alias + ".invocation_day = ANY(" + days + ")";
}
std::string sql::masked_error(const std::string& text) {
  return "regexp_replace(regexp_replace(regexp_replace(left(" + text +
         ", 1000), '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}', '<id>', 'gi'), "
         "'\\m0x[0-9a-f]+\\M|\\m(?=[a-f]*[0-9])[0-9a-f]{8,}\\M', '<hex>', 'gi'), '[0-9]+', '<n>', 'g')";
}
std::string sql::window_days(pqxx::transaction_base& tx, Timestamp since, std::optional<Timestamp> until) {
  std::string days = "'{";
  for (const auto& r : tx.exec_params("SELECT to_char(invocation_day, 'YYYY-MM-DD') FROM edpipe_day_spans WHERE last_at >= " +
                                          at_param(1) + " - interval '1 hour' AND ($2::bigint IS NULL OR first_at < " +
                                          at_param(2) + " + interval '1 hour') ORDER BY 1",
                                      since, until)) {
    const std::string day = r[0].as<std::string>();
    if (day.size() != 10 || day.find_first_not_of("0123456789-") != std::string::npos)
      throw std::runtime_error("edpipe_day_spans: a day not as YYYY-MM-DD: " + day);
    days += (days.size() > 2 ? "," : "") + day;
  }
  return days + "}'::date[]";
}

namespace {

using sql::micros;

std::optional<std::string> opt_text(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return f.as<std::string>();
}
std::optional<Timestamp> opt_ts(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return f.as<int64_t>();
}
std::optional<int64_t> opt_int(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return f.as<int64_t>();
}
Span span_of(const pqxx::row& r, const char* start, const char* end, const char* duration) {
  return Span{opt_ts(r[start]), opt_ts(r[end]), opt_int(r[duration])};
}

// The first error of an invocation: its own, else its first failed job's, else its first
// failed event step's. (Children are looked up by invocation and day, its partition's: a
// correlated lookup without the day may scan every partition's created_at index instead.)
// `days`: the window's (sql::window_days), which the invocations listed are of.
std::string summary_columns(const std::string& days) {
  return "i.id::text AS id, i.source_function, i.status, " + micros("i.created_at") +
         " AS created_us, i.total_duration_ms, i.total_jobs_failed, i.events_detected_count, i.total_jobs_run, "
         "i.source_table, i.source_operation, i.source_user_email, coalesce(i.error_message,"
         " (SELECT j.error_message FROM job_executions j WHERE j.invocation_id = i.id"
         "  AND j.invocation_day = i.invocation_day AND " + sql::in_days("j", days) + " AND j.status = 'failed'"
         "  ORDER BY j.created_at LIMIT 1),"
         " (SELECT coalesce(e.handler_error, e.detection_error) FROM event_executions e WHERE e.invocation_id = i.id"
         "  AND e.invocation_day = i.invocation_day AND " + sql::in_days("e", days) +
         "  AND (e.handler_error IS NOT NULL OR e.detection_error IS NOT NULL) ORDER BY e.created_at LIMIT 1)) AS first_error";
}

std::vector<InvocationSummary> summaries(const pqxx::result& rows) {
  std::vector<InvocationSummary> out;
  for (const auto& r : rows)
    out.push_back({r["id"].as<std::string>(), r["source_function"].as<std::string>(), r["status"].as<std::string>(),
                   r["created_us"].as<int64_t>(), opt_int(r["total_duration_ms"]), opt_text(r["first_error"]),
                   r["total_jobs_failed"].as<int64_t>(), r["events_detected_count"].as<int64_t>(),
                   r["total_jobs_run"].as<int64_t>(), opt_text(r["source_table"]), opt_text(r["source_operation"]),
                   opt_text(r["source_user_email"])});
  return out;
}

}  // namespace

ReadTransaction::ReadTransaction(pqxx::connection& conn, const ViewLimits& limits) : tx_(conn) {
  tx_.exec("SET LOCAL statement_timeout = " + std::to_string(limits.statement_timeout_ms) +
           (limits.parallel_plans ? "" : "; SET LOCAL max_parallel_workers_per_gather = 0"));
}

std::optional<std::pair<std::string, std::string>> uuid_prefix_range(std::string_view prefix) {
  std::string hex;
  for (char c : prefix) {
    if (c == '-') continue;
    if (!std::isxdigit(static_cast<unsigned char>(c))) return std::nullopt;
    hex.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  if (hex.empty() || hex.size() > 32) return std::nullopt;
  auto as_uuid = [](std::string h) {
    return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" + h.substr(20);
  };
  return std::make_pair(as_uuid(hex + std::string(32 - hex.size(), '0')), as_uuid(hex + std::string(32 - hex.size(), 'f')));
}

std::vector<std::string> ViewReader::find_ids(std::string_view prefix, size_t limit) {
  const auto range = uuid_prefix_range(prefix);
  if (!range) return {};
  ReadTransaction tx(conn_, limits_);
  std::vector<std::string> out;
  // A range scan of the primary key: a prefix of any length is one index lookup.
  for (const auto& r : tx->exec_params("SELECT id::text FROM invocations WHERE id BETWEEN $1::uuid AND $2::uuid "
                                       "ORDER BY id LIMIT $3",
                                       range->first, range->second, static_cast<int64_t>(limit)))
    out.push_back(r[0].as<std::string>());
  return out;
}

// The invocations of `ids` with their events and jobs and the invocations their jobs caused, in
// the order of `ids` (unknown ones left out): a statement per table for all of them, so that the
// chain reads a whole level of its flow at once (on Citus each statement is a round over the
// shards). Their rows are in the partitions of the days in their ids: named, so that only they
// are planned.
std::vector<InvocationView> ViewReader::read_views(pqxx::transaction_base& tx, const std::vector<Uuid>& ids,
                                                   bool with_payload) {
  if (ids.empty()) return {};
  std::set<int32_t> day_set;
  std::string id_array = "{";
  for (const Uuid& id : ids) {
    day_set.insert(invocation_day(id));
    if (id_array.size() > 1) id_array += ',';
    id.append_to(id_array);
  }
  id_array += '}';
  std::string days = "'{";
  for (int32_t d : day_set) days += (days.size() > 2 ? "," : "") + format_date(d);
  days += "}'::date[]";
  // The job that caused one lives with its own invocation (on another shard on Citus): looked up
  // apart, by its id, and only when there is one. In the header's statement it made every page a
  // two-step distributed plan on Citus.
  const auto heads = tx.exec_params(
      "SELECT i.id::text AS id, i.source_function, i.status, " + micros("i.created_at") + " AS created_us, " +
          micros("i.first_record_at") + " AS first_us, " + micros("i.last_record_at") + " AS last_us, " +
          micros("i.started_at") + " AS started_us, " + micros("i.ended_at") + " AS ended_us, i.total_duration_ms, "
          "i.source_table, i.source_operation, "
          "coalesce(i.source_event_payload #>> '{event,data,new,id}', i.source_event_payload #>> '{event,data,old,id}') AS record_id, "
          "i.source_user_email, i.correlation_id, i.error_message, i.error_stack, "
          "coalesce(i.source_job_id, i.source_job_ref)::text AS source_job, "
          "CASE WHEN $2 THEN jsonb_pretty(i.source_event_payload) END AS payload "
          "FROM invocations i WHERE i.id = ANY($1::uuid[]) AND " + sql::in_days("i", days),
      id_array, with_payload);
  std::map<std::string, InvocationView> views;
  std::string source_jobs = "{";
  for (const auto& h : heads) {
    InvocationView& v = views[h["id"].as<std::string>()];
    v.id = h["id"].as<std::string>();
    v.function = h["source_function"].as<std::string>();
    v.status = h["status"].as<std::string>();
    v.created_at = h["created_us"].as<int64_t>();
    v.first_record_at = h["first_us"].as<int64_t>();
    v.last_record_at = h["last_us"].as<int64_t>();
    v.span = span_of(h, "started_us", "ended_us", "total_duration_ms");
    v.source_table = opt_text(h["source_table"]);
    v.source_operation = opt_text(h["source_operation"]);
    v.source_record_id = opt_text(h["record_id"]);
    v.user_email = opt_text(h["source_user_email"]);
    v.correlation_id = opt_text(h["correlation_id"]);
    v.error = opt_text(h["error_message"]);
    v.stack = opt_text(h["error_stack"]);
    v.caused_by_job = opt_text(h["source_job"]);
    v.payload = opt_text(h["payload"]);
    if (v.caused_by_job) source_jobs += (source_jobs.size() > 1 ? "," : "") + *v.caused_by_job;
  }
  source_jobs += '}';
  if (source_jobs.size() > 2) {
    std::map<std::string, std::pair<std::string, std::string>> jobs;  // id -> (name, invocation)
    for (const auto& r : tx.exec_params("SELECT id::text, job_name, invocation_id::text FROM job_executions "
                                        "WHERE id = ANY($1::uuid[])",
                                        source_jobs))
      jobs[r[0].as<std::string>()] = {r[1].as<std::string>(), r[2].as<std::string>()};
    for (auto& [id, v] : views)
      if (v.caused_by_job)
        if (auto j = jobs.find(*v.caused_by_job); j != jobs.end()) {
          v.caused_by_job_name = j->second.first;
          v.caused_by_invocation = j->second.second;
        }
  }
  if (views.empty()) return {};

  std::map<std::pair<std::string, std::string>, size_t> event_index;  // (invocation, event) -> index
  for (const auto& r : tx.exec_params(
           "SELECT invocation_id::text AS invocation, id::text AS id, event_name, status, detected, " +
               micros("detection_started_at") + " AS ds, " + micros("detection_ended_at") + " AS de, detection_duration_ms, " +
               micros("handler_started_at") + " AS hs, " + micros("handler_ended_at") + " AS he, handler_duration_ms, "
               "detection_error, detection_error_stack, handler_error, handler_error_stack "
               "FROM event_executions e WHERE invocation_id = ANY($1::uuid[]) AND " + sql::in_days("e", days) +
               " ORDER BY first_record_at, id",
           id_array)) {
    const auto of = views.find(r["invocation"].as<std::string>());
    if (of == views.end()) continue;  // rows of an id whose invocation row is not there
    InvocationView& v = of->second;
    EventView e;
    e.id = r["id"].as<std::string>();
    e.name = r["event_name"].as<std::string>();
    e.status = r["status"].as<std::string>();
    e.detected = r["detected"].as<bool>();
    e.detection = span_of(r, "ds", "de", "detection_duration_ms");
    e.handler = span_of(r, "hs", "he", "handler_duration_ms");
    e.detection_error = opt_text(r["detection_error"]);
    e.detection_stack = opt_text(r["detection_error_stack"]);
    e.handler_error = opt_text(r["handler_error"]);
    e.handler_stack = opt_text(r["handler_error_stack"]);
    event_index[{v.id, e.id}] = v.events.size();
    v.events.push_back(std::move(e));
  }

  // Jobs under their event; a job whose event was never seen hangs under an event of its own.
  struct JobPlace {
    InvocationView* view;
    size_t event, job;
  };
  std::map<std::string, JobPlace> job_index;
  for (const auto& r : tx.exec_params(
           "SELECT invocation_id::text AS invocation, id::text AS id, event_execution_id::text AS event_id, job_name, status, " +
               micros("started_at") + " AS s, " + micros("ended_at") + " AS e, duration_ms, error_message, error_stack, "
               "job_options::text AS options, result::text AS result FROM job_executions j "
               "WHERE invocation_id = ANY($1::uuid[]) AND " + sql::in_days("j", days) + " ORDER BY first_record_at, id",
           id_array)) {
    const auto of = views.find(r["invocation"].as<std::string>());
    if (of == views.end()) continue;  // rows of an id whose invocation row is not there
    InvocationView& v = of->second;
    JobView j;
    j.id = r["id"].as<std::string>();
    j.name = r["job_name"].as<std::string>();
    j.status = r["status"].as<std::string>();
    j.span = span_of(r, "s", "e", "duration_ms");
    j.error = opt_text(r["error_message"]);
    j.stack = opt_text(r["error_stack"]);
    j.options = opt_text(r["options"]);
    j.result = opt_text(r["result"]);
    const std::string event_id = r["event_id"].is_null() ? "" : r["event_id"].as<std::string>();
    auto at = event_index.find({v.id, event_id});
    if (at == event_index.end()) {
      EventView orphan;
      orphan.id = event_id;
      orphan.name = "(event not loaded)";
      orphan.status = "unknown";
      at = event_index.emplace(std::make_pair(v.id, event_id), v.events.size()).first;
      v.events.push_back(std::move(orphan));
    }
    job_index[j.id] = {&v, at->second, v.events[at->second].jobs.size()};
    v.events[at->second].jobs.push_back(std::move(j));
  }

  if (!job_index.empty()) {
    std::string job_ids = "{";
    for (const auto& [job_id, at] : job_index) job_ids += (job_ids.size() > 1 ? "," : "") + job_id;
    job_ids += "}";
    // Ordered by an expression no index has: on a day's partition that has no statistics yet (the
    // minute after a load made it), the planner otherwise walked the whole created_at index for the
    // few rows of these jobs (58 ms on a Citus shard of 10,000 invocations, against 0.4 ms).
    for (const auto& r : tx.exec_params("SELECT id::text AS id, source_job_id::text AS job FROM invocations "
                                        "WHERE source_job_id = ANY($1::uuid[]) ORDER BY created_at + interval '0' LIMIT $2",
                                        job_ids, static_cast<int64_t>(limits_.triggered_invocations * views.size()))) {
      const JobPlace& at = job_index.at(r["job"].as<std::string>());
      at.view->events[at.event].jobs[at.job].triggered.push_back(r["id"].as<std::string>());
    }
  }
  std::vector<InvocationView> out;
  for (const Uuid& id : ids)
    if (auto it = views.find(id.str()); it != views.end()) out.push_back(std::move(it->second));
  return out;
}

std::optional<InvocationView> ViewReader::invocation(const std::string& id, bool with_payload) {
  const auto uuid = Uuid::parse(id);
  if (!uuid) return std::nullopt;
  ReadTransaction tx(conn_, limits_);
  auto views = read_views(*tx, {*uuid}, with_payload);
  if (views.empty()) return std::nullopt;
  InvocationView v = std::move(views.front());
  const std::string day = " AND invocation_day = '" + format_date(invocation_day(*uuid)) + "'::date";
  if (with_payload) {
    // The event's row, old → new, column by column: what an UPDATE changed first.
    const auto object = [](const char* side) {
      return "(SELECT CASE WHEN jsonb_typeof(p." + std::string(side) + ") = 'object' THEN p." + side + " END FROM p)";
    };
    const auto columns = tx->exec_params(
        "WITH p AS (SELECT source_event_payload #> '{event,data,old}' AS o, source_event_payload #> '{event,data,new}' AS n "
        "FROM invocations WHERE id = $1::uuid" + day + ") "
        "SELECT coalesce(n.key, o.key) AS col, o.value::text AS old, n.value::text AS new, "
        "o.value IS DISTINCT FROM n.value AS changed FROM jsonb_each(" + object("n") + ") n "
        "FULL JOIN jsonb_each(" + object("o") + ") o ON o.key = n.key "
        "ORDER BY 4 DESC, coalesce(n.key, o.key) COLLATE \"C\" LIMIT $2",
        v.id, static_cast<int64_t>(InvocationView::kRowColumns + 1));
    for (const auto& r : columns) {
      if (v.row_change.size() == InvocationView::kRowColumns) {
        v.row_change_cut = true;
        break;
      }
      v.row_change.push_back({r[0].as<std::string>(), opt_text(r[1]), opt_text(r[2]), r[3].as<bool>()});
    }
  }

  // Each job's place, for its log lines.
  std::map<std::string, std::pair<size_t, size_t>> job_index;
  for (size_t e = 0; e < v.events.size(); ++e)
    for (size_t k = 0; k < v.events[e].jobs.size(); ++k) job_index[v.events[e].jobs[k].id] = {e, k};
  // By the jobs' ids and the invocation-level lines apart: both are index scans (job_logs has no
  // index on invocation_id alone; a new one would cost every load for this one read). Both name
  // the invocation too: on Citus the statement then goes to its one shard, not to every shard.
  std::string job_ids = "{";
  for (const auto& [job_id, at] : job_index) job_ids += (job_ids.size() > 1 ? "," : "") + job_id;
  job_ids += "}";
  const auto logs = tx->exec_params(
      "SELECT job_execution_id::text AS job_id, level, message, " + micros("created_at") + " AS at, seq, id FROM ("
      "SELECT * FROM job_logs WHERE job_execution_id = ANY($3::uuid[]) AND invocation_id = $1::uuid" + day + " UNION ALL "
      "SELECT * FROM job_logs WHERE invocation_id = $1::uuid AND job_execution_id IS NULL" + day + ") l "
      "ORDER BY created_at, seq NULLS LAST, id LIMIT $2",
      v.id, static_cast<int64_t>(limits_.log_lines + 1), job_ids);
  for (size_t i = 0; i < logs.size() && i < limits_.log_lines; ++i) {
    const auto& r = logs[i];
    LogLine line{r["level"].as<std::string>(), r["message"].as<std::string>(), r["at"].as<int64_t>()};
    auto job = r["job_id"].is_null() ? job_index.end() : job_index.find(r["job_id"].as<std::string>());
    if (job == job_index.end()) v.invocation_logs.push_back(std::move(line));
    else v.events[job->second.first].jobs[job->second.second].logs.push_back(std::move(line));
  }
  if (logs.size() > limits_.log_lines)
    v.log_lines_left_out = tx->exec_params1("SELECT (SELECT count(*) FROM job_logs WHERE job_execution_id = ANY($2::uuid[]) AND invocation_id = $1::uuid" +
                                                day + ") + (SELECT count(*) FROM job_logs WHERE invocation_id = $1::uuid AND "
                                                "job_execution_id IS NULL" + day + ")",
                                            v.id, job_ids)[0]
                               .as<size_t>() - limits_.log_lines;

  return v;
}

std::vector<InvocationView> ViewReader::chain(const std::string& id, size_t limit, const InvocationView* known) {
  const auto uuid = Uuid::parse(id);
  if (!uuid || limit == 0) return {};
  ReadTransaction tx(conn_, limits_);
  const auto read_one = [&](const Uuid& one) -> std::optional<InvocationView> {
    auto views = read_views(*tx, {one}, false);
    if (views.empty()) return std::nullopt;
    return std::move(views.front());
  };
  std::optional<InvocationView> start = known && known->id == uuid->str() ? std::optional<InvocationView>(*known) : read_one(*uuid);
  if (!start) return {};
  std::set<std::string> seen{start->id};
  for (int up = 0; up < kChainUp && start->caused_by_invocation && !seen.count(*start->caused_by_invocation); ++up) {
    const auto parent_id = Uuid::parse(*start->caused_by_invocation);
    auto parent = parent_id ? read_one(*parent_id) : std::nullopt;
    if (!parent) break;
    seen.insert(parent->id);
    start = std::move(parent);
  }
  // Breadth first, a level at a time: the invocations a level's jobs caused are read together.
  std::vector<InvocationView> out;
  std::set<std::string> queued{start->id};
  out.push_back(std::move(*start));
  for (size_t level = 0; level < out.size() && out.size() < limit;) {
    const size_t level_end = out.size();
    std::vector<Uuid> caused;
    for (size_t k = level; k < level_end; ++k)
      for (const auto& e : out[k].events)
        for (const auto& j : e.jobs)
          for (const auto& t : j.triggered)
            if (queued.insert(t).second)
              if (const auto u = Uuid::parse(t)) caused.push_back(*u);
    level = level_end;
    for (auto& v : read_views(*tx, caused, false)) {
      if (out.size() >= limit) break;
      out.push_back(std::move(v));
    }
  }
  return out;
}

std::vector<std::string> ViewReader::correlated(const std::string& correlation_id, size_t limit) {
  ReadTransaction tx(conn_, limits_);
  std::vector<std::string> out;
  for (const auto& r : tx->exec_params("SELECT id::text FROM invocations WHERE correlation_id = $1 "
                                       "ORDER BY created_at, id LIMIT $2",
                                       correlation_id, static_cast<int64_t>(limit)))
    out.push_back(r[0].as<std::string>());
  return out;
}

std::vector<InvocationSummary> ViewReader::summaries_since(const std::string& condition, const std::string& order,
                                                           Timestamp since, const std::optional<std::string>& function,
                                                           size_t limit, std::optional<Timestamp> until) {
  ReadTransaction tx(conn_, limits_);
  const std::string days = sql::window_days(*tx, since, until);
  return summaries(tx->exec_params(
      "SELECT " + summary_columns(days) + " FROM invocations i WHERE " + condition + " AND " + sql::in_days("i", days) +
          " AND i.created_at >= " + sql::at_param(1) + " AND ($4::bigint IS NULL OR i.created_at < " + sql::at_param(4) + ") "
          "AND ($2::text IS NULL OR i.source_function = $2) ORDER BY " + order + ", i.id LIMIT $3",
      since, function, static_cast<int64_t>(limit), until));
}

const std::string kFailedCondition = "i.status IN ('failed', 'abandoned')";

std::vector<InvocationSummary> ViewReader::failed(Timestamp since, const std::optional<std::string>& function, size_t limit,
                                                  std::optional<Timestamp> until) {
  return summaries_since(kFailedCondition, "i.created_at DESC", since, function, limit, until);
}

std::vector<InvocationSummary> ViewReader::slowest(Timestamp since, const std::optional<std::string>& function, size_t limit,
                                                   std::optional<Timestamp> until) {
  return summaries_since("i.total_duration_ms IS NOT NULL", "i.total_duration_ms DESC", since, function, limit, until);
}

int64_t ViewReader::count_failed(Timestamp since, const std::optional<std::string>& function,
                                 std::optional<Timestamp> until) {
  ReadTransaction tx(conn_, limits_);
  return tx->exec_params1("SELECT count(*) FROM invocations i WHERE " + kFailedCondition + " AND " +
                              sql::in_days("i", sql::window_days(*tx, since, until)) + " AND i.created_at >= " +
                              sql::at_param(1) + " AND ($2::text IS NULL OR i.source_function = $2) AND ($3::bigint IS NULL "
                              "OR i.created_at < " + sql::at_param(3) + ")",
                          since, function, until)[0]
      .as<int64_t>();
}


namespace {

const std::string kAt1 = sql::at_param(1);
const std::string kAt2 = sql::at_param(2);

// `text` as a LIKE pattern that matches it anywhere, its own % _ \ taken literally.
std::string contains_pattern(const std::string& text) {
  std::string out = "%";
  for (char c : text) {
    if (c == '%' || c == '_' || c == '\\') out += '\\';
    out += c;
  }
  return out + "%";
}

}  // namespace

std::vector<SearchKind> parse_search(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  const std::string s(text);
  if (s.empty()) return {};
  static const std::pair<const char*, const char*> kPrefixes[] = {
      {"id:", "id"}, {"corr:", "correlation id"}, {"email:", "e-mail"}, {"function:", "function"},
      {"event:", "detected event"}, {"checked:", "checked event"}, {"failed-event:", "failed event"},
      {"job:", "job"}, {"failed-job:", "failed job"}, {"error:", "error text"}};
  for (const auto& [prefix, kind] : kPrefixes) {
    if (s.rfind(prefix, 0) != 0) continue;
    std::string value = s.substr(std::strlen(prefix));
    while (!value.empty() && std::isspace(static_cast<unsigned char>(value.front()))) value.erase(0, 1);
    if (value.empty()) return {};
    return {{kind, value, ""}};
  }
  if (s.rfind("row:", 0) == 0 || (s.find(':') != std::string::npos && s.find(' ') == std::string::npos)) {
    const std::string row = s.rfind("row:", 0) == 0 ? s.substr(4) : s;
    const size_t colon = row.find(':');
    if (colon != std::string::npos && colon > 0 && colon + 1 < row.size())
      return {{"source row", row.substr(colon + 1), row.substr(0, colon)}};
  }
  if (s.size() == 36 && uuid_prefix_range(s)) return {{"id", s, ""}};
  if (s.find('@') != std::string::npos) return {{"correlation id or e-mail", s, ""}};
  std::vector<SearchKind> kinds;
  if (s.size() >= 4 && uuid_prefix_range(s)) kinds.push_back({"id", s, ""});
  for (const char* kind : {"correlation id", "function", "detected event", "job", "error text"}) kinds.push_back({kind, s, ""});
  return kinds;
}

std::vector<InvocationSummary> ViewReader::search(const InvocationQuery& q, SearchReport* report) {
  // The search's kind decides its condition; every value is a parameter ($7, $8). Each kind is
  // served by an index: the primary key, the correlation and e-mail indexes (migration 009), the
  // event and job name indexes; an error text only when no key matched, over the failed rows.
  // A child starts after its invocation, and within a function's longest run (15 minutes on
  // Lambda): its window is the invocations' own, 15 minutes longer. Every table is read in the
  // range's days alone.
  ReadTransaction tx(conn_, limits_);
  const std::string days = sql::window_days(*tx, q.since, q.until);
  const std::string window_e = "e.created_at >= " + kAt1 + " AND e.created_at < " + kAt2 + " + interval '15 minutes' AND " +
                               sql::in_days("e", days);
  const std::string window_j = "j.created_at >= " + kAt1 + " AND j.created_at < " + kAt2 + " + interval '15 minutes' AND " +
                               sql::in_days("j", days);
  struct Attempt {
    std::string kind;
    std::string condition;
    std::pair<std::optional<std::string>, std::optional<std::string>> values;  // $7, $8
    bool by_windows = false;  // reads the children of the range: newest hours first (below)
    // The rollup hours that hold every match (a condition on `metrics_hourly` or
    // `name_metrics_hourly`, $3 the value, $4 the function filter): the attempt reads only the
    // hours from the first to the last of them, none when there is none. A term that names no
    // function or job of the range costs an index probe of a small table, not its rows.
    std::string rollup_hours;
  };
  std::vector<Attempt> attempts;
  const std::vector<SearchKind> kinds = q.search ? parse_search(*q.search) : std::vector<SearchKind>{};
  if (!q.search) attempts.push_back({"", "true", {}});
  for (const auto& k : kinds) {
    const std::string& v = k.value;
    const auto event_in = [&](const std::string& also) {
      return "i.id IN (SELECT e.invocation_id FROM event_executions e WHERE e.event_name = $7" + also + " AND " + window_e + ")";
    };
    const auto job_in = [&](const std::string& also) {
      return "i.id IN (SELECT j.invocation_id FROM job_executions j WHERE j.job_name = $7" + also + " AND " + window_j + ")";
    };
    // The rollups are by the invocation's hour and function, as the range and the filter are.
    const auto names_in = [](const char* kind, const char* count) {
      return std::string("name_metrics_hourly WHERE kind = '") + kind + "' AND name = $3 AND " + count + " > 0";
    };
    if (k.name == "id") {
      if (v.size() == 36) attempts.push_back({k.name, "i.id = $7::uuid", {v, std::nullopt}});
      else if (const auto range = uuid_prefix_range(v))
        attempts.push_back({k.name + " prefix", "i.id BETWEEN $7::uuid AND $8::uuid", {range->first, range->second}});
    } else if (k.name == "source row") {
      attempts.push_back({k.name, "i.source_table = $7 AND coalesce(i.source_event_payload #>> '{event,data,new,id}', "
                                  "i.source_event_payload #>> '{event,data,old,id}') = $8",
                          {k.table, v}});
    } else if (k.name == "correlation id") {
      attempts.push_back({k.name, "i.correlation_id = $7", {v, std::nullopt}});
    } else if (k.name == "e-mail") {
      attempts.push_back({k.name, "i.source_user_email = $7", {v, std::nullopt}});
    } else if (k.name == "correlation id or e-mail") {
      attempts.push_back({k.name, "(i.correlation_id = $7 OR i.source_user_email = $7)", {v, std::nullopt}});
    } else if (k.name == "function") {
      attempts.push_back({k.name, "i.source_function = $7", {v, std::nullopt}, false,
                          "metrics_hourly WHERE source_function = $3 AND total_invocations > 0"});
    } else if (k.name == "detected event") {
      attempts.push_back({k.name, event_in(" AND e.detected"), {v, std::nullopt}, true, names_in("event", "detected")});
    } else if (k.name == "checked event") {
      attempts.push_back({k.name, event_in(""), {v, std::nullopt}, true, names_in("event", "runs")});
    } else if (k.name == "failed event") {
      attempts.push_back({k.name, event_in(" AND e.status IN ('handler_failed', 'detection_failed')"), {v, std::nullopt}, true,
                          names_in("event", "failed")});
    } else if (k.name == "job") {
      attempts.push_back({k.name, job_in(""), {v, std::nullopt}, true, names_in("job", "runs")});
    } else if (k.name == "failed job") {
      attempts.push_back({k.name, job_in(" AND j.status = 'failed'"), {v, std::nullopt}, true, names_in("job", "failed")});
    } else if (k.name == "error text") {
      attempts.push_back({k.name,
                          "((i.status = 'failed' AND i.error_message ILIKE $8)"
                          " OR i.id IN (SELECT j.invocation_id FROM job_executions j WHERE j.status = 'failed' AND " + window_j +
                              " AND j.error_message ILIKE $8)"
                          " OR i.id IN (SELECT e.invocation_id FROM event_executions e WHERE "
                          "e.status IN ('handler_failed', 'detection_failed') AND " + window_e +
                              " AND (e.handler_error ILIKE $8 OR e.detection_error ILIKE $8)))",
                          {std::nullopt, contains_pattern(v)}, true});
    }
  }
  if (report) {
    report->searched.clear();
    for (const auto& a : attempts) report->searched += (report->searched.empty() ? "" : " or ") + a.kind;
    report->found_as.clear();
    report->counts.clear();
    report->failed_runs_in.reset();
  }
  std::optional<int64_t> cursor_at;
  std::optional<std::string> cursor_id;
  const bool newer = !q.before && q.after;  // the page before the cursor: read backwards, then turned
  if (const auto& cursor = q.before ? q.before : q.after) {
    cursor_at = cursor->first;
    cursor_id = cursor->second;
  }
  // The list's order, and the cursor's place in it.
  const std::string key = q.by_duration ? "coalesce(i.total_duration_ms, -1)" : "i.created_at";
  const std::string key_at = q.by_duration ? "$5::bigint" : sql::at_param(5);
  const std::string filters =
      " AND i.created_at >= " + kAt1 + " AND i.created_at < " + kAt2 +
      " AND ($3::text IS NULL OR i.status = $3) AND ($4::text IS NULL OR i.source_function = $4)"
      " AND ($10::text IS NULL OR i.source_table = $10) AND ($11::text IS NULL OR i.source_operation = $11)";
  auto page = [&](const Attempt& a, Timestamp since, Timestamp until, size_t limit) {
    auto rows = summaries(tx->exec_params(
        "SELECT " + summary_columns(days) + " FROM invocations i WHERE " + sql::in_days("i", days) + filters +
            " AND ($5::bigint IS NULL OR (" + key + ", i.id) " + (newer ? ">" : "<") + " (" + key_at + ", $6::uuid))"
            // $7 and $8 are named (and so typed) even when the search's condition does not use them.
            " AND (" + a.condition + ") AND ($7::text IS NULL OR true) AND ($8::text IS NULL OR true)"
            " ORDER BY " + key + (newer ? " ASC, i.id ASC" : " DESC, i.id DESC") + " LIMIT $9",
        since, until, q.status, q.function, cursor_at, cursor_id, a.values.first, a.values.second,
        static_cast<int64_t>(limit), q.table, q.operation));
    if (newer) std::reverse(rows.begin(), rows.end());
    return rows;
  };
  // The range's matches of an attempt, counted up to kTotalCap (the page's own parameters, the
  // cursor and the limit unused).
  const std::optional<std::string> kNoText;
  auto total_of = [&](const Attempt& a) {
    return tx->exec_params1("SELECT count(*) FROM (SELECT 1 FROM invocations i WHERE " + sql::in_days("i", days) + filters +
                                " AND (" + a.condition + ") AND ($5::text IS NULL OR true) AND ($6::text IS NULL OR true)"
                                " AND ($7::text IS NULL OR true) AND ($8::text IS NULL OR true) AND ($9::bigint IS NULL OR true)"
                                " LIMIT " + std::to_string(SearchReport::kTotalCap) + ") x",
                            q.since, q.until, q.status, q.function, kNoText, kNoText, a.values.first, a.values.second,
                            std::optional<int64_t>(), q.table, q.operation)[0]
        .as<int64_t>();
  };
  // [since, until) narrowed to the hours whose rollups hold a match; nullopt when none does.
  auto hours_of = [&](const Attempt& a) -> std::optional<std::pair<Timestamp, Timestamp>> {
    if (a.rollup_hours.empty()) return std::make_pair(q.since, q.until);
    const auto r = tx->exec_params1("SELECT " + micros("min(hour_bucket)") + ", " + micros("max(hour_bucket)") + " FROM " +
                                        a.rollup_hours + " AND hour_bucket > " + kAt1 + " - interval '1 hour' AND hour_bucket < " +
                                        kAt2 + " AND ($4::text IS NULL OR source_function = $4)",
                                    q.since, q.until, a.values.first, q.function);
    if (r[0].is_null()) return std::nullopt;
    return std::make_pair(std::max(q.since, r[0].as<Timestamp>()), std::min(q.until, r[1].as<Timestamp>() + kMicrosPerHour));
  };
  std::vector<InvocationSummary> out;
  for (const auto& a : attempts) {
    out.clear();
    const auto hours = hours_of(a);
    if (!hours) continue;
    const auto [since, until] = *hours;
    if (!a.by_windows || q.by_duration || newer) {
      out = page(a, since, until, q.limit);
    } else {
      // Newest first, a page at a time: the last hour, then the 4 before, the 16 before those...
      // until the page is full. A common match costs an hour's rows, a rare one about the range's
      // (the windows are disjoint and in order, so the rows come out in the page's order).
      Timestamp end = cursor_at ? std::min(until, *cursor_at + 1) : until;
      for (Timestamp step = kMicrosPerHour; end > since && out.size() < q.limit; step *= 4) {
        const Timestamp start = end - since > step ? end - step : since;
        for (auto& row : page(a, start, end, q.limit - out.size())) out.push_back(std::move(row));
        end = start;
      }
    }
    if (!out.empty()) {
      if (report) report->found_as = a.kind;
      // A function's whole list is counted by the rollups (the caller's window_totals).
      const bool function_list = a.kind == "function" && !q.status && !q.table && !q.operation && !q.function;
      if (report && report->total_asked && !a.by_windows && !function_list) report->total = total_of(a);
      break;
    }
  }
  if (report && report->total_asked && out.empty()) report->total = 0;
  if (report && kinds.size() == 1 && (kinds.front().name == "failed job" || kinds.front().name == "failed event")) {
    // As the jobs and events pages count them (the executions of the invocations of the range,
    // which start within the longest run after it, as the list reads them), under the list's filters.
    const bool job = kinds.front().name == "failed job";
    const auto r = tx->exec_params1(
        std::string("SELECT count(*), count(DISTINCT invocation_id) FROM ") +
            (job ? "job_executions j WHERE j.job_name = $3 AND j.status = 'failed' AND " + window_j
                 : "event_executions e WHERE e.event_name = $3 AND e.status IN ('handler_failed', 'detection_failed') AND " +
                       window_e) +
            " AND invocation_id IN (SELECT i.id FROM invocations i WHERE " + sql::in_days("i", days) + " AND i.created_at >= " + kAt1 +
            " AND i.created_at < " + kAt2 + " AND ($4::text IS NULL OR i.status = $4) AND ($5::text IS NULL OR "
            "i.source_function = $5))",
        q.since, q.until, kinds.front().value, q.status, q.function);
    report->failed_runs_in = std::make_pair(r[0].as<int64_t>(), r[1].as<int64_t>());
  }
  if (report && !kinds.empty() && kinds.front().name == "correlation id or e-mail") {
    const auto r = tx->exec_params1(
        "SELECT count(*) FILTER (WHERE correlation_id = $3), count(*) FILTER (WHERE source_user_email = $3) FROM invocations "
        "WHERE created_at >= " + kAt1 + " AND created_at < " + kAt2 + " AND (correlation_id = $3 OR source_user_email = $3) AND " +
            sql::in_days("invocations", days),
        q.since, q.until, kinds.front().value);
    report->counts = {{"correlation id", r[0].as<int64_t>()}, {"e-mail", r[1].as<int64_t>()}};
  }
  return out;
}

namespace {

// How a window [since, until) is counted exactly: the rollups of the hours [hours_from, hours_to)
// plus (sign 1) or minus (sign -1) the invocations of two ranges, each read row by row. A window's
// hour that it covers only in part is read either as its rows inside the window, or as the
// hour's rollup minus its rows outside the window, whichever holds fewer invocations: a window
// that ends at the newest record takes its last hour whole, and no partial hour costs more than
// half of its rows.
struct WindowPlan {
  struct Rows {
    Timestamp from = 0, to = 0;  // [from, to); empty when from == to
    int sign = 1;
  };
  Timestamp hours_from = 0, hours_to = 0;
  Rows a, b;
  std::string days;  // the window's day partitions (sql::window_days)
  // Whether rows are taken out of a rollup: the hours' smallest and largest duration may then be
  // those of the rows taken out, and are no bound of the window's.
  bool subtracts() const { return (a.sign < 0 && a.from < a.to) || (b.sign < 0 && b.from < b.to); }
};

WindowPlan plan_window(pqxx::transaction_base& tx, Timestamp since, Timestamp until,
                       const std::optional<std::string>& function) {
  WindowPlan p;
  p.days = sql::window_days(tx, since, until);
  const Timestamp first = hour_floor(since + kMicrosPerHour - 1), last = hour_floor(until);
  if (first > last) {  // inside one hour: [since, until), or the hour minus what is around it
    const Timestamp h = hour_floor(since);
    const auto r = tx.exec_params1(
        "SELECT count(*) FILTER (WHERE created_at >= " + sql::at_param(2) + " AND created_at < " + sql::at_param(3) +
            "), count(*) FROM invocations WHERE created_at >= " + sql::at_param(1) + " AND created_at < " +
            sql::at_param(1) + " + interval '1 hour' AND ($4::text IS NULL OR source_function = $4) AND " +
            sql::in_days("invocations", p.days),
        h, since, until, function);
    const int64_t in = r[0].as<int64_t>(), out = r[1].as<int64_t>() - in;
    if (out < in) {
      p.hours_from = h;
      p.hours_to = h + kMicrosPerHour;
      p.a = {h, since, -1};
      p.b = {until, h + kMicrosPerHour, -1};
    } else {
      p.hours_from = p.hours_to = first;
      p.a = {since, until, 1};
      p.b = {until, until, 1};
    }
    return p;
  }
  p.hours_from = first;
  p.hours_to = last;
  p.a = {since, since, 1};
  p.b = {until, until, 1};
  const Timestamp head = first - kMicrosPerHour;  // the hour `since` cuts, when since < first
  // Four index-only range counts (one scan with an OR of ranges would read all between them).
  const auto count_in = [&p](int from, int to) {
    return "(SELECT count(*) FROM invocations WHERE created_at >= " + sql::at_param(from) + " AND created_at < " +
           sql::at_param(to) + " AND ($7::text IS NULL OR source_function = $7) AND " + sql::in_days("invocations", p.days) + ")";
  };
  const auto r = tx.exec_params1("SELECT " + count_in(1, 2) + ", " + count_in(2, 3) + ", " + count_in(4, 5) + ", " +
                                     count_in(5, 6),
                                 since < first ? head : first, since, first, last, until,
                                 until > last ? last + kMicrosPerHour : last, function);
  if (since < first) {
    const int64_t out = r[0].as<int64_t>(), in = r[1].as<int64_t>();
    if (out < in) {
      p.hours_from = head;
      p.a = {head, since, -1};
    } else {
      p.a = {since, first, 1};
    }
  }
  if (until > last) {
    const int64_t in = r[2].as<int64_t>(), out = r[3].as<int64_t>();
    if (out < in) {
      p.hours_to = last + kMicrosPerHour;
      p.b = {until, last + kMicrosPerHour, -1};
    } else {
      p.b = {last, until, 1};
    }
  }
  return p;
}

// The window's whole hours from the rollups, the rest from its rows: what an hour-by-hour chart
// reads (each hour's figures, the cut ones of the window's part alone).
WindowPlan split_window(pqxx::transaction_base& tx, Timestamp since, Timestamp until) {
  WindowPlan p;
  p.days = sql::window_days(tx, since, until);
  const Timestamp first = hour_floor(since + kMicrosPerHour - 1), last = std::max(first, hour_floor(until));
  p.hours_from = first;
  p.hours_to = last;
  p.a = {since, std::min(first, until), 1};
  p.b = {last, std::max(last, until), 1};
  return p;
}

// Every query of a plan takes its parameters in one order, typed once by this header (a query
// need not use each): $1-$4 the two ranges of rows, $5 and $6 the rollups' hours, $7 and $8
// the ranges' signs, $9 the function filter; a query's own from $10.
const std::string kPlanParams = "WITH plan_params AS (SELECT $1::bigint, $2::bigint, $3::bigint, $4::bigint, $5::bigint, "
                                "$6::bigint, $7::int, $8::int, $9::text) ";
template <typename... More>
pqxx::result exec_plan(pqxx::transaction_base& tx, const std::string& query, const WindowPlan& p,
                       const std::optional<std::string>& function, More&&... more) {
  return tx.exec_params(kPlanParams + query, p.a.from, p.a.to, p.b.from, p.b.to, p.hours_from, p.hours_to, p.a.sign,
                        p.b.sign, function, std::forward<More>(more)...);
}
// The invocations of the two ranges, each with its range's sign `s` (as "FROM " + this + " i").
// Two range scans: one scan with an OR of the ranges would read everything between them.
std::string plan_rows(const WindowPlan& p) {
  const auto range = [&p](int from, int to, int sign) {
    return "SELECT id, invocation_day, created_at, status, source_function, total_jobs_run, total_jobs_succeeded, total_jobs_failed, "
           "total_duration_ms, $" + std::to_string(sign) + "::int AS s FROM invocations WHERE created_at >= " +
           sql::at_param(from) + " AND created_at < " + sql::at_param(to) + " AND ($9 IS NULL OR source_function = $9) AND " +
           sql::in_days("invocations", p.days);
  };
  return "(" + range(1, 2, 7) + " UNION ALL " + range(3, 4, 8) + ")";
}
// The rollups' hours.
const std::string kPlanHours = "hour_bucket >= " + sql::at_param(5) + " AND hour_bucket < " + sql::at_param(6) +
                               " AND ($9 IS NULL OR source_function = $9)";

// Per name, the parts that add up to the window's counts (name, runs, failed, detected,
// abandoned, then d: a range's execution's duration, s: its sign): the hours' rollups, the
// ranges' executions with their sign, and, for jobs, the abandoned jobs of the hours (the
// rollups do not keep them apart), from the abandoned invocations (migration 013). $10 the kind.
std::string name_parts_sql(bool jobs, const WindowPlan& p) {
  std::string s = "SELECT name, runs, failed, detected, 0::bigint AS abandoned, NULL::bigint AS d, 0 AS s "
                  "FROM name_metrics_hourly WHERE kind = $10 AND " + kPlanHours;
  // The children's days too: the planner does not carry the invocations' over the join.
  if (jobs)
    return s + " UNION ALL SELECT j.job_name, i.s, i.s * (j.status = 'failed')::int, 0, i.s * (j.status = 'abandoned')::int, "
               "j.duration_ms, i.s FROM " + plan_rows(p) + " i JOIN job_executions j ON j.invocation_id = i.id AND "
               "j.invocation_day = i.invocation_day AND " + sql::in_days("j", p.days) +
           " UNION ALL SELECT j.job_name, 0, 0, 0, 1, NULL, 0 FROM invocations i JOIN job_executions j "
           "ON j.invocation_id = i.id AND j.invocation_day = i.invocation_day AND " + sql::in_days("j", p.days) +
           " AND j.status = 'abandoned' WHERE i.status = 'abandoned' AND " + sql::in_days("i", p.days) +
           " AND i.total_jobs_run > i.total_jobs_succeeded + i.total_jobs_failed AND i.created_at >= " +
           sql::at_param(5) + " AND i.created_at < " + sql::at_param(6) + " AND ($9 IS NULL OR i.source_function = $9)";
  return s + " UNION ALL SELECT e.event_name, i.s, i.s * (e.status IN ('handler_failed', 'detection_failed'))::int, "
             "i.s * coalesce(e.detected, false)::int, 0, e.handler_duration_ms, i.s FROM " + plan_rows(p) +
         " i JOIN event_executions e ON e.invocation_id = i.id AND e.invocation_day = i.invocation_day AND " +
         sql::in_days("e", p.days);
}


// The per-name counts of the window, `having` (SQL over the sums) those listed, in `order`. With
// `durations`, also each listed name's durations of the ranges' rows: those to add, those to
// take out of the hours' sketches.
struct RangeDurations {
  std::vector<int64_t> added, taken_out;
};
std::vector<NameStats> name_counts_in(pqxx::transaction_base& tx, bool jobs, const std::string& having,
                                      const std::string& order, const WindowPlan& plan,
                                      const std::optional<std::string>& function, size_t limit,
                                      std::map<std::string, RangeDurations>* durations = nullptr) {
  std::vector<NameStats> out;
  const std::string arrays = durations ? ", coalesce(array_agg(d) FILTER (WHERE s > 0 AND d IS NOT NULL), '{}') AS added, "
                                         "coalesce(array_agg(d) FILTER (WHERE s < 0 AND d IS NOT NULL), '{}') AS taken_out"
                                       : "";
  for (const auto& r : exec_plan(tx,
                                 "SELECT name, sum(runs)::bigint AS runs, sum(failed)::bigint AS failed, "
                                 "sum(detected)::bigint AS detected, sum(abandoned)::bigint AS abandoned" + arrays +
                                     " FROM (" + name_parts_sql(jobs, plan) + ") p GROUP BY name HAVING " + having +
                                     " ORDER BY " + order + " LIMIT $11",
                                 plan, function, jobs ? "job" : "event", static_cast<int64_t>(limit))) {
    NameStats n;
    n.name = r["name"].as<std::string>();
    n.runs = r["runs"].as<int64_t>();
    n.failed = r["failed"].as<int64_t>();
    n.detected = r["detected"].as<int64_t>();
    n.abandoned = r["abandoned"].as<int64_t>();
    if (durations)
      (*durations)[n.name] = {parse_int_array_literal(r["added"].c_str()), parse_int_array_literal(r["taken_out"].c_str())};
    out.push_back(std::move(n));
  }
  return out;
}

}  // namespace

Totals ViewReader::window_totals(Timestamp since, Timestamp until, const std::optional<std::string>& function) {
  // Both reads give the same nine leading columns, added up alike; then the durations, as sketch
  // buckets or one by one.
  ReadTransaction tx(conn_, limits_);
  const WindowPlan plan = plan_window(*tx, since, until, function);
  Totals t;
  int64_t timed = 0, sum_ms = 0;
  std::optional<int64_t> min_ms, max_ms;
  auto add = [&](const pqxx::row& r) {
    t.invocations += r[0].as<int64_t>();
    t.completed += r[1].as<int64_t>();
    t.failed_jobs += r[2].as<int64_t>();
    t.jobs_run += r[3].as<int64_t>();
    t.jobs_succeeded += r[4].as<int64_t>();
    timed += r[5].as<int64_t>();
    sum_ms += r[6].as<int64_t>();
    if (!r[7].is_null()) min_ms = std::min(min_ms.value_or(INT64_MAX), r[7].as<int64_t>());
    if (!r[8].is_null()) max_ms = std::max(max_ms.value_or(INT64_MIN), r[8].as<int64_t>());
  };
  int64_t zeros = 0;
  std::map<int32_t, int64_t> buckets;
  for (const auto& r : exec_plan(*tx,
                                 "SELECT total_invocations, successful_invocations, total_jobs_failed, total_jobs_run, "
                                 "total_jobs_succeeded, duration_count, duration_sum_ms, min_duration_ms, max_duration_ms, "
                                 "duration_zero_count, duration_bucket_keys, duration_bucket_counts FROM metrics_hourly "
                                 "WHERE " + kPlanHours,
                                 plan, function)) {
    add(r);
    zeros += r[9].as<int64_t>();
    const auto keys = parse_int_array_literal(r[10].c_str()), counts = parse_int_array_literal(r[11].c_str());
    for (size_t i = 0; i < keys.size() && i < counts.size(); ++i) buckets[static_cast<int32_t>(keys[i])] += counts[i];
  }
  DurationSketch sketch = DurationSketch::from_buckets(zeros, buckets);
  const std::string s = "i.s";
  const auto rows = exec_plan(
      *tx,
      "SELECT coalesce(sum(" + s + "), 0), coalesce(sum(" + s + ") FILTER (WHERE i.status = 'completed'), 0), "
      "coalesce(sum(" + s + " * i.total_jobs_failed), 0), coalesce(sum(" + s + " * i.total_jobs_run), 0), "
      "coalesce(sum(" + s + " * i.total_jobs_succeeded), 0), coalesce(sum(" + s + ") FILTER (WHERE i.total_duration_ms IS NOT "
      "NULL), 0), coalesce(sum(" + s + " * i.total_duration_ms), 0), min(i.total_duration_ms), max(i.total_duration_ms), "
      "coalesce(array_agg(i.total_duration_ms) FILTER (WHERE i.total_duration_ms IS NOT NULL AND " + s + " > 0), '{}'), "
      "coalesce(array_agg(i.total_duration_ms) FILTER (WHERE i.total_duration_ms IS NOT NULL AND " + s + " < 0), '{}') "
      "FROM " + plan_rows(plan) + " i",
      plan, function)[0];
  add(rows);
  for (const int64_t ms : parse_int_array_literal(rows[9].c_str())) sketch.add(double(ms));
  for (const int64_t ms : parse_int_array_literal(rows[10].c_str())) sketch.add(double(ms), -1);
  if (timed > 0) t.avg_ms = double(sum_ms) / double(timed);
  t.p95_ms = plan.subtracts() ? sketch.quantile(0.95) : sketch.quantile(0.95, min_ms, max_ms);
  // The abandoned jobs: those neither succeeded nor failed, of the abandoned invocations (the
  // only ones whose jobs can be abandoned), from migration 013's index alone.
  t.jobs_abandoned = tx->exec_params1(
      "SELECT coalesce(sum(total_jobs_run - total_jobs_succeeded - total_jobs_failed), 0) FROM invocations "
      "WHERE status = 'abandoned' AND created_at >= " + kAt1 + " AND created_at < " + kAt2 +
          " AND ($3::text IS NULL OR source_function = $3) AND " + sql::in_days("invocations", plan.days),
      since, until, function)[0].as<int64_t>();
  return t;
}

std::vector<HourFigures> ViewReader::hourly(Timestamp since, Timestamp until, const std::optional<std::string>& function,
                                            size_t limit) {
  ReadTransaction tx(conn_, limits_);
  std::vector<HourFigures> out;
  const WindowPlan plan = split_window(*tx, since, until);
  for (const auto& r : exec_plan(
           *tx,
           "SELECT source_function, " + micros("hour_bucket") + ", successful_invocations, failed_invocations, "
           "p95_duration_ms::float8 FROM metrics_hourly WHERE " + kPlanHours +
               " UNION ALL SELECT i.source_function, " + micros("date_trunc('hour', i.created_at)") + ", "
               "count(*) FILTER (WHERE i.status = 'completed'), count(*) FILTER (WHERE i.status IN ('failed', 'abandoned')), "
               "percentile_cont(0.95) WITHIN GROUP (ORDER BY i.total_duration_ms) FROM " + plan_rows(plan) + " i" +
               " GROUP BY 1, 2 ORDER BY 1, 2 LIMIT $10",
           plan, function, static_cast<int64_t>(limit))) {
    HourFigures h;
    h.function = r[0].as<std::string>();
    h.hour = r[1].as<int64_t>();
    h.ok = r[2].as<int64_t>();
    h.failed = r[3].as<int64_t>();
    if (!r[4].is_null()) h.p95_ms = r[4].as<double>();
    out.push_back(std::move(h));
  }
  return out;
}

std::vector<NameStats> ViewReader::name_counts(const char* kind, const char* order_by, Timestamp since, Timestamp until,
                                               const std::optional<std::string>& function, size_t limit) {
  const std::string by = std::string_view(order_by) == "detected" ? "detected" : "failed";
  ReadTransaction tx(conn_, limits_);
  return name_counts_in(*tx, std::string_view(kind) == "job", "sum(" + by + ") > 0", by + " DESC, name",
                        plan_window(*tx, since, until, function), function, limit);
}

// The per-name counts come from name_metrics_hourly (migration 011) for the hours of the
// window's plan: one row per hour, function and name, whatever the traffic, so a week costs what
// an hour does; the hours it cuts, from (or less) the executions of their invocations.
// The most common error is that of the name's latest kErrorSample failures in the window:
// `errors_of(name, days)` selects their `err` for the name `name` ($1 since, $2 until, $3 function, $4 limit).
std::vector<NameStats> ViewReader::name_stats_of(const char* kind, ErrorsOf errors_of, Timestamp since,
                                                 Timestamp until, const std::optional<std::string>& function, size_t limit) {
  const bool jobs = std::string_view(kind) == "job";
  ReadTransaction tx(conn_, limits_);
  const WindowPlan plan = plan_window(*tx, since, until, function);
  std::map<std::string, RangeDurations> ranges;
  std::vector<NameStats> out = name_counts_in(*tx, jobs, "true", "failed DESC, runs DESC, name", plan, function, limit, &ranges);
  std::vector<std::string> listed;
  for (const auto& n : out) listed.push_back(n.name);
  // The durations: the hours' sketches, merged per name (bucket counts add up:
  // core/duration_sketch.h; here rather than by unnest() in SQL, several times slower for a day
  // of rows), then the ranges' durations one by one, added or taken out.
  std::map<std::string, std::pair<int64_t, std::map<int32_t, int64_t>>> hours;
  for (const auto& r : exec_plan(*tx,
                                 "SELECT name, duration_zero_count, duration_bucket_keys, duration_bucket_counts "
                                 "FROM name_metrics_hourly WHERE kind = $10 AND " + kPlanHours + " AND name = ANY($11::text[])",
                                 plan, function, kind, text_array_literal(listed))) {
    auto& [zeros, into] = hours[r[0].as<std::string>()];
    zeros += r[1].as<int64_t>();
    const auto keys = parse_int_array_literal(r[2].c_str()), counts = parse_int_array_literal(r[3].c_str());
    for (size_t i = 0; i < keys.size() && i < counts.size(); ++i) into[static_cast<int32_t>(keys[i])] += counts[i];
  }
  for (auto& n : out) {
    const auto& [zeros, buckets] = hours[n.name];
    DurationSketch d = DurationSketch::from_buckets(zeros, buckets);
    for (const int64_t ms : ranges[n.name].added) d.add(double(ms));
    for (const int64_t ms : ranges[n.name].taken_out) d.add(double(ms), -1);
    n.p50_ms = d.quantile(0.50);
    n.p95_ms = d.quantile(0.95);
  }
  // Each failing name's own latest failures (a partial index per name): a week of failures is
  // not read to name one message.
  // One statement for all of them (a round trip and a plan over the day partitions cost more than
  // one name's read), a subquery per name: Citus plans each apart, where it refuses a lateral
  // join to a list of names.
  std::vector<std::string> failing;
  std::string sql;
  for (const auto& n : out) {
    if (n.failed == 0) continue;
    failing.push_back(n.name);
    const std::string name = "$" + std::to_string(4 + failing.size());
    sql += std::string(sql.empty() ? "" : " UNION ALL ") + "(SELECT " + name + "::text AS name, y.err FROM (" +
           errors_of(name, plan.days) + ") y)";
  }
  if (failing.empty()) return out;
  std::map<std::string, std::string> common;
  for (const auto& r : tx->exec_params("SELECT name, mode() WITHIN GROUP (ORDER BY err) FROM (" + sql + ") x GROUP BY name",
                                       since, until, function, static_cast<int64_t>(kErrorSample),
                                       pqxx::prepare::make_dynamic_params(failing)))
    if (!r[1].is_null()) common[r[0].as<std::string>()] = r[1].as<std::string>();
  for (auto& n : out)
    if (auto it = common.find(n.name); it != common.end()) n.common_error = it->second;
  return out;
}

std::vector<NameStats> ViewReader::job_stats(Timestamp since, Timestamp until, const std::optional<std::string>& function,
                                             size_t limit) {
  return name_stats_of("job",
                       [](const std::string& name, const std::string& days) {
                         return "SELECT j.error_message AS err FROM job_executions j WHERE j.status = 'failed' AND j.job_name = " +
                                name + " AND j.created_at >= " + kAt1 + " AND j.created_at < " + kAt2 + " AND " +
                                sql::in_days("j", days) + " AND " + sql::of_function("j", 3, days) +
                                " ORDER BY j.created_at DESC LIMIT $4";
                       },
                       since, until, function, limit);
}

std::vector<NameStats> ViewReader::event_stats(Timestamp since, Timestamp until, const std::optional<std::string>& function,
                                               size_t limit) {
  return name_stats_of("event",
                       [](const std::string& name, const std::string& days) {
                         return "SELECT coalesce(e.handler_error, e.detection_error) AS err FROM event_executions e WHERE "
                                "e.status IN ('handler_failed', 'detection_failed') AND e.event_name = " + name +
                                " AND e.created_at >= " + kAt1 + " AND e.created_at < " + kAt2 + " AND " +
                                sql::in_days("e", days) + " AND " + sql::of_function("e", 3, days) +
                                " ORDER BY e.created_at DESC LIMIT $4";
                       },
                       since, until, function, limit);
}

const std::vector<DurationBin>& duration_bins() {
  static const std::vector<DurationBin> bins = [] {
    std::vector<DurationBin> out;
    int64_t lo = 0;
    for (const int64_t edge : {10, 30, 100, 300, 1000, 3000, 10000, 30000, 100000}) {
      // The largest whole millisecond in the bucket that holds the edge.
      const int32_t key = DurationSketch::key_of(double(edge));
      int64_t hi = edge;
      while (DurationSketch::key_of(double(hi + 1)) == key) ++hi;
      out.push_back({lo, hi});
      lo = hi + 1;
    }
    out.push_back({lo, INT64_MAX});
    return out;
  }();
  return bins;
}

std::vector<FunctionHistogram> ViewReader::duration_histograms(Timestamp since, Timestamp until,
                                                               const std::optional<std::string>& function) {
  ReadTransaction tx(conn_, limits_);
  const WindowPlan plan = plan_window(*tx, since, until, function);
  const auto& bins = duration_bins();
  std::map<std::string, std::vector<int64_t>> counts;
  // A bucket's values all fall in one bin: its key against the bins' last buckets (zero: first).
  const auto add = [&](const std::string& fn, int32_t key, int64_t n) {
    auto& c = counts[fn];
    c.resize(bins.size());
    size_t b = 0;
    while (b + 1 < bins.size() && key > DurationSketch::key_of(double(bins[b].hi))) ++b;
    c[b] += n;
  };
  for (const auto& r : exec_plan(*tx,
                                 "SELECT source_function, duration_zero_count, duration_bucket_keys, duration_bucket_counts "
                                 "FROM metrics_hourly WHERE " + kPlanHours,
                                 plan, function)) {
    const std::string fn = r[0].as<std::string>();
    add(fn, INT32_MIN, r[1].as<int64_t>());
    const auto keys = parse_int_array_literal(r[2].c_str()), n = parse_int_array_literal(r[3].c_str());
    for (size_t i = 0; i < keys.size() && i < n.size(); ++i) add(fn, int32_t(keys[i]), n[i]);
  }
  for (const auto& r : exec_plan(*tx,
                                 "SELECT i.source_function, i.total_duration_ms, i.s FROM " + plan_rows(plan) +
                                     " i WHERE i.total_duration_ms IS NOT NULL",
                                 plan, function))
    add(r[0].as<std::string>(), r[1].as<int64_t>() <= 0 ? INT32_MIN : DurationSketch::key_of(double(r[1].as<int64_t>())),
        r[2].as<int64_t>());
  std::vector<FunctionHistogram> out;
  for (auto& [fn, c] : counts)
    if (std::any_of(c.begin(), c.end(), [](int64_t n) { return n != 0; })) out.push_back({fn, std::move(c)});
  return out;
}

// One read of the window's rows, from the index of their time alone (migration 019 includes every
// column read here: 90 ms for a day of 100k, against 150 from the rows). On PostgreSQL, GROUPING
// SETS give both breakdowns from it (150 ms from the rows, against 225 grouped by all three, before
// 019); Citus refuses GROUPING SETS, so there
// the rows are grouped by table, operation and user at once (on the workers, merged) and the two
// breakdowns added up here. Either way the same sums, added up alike.
SourceBreakdown ViewReader::source_breakdown(Timestamp since, Timestamp until, const std::optional<std::string>& function,
                                             size_t users) {
  ReadTransaction tx(conn_, limits_);
  const std::string days = sql::window_days(*tx, since, until);
  const bool citus = !tx->exec("SELECT 1 FROM pg_extension WHERE extname = 'citus'").empty();
  struct Sums {
    int64_t n = 0, failed = 0, timed = 0;
    double duration_sum = 0;
  };
  std::map<std::pair<std::optional<std::string>, std::optional<std::string>>, Sums> by_source;
  std::map<std::string, Sums> by_user;
  const auto add = [](Sums& into, const pqxx::row& r) {
    into.n += r[4].as<int64_t>();
    into.failed += r[5].as<int64_t>();
    into.timed += r[6].as<int64_t>();
    into.duration_sum += r[7].as<double>();
  };
  // (grouped by: 0 all three, 1 table and operation, 2 user), table, operation, user, the sums.
  const std::string sums = "count(*), count(*) FILTER (WHERE status IN ('failed', 'abandoned')), count(total_duration_ms), "
                           "coalesce(sum(total_duration_ms), 0)::float8 FROM invocations WHERE created_at >= " + kAt1 +
                           " AND created_at < " + kAt2 + " AND ($3::text IS NULL OR source_function = $3) AND " +
                           sql::in_days("invocations", days);
  for (const auto& r : tx->exec_params(
           citus ? "SELECT 0, source_table, source_operation, source_user_email, " + sums + " GROUP BY 2, 3, 4"
                 : "SELECT CASE WHEN grouping(source_user_email) = 1 THEN 1 ELSE 2 END, source_table, source_operation, "
                   "source_user_email, " + sums + " GROUP BY GROUPING SETS ((source_table, source_operation), (source_user_email))",
           since, until, function)) {
    const int grouped = r[0].as<int>();
    if (grouped != 2) add(by_source[{opt_text(r[1]), opt_text(r[2])}], r);
    if (grouped != 1 && !r[3].is_null()) add(by_user[r[3].as<std::string>()], r);
  }
  const auto count = [](const Sums& s, SourceCount c) {
    c.invocations = s.n;
    c.failed = s.failed;
    if (s.timed) c.avg_ms = s.duration_sum / double(s.timed);
    return c;
  };
  SourceBreakdown out;
  for (const auto& [key, sums] : by_source) out.by_source.push_back(count(sums, {key.first, key.second, std::nullopt}));
  // Most first; ties by table, then operation, in byte order, none last.
  const auto none_last = [](const std::optional<std::string>& v) { return std::make_pair(!v.has_value(), v.value_or("")); };
  std::sort(out.by_source.begin(), out.by_source.end(), [&](const SourceCount& a, const SourceCount& b) {
    return std::make_tuple(-a.invocations, none_last(a.table), none_last(a.operation)) <
           std::make_tuple(-b.invocations, none_last(b.table), none_last(b.operation));
  });
  for (const auto& [user, sums] : by_user) out.top_users.push_back(count(sums, {std::nullopt, std::nullopt, user}));
  std::stable_sort(out.top_users.begin(), out.top_users.end(),
                   [](const SourceCount& a, const SourceCount& b) { return a.invocations > b.invocations; });
  if (out.top_users.size() > users) out.top_users.resize(users);
  return out;
}

namespace {
std::vector<std::string> text_array(const pqxx::field& f) {
  std::vector<std::string> out;
  if (f.is_null()) return out;
  auto parser = f.as_array();
  for (auto item = parser.get_next(); item.first != pqxx::array_parser::done; item = parser.get_next())
    if (item.first == pqxx::array_parser::string_value) out.push_back(item.second);
  return out;
}
}  // namespace

// One statement: the window's failures with their group (migration 020's error_group: the masked
// message, hashed) and their invocation's function (021's failure_function), from the failures'
// partial indexes alone; per group and trend bucket their count; per group the totals; the
// `limit` groups with the most, with their names and functions; a row per group and bucket. A
// group's masked message and sample are those of its newest failure, the one row read per group.
ErrorGroups ViewReader::error_groups(Timestamp since, Timestamp until, const std::optional<std::string>& function,
                                     size_t limit) {
  ReadTransaction tx(conn_, limits_);
  const std::string days = sql::window_days(*tx, since, until);
  const auto window = [&](const char* a) {
    return std::string(a) + ".created_at >= " + kAt1 + " AND " + a + ".created_at < " + kAt2 + " AND " + sql::in_days(a, days);
  };
  // Bucket k starts at the first µs t with (t - since) * kTrendBuckets / (until - since) >= k:
  // found by a binary search of these bounds (width_bucket), not by numeric arithmetic per failure.
  std::string bounds = "{";
  const Timestamp span = std::max<Timestamp>(until - since, 1);
  for (int k = 1; k < kTrendBuckets; ++k)
    bounds += (k > 1 ? "," : "") + format_rfc3339(since + (span * k + kTrendBuckets - 1) / kTrendBuckets);
  bounds += "}";
  // A day's failures (31,559 of 100k invocations in benchmarks/RESULTS.md) grouped in memory, not
  // sorted on disk as 4 MB of work_mem would have them.
  tx->exec0("SET LOCAL work_mem = '32MB'");
  const auto rows = tx->exec_params(
      "WITH fi AS MATERIALIZED ("
      " SELECT 'job ' || j.job_name AS name, true AS job, j.id, j.invocation_id, j.invocation_day, j.created_at,"
      " j.error_group AS eg, j.failure_function AS fn FROM job_executions j WHERE j.status = 'failed'"
      " AND j.error_group IS NOT NULL AND ($3::text IS NULL OR j.failure_function = $3) AND " + window("j") +
      " UNION ALL SELECT 'event ' || e.event_name, false, e.id, e.invocation_id, e.invocation_day, e.created_at, e.error_group,"
      " e.failure_function FROM event_executions e WHERE e.status IN ('handler_failed', 'detection_failed')"
      " AND e.error_group IS NOT NULL AND ($3::text IS NULL OR e.failure_function = $3) AND " + window("e") + "),"
      " r AS MATERIALIZED (SELECT eg, width_bucket(f.created_at, $5::timestamptz[]) AS bucket, count(*) AS n,"
      " min(f.created_at) AS first_at, max(f.created_at) AS last_at FROM fi f GROUP BY 1, 2),"
      " g AS MATERIALIZED (SELECT eg, sum(n) AS n, min(first_at) AS first_at, max(last_at) AS last_at FROM r GROUP BY eg),"
      // Each group's newest and oldest failure, as the page orders its occurrences: time, then
      // invocation; among the failures at the group's last (first) time only.
      " newest AS (SELECT DISTINCT ON (fi.eg) fi.eg, fi.id, fi.job, fi.invocation_id, fi.invocation_day FROM fi"
      " JOIN g ON g.eg = fi.eg AND g.last_at = fi.created_at ORDER BY fi.eg, fi.invocation_id DESC),"
      " oldest AS (SELECT DISTINCT ON (fi.eg) fi.eg, fi.invocation_id FROM fi"
      " JOIN g ON g.eg = fi.eg AND g.first_at = fi.created_at ORDER BY fi.eg, fi.invocation_id),"
      " s AS (SELECT g.eg, g.n, nw.invocation_id AS newest, od.invocation_id AS oldest,"
      " left(coalesce(j.error_message, coalesce(e.handler_error, e.detection_error)), 1000) AS sample"
      " FROM g JOIN newest nw USING (eg) JOIN oldest od USING (eg)"
      " LEFT JOIN job_executions j ON nw.job AND j.id = nw.id AND j.invocation_id = nw.invocation_id"
      " AND j.invocation_day = nw.invocation_day AND " + sql::in_days("j", days) +
      " LEFT JOIN event_executions e ON NOT nw.job AND e.id = nw.id AND e.invocation_id = nw.invocation_id"
      " AND e.invocation_day = nw.invocation_day AND " + sql::in_days("e", days) + "),"
      " top AS (SELECT eg, newest, oldest, sample, " + sql::masked_error("sample") + " AS grp FROM s"
      " ORDER BY n DESC, " + sql::masked_error("sample") + " COLLATE \"C\" LIMIT $4),"
      // The lists from each group's distinct names and functions, hashed (an aggregate's DISTINCT
      // sorted each group's rows): grouped apart from the buckets, both groupings are small.
      " b AS MATERIALIZED (SELECT eg, bucket, n FROM r WHERE eg IN (SELECT eg FROM top)),"
      " p AS MATERIALIZED (SELECT eg, name, fn FROM fi GROUP BY 1, 2, 3),"
      " fns AS MATERIALIZED (SELECT eg, array_agg(fn) AS fns FROM (SELECT DISTINCT eg, fn FROM p WHERE fn IS NOT NULL"
      " AND eg IN (SELECT eg FROM top)) x GROUP BY eg),"
      " names AS MATERIALIZED (SELECT eg, array_agg(name) AS names FROM (SELECT DISTINCT eg, name FROM p"
      " WHERE eg IN (SELECT eg FROM top)) x GROUP BY eg)"
      " SELECT top.grp, b.bucket, b.n, " + micros("g.first_at") + ", " + micros("g.last_at") + ","
      " top.newest::text, top.oldest::text, top.sample, fns.fns, names.names,"
      " (SELECT count(*) FROM g), (SELECT coalesce(sum(n), 0)::bigint FROM g)"
      " FROM b JOIN top USING (eg) JOIN g USING (eg) LEFT JOIN fns USING (eg) LEFT JOIN names USING (eg)",
      since, until, function, static_cast<int64_t>(limit), bounds);
  ErrorGroups out;
  std::map<std::string, ErrorGroup> groups;
  for (const auto& r : rows) {
    out.group_count = r[10].as<int64_t>();
    out.failures = r[11].as<int64_t>();
    ErrorGroup& g = groups[r[0].as<std::string>()];
    if (g.trend.empty()) {  // what a group's rows all carry
      g.message = r[0].as<std::string>();
      g.trend.assign(kTrendBuckets, 0);
      g.first_seen = r[3].as<int64_t>();
      g.last_seen = r[4].as<int64_t>();
      g.newest_invocation = r[5].as<std::string>();
      g.oldest_invocation = r[6].as<std::string>();
      g.sample = r[7].as<std::string>();
      g.functions = text_array(r[8]);
      g.names = text_array(r[9]);
    }
    const int64_t n = r[2].as<int64_t>();
    g.count += n;
    g.trend[std::clamp(r[1].as<int>(), 0, kTrendBuckets - 1)] += n;
  }
  for (auto& [message, g] : groups) {
    for (auto* list : {&g.functions, &g.names}) std::sort(list->begin(), list->end());  // in byte order
    out.groups.push_back(std::move(g));
  }
  std::sort(out.groups.begin(), out.groups.end(),
            [](const ErrorGroup& a, const ErrorGroup& b) { return a.count != b.count ? a.count > b.count : a.message < b.message; });
  return out;
}

std::optional<Timestamp> ViewReader::watermark() {
  ReadTransaction tx(conn_, limits_);
  const auto r = tx->exec("SELECT " + micros("watermark") + " FROM edpipe_watermark");
  if (r.empty() || r[0][0].is_null()) return std::nullopt;
  return r[0][0].as<int64_t>();
}

}  // namespace edpipe::view
