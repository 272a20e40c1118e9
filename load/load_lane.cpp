#include "load/load_lane.h"
#include "core/sql_array.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <limits>
#include <map>
#include <set>
#include <unordered_set>

#include "core/json_text.h"
#include "load/copy_writer.h"
#include "load/load_sql.h"
#include "load/migrator.h"
#include "load/pg_connection.h"
#include "load/row_columns.h"
#include "load/rollup_store.h"
#include "transform/content_hash.h"

namespace edpipe::load {
namespace {

// Whether a row belongs to an invocation the database holds: those rows are staged and merged.
using StoredSet = std::unordered_set<Uuid, UuidHash>;

// Rows of invocations the database has never seen (and retention keeps: `not_new` holds the
// stored ones and those left out), with every derived column computed here by
// derive.h (the rules the SQL derive pass mirrors), written once, straight to their tables.
// Returns their contributions to the hourly rollups.
std::vector<transform::InvocationContribution> encode_fresh(const transform::RowBatch& b, const StoredSet& not_new,
                                                 const StoredSet& batch_jobs, const transform::AbandonRule& rule,
                                                 ValueGuard& g, CopyWriter& inv, CopyWriter& ev, CopyWriter& job,
                                                 CopyWriter& log) {
  struct Counts {
    int64_t detected = 0, run = 0, ok = 0, failed = 0;
    std::vector<std::string> detected_names, failed_names;
    std::vector<transform::NameRun> runs;  // the invocation's executions, for the name rollups
  };
  std::unordered_map<Uuid, bool, UuidHash> abandoned;
  // A child's failure_function: its invocation is in the same batch (handed on with it).
  std::unordered_map<Uuid, std::string_view, UuidHash> function_of;
  for (const auto& s : b.invocations)
    if (!not_new.count(s.id)) {
      abandoned[s.id] = rule.is_abandoned(s);
      function_of[s.id] = source_function(s);
    }
  const auto failed_in = [&](const Uuid& invocation, bool failed) -> std::optional<std::string_view> {
    if (!failed) return std::nullopt;
    const auto f = function_of.find(invocation);
    return f == function_of.end() ? std::nullopt : std::optional<std::string_view>(f->second);
  };
  std::unordered_map<Uuid, Counts, UuidHash> per_invocation, per_event;
  for (const auto& j : b.job_executions) {
    if (not_new.count(j.invocation_id)) continue;
    const transform::JobStatus st = job_status(j, abandoned[j.invocation_id]);
    const bool failed = st == transform::JobStatus::Failed;
    per_invocation[j.invocation_id].runs.push_back(
        {transform::NameKind::Job, std::string(job_name(j)), failed, false, as_integer_column(duration_ms(j))});
    for (Counts* c : {&per_invocation[j.invocation_id], event_execution_id(j) ? &per_event[*event_execution_id(j)] : nullptr}) {
      if (!c) continue;
      c->run++;
      if (st == transform::JobStatus::Completed) c->ok++;
      if (failed) {
        c->failed++;
        c->failed_names.emplace_back(job_name(j));
      }
    }
    encode_staged(job, g, j);
    encode_derived(job, j, JobDerived{st, failed_in(j.invocation_id, failed)});
    job.end_row();
  }
  for (const auto& e : b.event_executions) {
    if (not_new.count(e.invocation_id)) continue;
    if (detected(e)) {
      auto& c = per_invocation[e.invocation_id];
      c.detected++;
      c.detected_names.emplace_back(event_name(e));
    }
    const Counts& c = per_event[e.id];
    const transform::EventStatus st = event_status(e, abandoned[e.invocation_id]);
    const bool failed = st == transform::EventStatus::HandlerFailed || st == transform::EventStatus::DetectionFailed;
    per_invocation[e.invocation_id].runs.push_back(
        {transform::NameKind::Event, std::string(event_name(e)), failed, detected(e), as_integer_column(handler_duration_ms(e))});
    encode_staged(ev, g, e);
    encode_derived(ev, e, EventDerived{st, c.run, c.ok, c.failed, failed_in(e.invocation_id, failed)});
    ev.end_row();
  }
  std::vector<transform::InvocationContribution> out;
  for (const auto& s : b.invocations) {
    if (not_new.count(s.id)) continue;
    Counts& c = per_invocation[s.id];
    transform::InvocationContribution k;
    k.key = {hour_floor(created_at(s)), std::string(source_function(s))};
    k.status = invocation_status(s, rule);
    k.duration_ms = as_integer_column(total_duration_ms(s));  // left out, as in the row
    k.events_detected = c.detected;
    k.jobs_run = c.run;
    k.jobs_succeeded = c.ok;
    k.jobs_failed = c.failed;
    k.detected_events = std::move(c.detected_names);
    k.failed_jobs = std::move(c.failed_names);
    k.runs = std::move(c.runs);
    encode_staged(inv, g, s);
    const auto source_job = s.start ? s.start->body.source_job_id : std::nullopt;
    encode_derived(inv, s, InvocationDerived{k, created_at(s), source_job && batch_jobs.count(*source_job) > 0});
    inv.end_row();
    out.push_back(std::move(k));
  }
  for (const auto& l : b.job_logs) {
    if (not_new.count(l.invocation_id)) continue;
    encode_staged(log, g, l);
    log.end_row();
  }
  return out;
}

void encode_stored_rows(const transform::RowBatch& b, const StoredSet& stored, ValueGuard& g, CopyWriter& inv, CopyWriter& ev,
                   CopyWriter& job, CopyWriter& log) {
  for (const auto& s : b.invocations)
    if (stored.count(s.id)) {
      encode_staged(inv, g, s);
      inv.end_row();
    }
  for (const auto& s : b.event_executions)
    if (stored.count(s.invocation_id)) {
      encode_staged(ev, g, s);
      ev.end_row();
    }
  for (const auto& s : b.job_executions)
    if (stored.count(s.invocation_id)) {
      encode_staged(job, g, s);
      job.end_row();
    }
  for (const auto& l : b.job_logs)
    if (stored.count(l.invocation_id)) {
      encode_staged(log, g, l);
      log.end_row();
    }
}

transform::InvocationContribution contribution_of(const pqxx::row& r) {
  transform::InvocationContribution c;
  c.key.hour = hour_floor(r["created_us"].as<int64_t>());
  c.key.source_function = r["source_function"].as<std::string>();
  const std::string st = r["status"].as<std::string>();
  c.status = st == "completed" ? transform::InvocationStatus::Completed : st == "failed" ? transform::InvocationStatus::Failed
             : st == "abandoned" ? transform::InvocationStatus::Abandoned : transform::InvocationStatus::Running;
  if (!r["total_duration_ms"].is_null()) c.duration_ms = r["total_duration_ms"].as<int64_t>();
  c.events_detected = r["events_detected_count"].as<int64_t>();
  c.jobs_run = r["total_jobs_run"].as<int64_t>();
  c.jobs_succeeded = r["total_jobs_succeeded"].as<int64_t>();
  c.jobs_failed = r["total_jobs_failed"].as<int64_t>();
  // Each execution as "status [detected] duration|- name" (kContributions): the name is last, so
  // it may hold spaces.
  for (const char* column : {"event_runs", "job_runs"}) {
    const bool events = column[0] == 'e';
    const pqxx::field f = r[column];
    ArrayLiteralReader runs(std::string_view(f.c_str(), f.size()));
    for (std::optional<std::string_view> item; runs.next(item);) {
      if (!item) continue;
      std::string_view rest = *item;
      auto next = [&rest] {
        const size_t sp = rest.find(' ');
        const std::string_view word = rest.substr(0, sp);
        rest = sp == std::string_view::npos ? std::string_view() : rest.substr(sp + 1);
        return word;
      };
      transform::NameRun run;
      run.kind = events ? transform::NameKind::Event : transform::NameKind::Job;
      const std::string_view status = next();
      run.failed = events ? status == "handler_failed" || status == "detection_failed" : status == "failed";
      if (events) run.detected = next() == "true";
      if (const std::string_view d = next(); d != "-") run.duration_ms = std::stoll(std::string(d));
      run.name = std::string(rest);
      if (events && run.detected) c.detected_events.push_back(run.name);
      if (!events && run.failed) c.failed_jobs.push_back(run.name);
      c.runs.push_back(std::move(run));
    }
  }
  return c;
}

std::vector<transform::InvocationContribution> contributions_of(const pqxx::result& rows) {
  std::vector<transform::InvocationContribution> out;
  for (const auto& r : rows) out.push_back(contribution_of(r));
  return out;
}

Timestamp newest_ts(const transform::RowBatch& b) {
  Timestamp w = transform::kNoLastTs;
  for (const auto& s : b.invocations) w = std::max(w, s.last_ts);
  return w;
}

}  // namespace

int shard_of(const Uuid& invocation_id) noexcept {
  uint64_t a, b;
  std::memcpy(&a, invocation_id.bytes.data(), 8);
  std::memcpy(&b, invocation_id.bytes.data() + 8, 8);
  return static_cast<int>((UuidHash::mix(a) ^ UuidHash::mix(b)) % kShardCount);
}

LoadLane::LoadLane(std::string conninfo, LoaderOptions options, RowDeadLetter dead_letter, std::vector<int> shards)
    : options_(options),
      dead_letter_(std::move(dead_letter)),
      // Every new connection, the first and each after a fault: the loader mark (prune sees a load
      // beside it) and the touched invocations' table, both lost with the session they belonged to.
      session_(std::move(conninfo), options.retry, [](pqxx::connection& c) {
        pqxx::work tx(c);
        tx.exec(sql::kMarkLoaderSession);
        tx.exec(sql::kCreateTouched);
        tx.commit();
      }) {
  // One statement, its locks taken left to right: in shard order, as every loader takes them.
  std::sort(shards.begin(), shards.end());
  lock_shards_ = sql::lock_shards(shards);
}
LoadLane::~LoadLane() = default;

void LoadLane::open() {
  bool citus = false;
  synchronous_commit_ = with_retries([&](pqxx::connection& c) {
    require_latest_schema(c);
    citus = has_citus(c);
    pqxx::nontransaction tx(c);
    return tx.exec1("SHOW synchronous_commit")[0].as<std::string>();
  });
  touched_by_ = citus ? sql::TouchedBy::Arrays : sql::TouchedBy::TempTable;
  touched_ = sql::touched_statements(touched_by_);
}

void LoadLane::load(const transform::RowBatch& rows) {
  letters_written_.clear();
  if (rows.empty()) return;
  ++stats_.batches;
  load_or_split(rows);
}

void LoadLane::write_dead_letters(std::vector<std::string>& letters) {
  for (auto& j : letters) {
    if (!letters_written_.insert(j).second) continue;
    if (dead_letter_) dead_letter_(j);  // throws when it cannot write: the batch does not commit
    ++stats_.dead_lettered;
  }
  letters.clear();
}

// Data errors (22xxx, 23xxx) are this batch's rows: halve it per invocation until the refused
// invocation stands alone, dead-letter that one and load the rest.
void LoadLane::load_or_split(const transform::RowBatch& rows) {
  try {
    with_retries([&](pqxx::connection& c) { load_once(c, rows); });
    return;
  } catch (const pqxx::sql_error& e) {
    const std::string state = e.sqlstate();
    if (state.rfind("22", 0) != 0 && state.rfind("23", 0) != 0) throw;
    if (rows.invocations.size() <= 1) {
      std::string j = "{\"kind\":\"rows\",\"invocation_id\":\"" +
                      (rows.invocations.empty() ? std::string() : rows.invocations[0].id.str()) + "\",\"rows\":" +
                      std::to_string(rows.row_count()) + ",\"reason\":";
      append_json_string(j, "PostgreSQL refused the rows (" + state + "): " + mask_secrets(e.what(), session_.conninfo()));
      j += "}\n";
      if (dead_letter_) dead_letter_(j);
      stats_.dead_lettered += rows.row_count();
      return;
    }
  }
  std::unordered_set<Uuid, UuidHash> second_half;
  for (size_t i = rows.invocations.size() / 2; i < rows.invocations.size(); ++i) second_half.insert(rows.invocations[i].id);
  transform::RowBatch copy = rows;
  auto halves = split_by_invocation(std::move(copy), 2, [&](const Uuid& invocation_id) {
    return second_half.count(invocation_id) ? size_t{1} : size_t{0};
  });
  load_or_split(halves[0]);
  load_or_split(halves[1]);
}

namespace {

// What one try of a batch writes, counted; it reaches the lane's stats once the try commits.
struct TryCounts {
  std::vector<std::string> letters;  // dead letters of the values left out
  uint64_t sent = 0, inserted = 0, updated = 0, log_conflicts = 0, beyond_retention = 0;
  uint64_t staged_logs = 0;  // log lines of stored invocations, staged
  std::set<transform::RollupKey> hours;
};

// The invocations retention leaves out of this batch (migration 010): those a prune deleted,
// and new ones whose every record is older than the horizon. Read under the horizon's share
// lock: a prune that moves it waits for this batch to commit. Their rows are counted, not sent.
StoredSet beyond_retention(pqxx::work& tx, const transform::RowBatch& rows, const StoredSet& stored,
                           std::atomic<int64_t>& horizon_seen) {
  const auto h = tx.exec(sql::kReadHorizon);
  if (h.empty()) return {};
  const Timestamp horizon = h[0][0].as<int64_t>();
  horizon_seen.store(horizon, std::memory_order_relaxed);
  std::unordered_map<Uuid, Timestamp, UuidHash> newest;
  auto see = [&](const Uuid& id, Timestamp ts) {
    auto [it, inserted] = newest.emplace(id, ts);
    if (!inserted) it->second = std::max(it->second, ts);
  };
  for (const auto& s : rows.invocations) see(s.id, s.last_ts);
  for (const auto& s : rows.event_executions) see(s.invocation_id, s.last_ts);
  for (const auto& s : rows.job_executions) see(s.invocation_id, s.last_ts);
  for (const auto& l : rows.job_logs) see(l.invocation_id, l.ts);
  StoredSet out;
  std::string ids = "{";
  for (const auto& [id, ts] : newest) {
    if (!stored.count(id) && ts < horizon) out.insert(id);
    if (ids.size() > 1) ids += ',';
    id.append_to(ids);
  }
  ids += '}';
  for (const auto& r : tx.exec_params(sql::kPrunedAmong, ids)) out.insert(*Uuid::parse(r[0].as<std::string>()));
  return out;
}

uint64_t rows_of(const transform::RowBatch& rows, const StoredSet& ids) {
  if (ids.empty()) return 0;
  uint64_t n = 0;
  for (const auto& s : rows.invocations) n += ids.count(s.id);
  for (const auto& s : rows.event_executions) n += ids.count(s.invocation_id);
  for (const auto& s : rows.job_executions) n += ids.count(s.invocation_id);
  for (const auto& l : rows.job_logs) n += ids.count(l.invocation_id);
  return n;
}

// Ids as a uuid[] parameter's text.
template <typename Ids>
std::string uuid_array(const Ids& ids) {
  std::string out = "{";
  for (const Uuid& id : ids) {
    if (out.size() > 1) out += ',';
    id.append_to(out);
  }
  return out + '}';
}

// A date[] parameter's text: days since 1970-01-01 as YYYY-MM-DD.
template <typename Days>
std::string date_array(const Days& days) {
  std::string out = "{";
  for (int32_t d : days) {
    if (out.size() > 1) out += ',';
    out += format_date(d);
  }
  return out + '}';
}

// The days (invocation_day) of the batch's invocations, the undated one included.
std::set<int32_t> invocation_days(const transform::RowBatch& rows) {
  std::set<int32_t> days;
  for (const auto& i : rows.invocations) days.insert(invocation_day(i.id));
  return days;
}
// The days of every row of the batch that have day partitions: those it writes to.
std::vector<int32_t> partitioned_days(const transform::RowBatch& rows) {
  std::set<int32_t> days = invocation_days(rows);
  for (const auto& s : rows.event_executions) days.insert(invocation_day(s.invocation_id));
  for (const auto& s : rows.job_executions) days.insert(invocation_day(s.invocation_id));
  for (const auto& l : rows.job_logs) days.insert(invocation_day(l.invocation_id));
  days.erase(kUndatedDay);
  return {days.begin(), days.end()};
}

// The batch's invocations the database already holds. (The lane holds their shards' locks, so
// none can appear meanwhile.)
StoredSet stored_invocations(pqxx::work& tx, const transform::RowBatch& rows) {
  StoredSet stored;
  std::vector<Uuid> ids;
  for (const auto& i : rows.invocations) ids.push_back(i.id);
  for (const auto& r : tx.exec_params(sql::kStoredInvocations, uuid_array(ids), date_array(invocation_days(rows))))
    stored.insert(*Uuid::parse(r[0].as<std::string>()));
  return stored;
}

// Step 2, new invocations: derived in C++ and COPYed straight to their tables, against the
// watermark committed so far (or this batch's, if newer). Another loader may move it before
// this one commits: the flip pass, under the watermark's lock, then sets right what that changes.
std::vector<transform::InvocationContribution> copy_new_rows(pqxx::work& tx, const transform::RowBatch& rows, const StoredSet& stored,
                                                  const StoredSet& batch_jobs, const transform::AbandonRule& rule,
                                                  ValueGuard& guard, CopyWriter& inv, CopyWriter& ev, CopyWriter& job,
                                                  CopyWriter& log, TryCounts& n) {
  auto contributions = encode_fresh(rows, stored, batch_jobs, rule, guard, inv, ev, job, log);
  const uint64_t written = inv.rows() + ev.rows() + job.rows() + log.rows();
  n.sent += written;
  n.inserted += written;
  inv.copy_into(tx, "invocations", sql::invocation_columns(true));
  ev.copy_into(tx, "event_executions", sql::event_columns(true));
  job.copy_into(tx, "job_executions", sql::job_columns(true));
  log.copy_into(tx, "job_logs", sql::log_columns());
  return contributions;
}

// Step 2, stored invocations: their fragments into the staging tables.
void stage_stored_rows(pqxx::work& tx, const transform::RowBatch& rows, const StoredSet& stored, ValueGuard& guard,
                       CopyWriter& inv, CopyWriter& ev, CopyWriter& job, CopyWriter& log, TryCounts& n) {
  tx.exec(sql::kCreateStaging);
  encode_stored_rows(rows, stored, guard, inv, ev, job, log);
  n.sent += inv.rows() + ev.rows() + job.rows() + log.rows();
  n.staged_logs = log.rows();
  inv.copy_into(tx, "stage_invocations");
  ev.copy_into(tx, "stage_event_executions");
  job.copy_into(tx, "stage_job_executions");
  log.copy_into(tx, "stage_job_logs");
  // Fresh temp tables have no statistics: without them the planner nested-loops the joins.
  // Only the join columns: sampling the JSON columns would cost more than the joins save.
  tx.exec0("ANALYZE stage_invocations (id, end_status, last_record_at), stage_event_executions (id, invocation_id), "
           "stage_job_executions (invocation_id, event_execution_id)");
}

// Step 7 also widens the spans of created_at of the batch's days (edpipe_day_spans, migration
// 017), which tell a time window the days it can hold rows of. A row's created_at is always one
// that a batch of it computed (from its start, else its first record), so the spans of the
// batches that wrote it hold it. Written under the watermark's lock (two loaders widening the
// same day cannot wait for each other); worked out before it.
struct DaySpans {
  std::string days, firsts, lasts;  // the statement's arrays; days empty: nothing to widen
};
DaySpans day_spans(const transform::RowBatch& rows, const StoredSet& skipped) {
  std::map<int32_t, std::pair<Timestamp, Timestamp>> spans;
  auto widen = [&](const Uuid& invocation, Timestamp at) {
    if (skipped.count(invocation)) return;
    const auto [it, fresh] = spans.try_emplace(invocation_day(invocation), at, at);
    if (fresh) return;
    it->second.first = std::min(it->second.first, at);
    it->second.second = std::max(it->second.second, at);
  };
  for (const auto& s : rows.invocations) widen(s.id, created_at(s));
  for (const auto& s : rows.event_executions) widen(s.invocation_id, created_at(s));
  for (const auto& s : rows.job_executions) widen(s.invocation_id, created_at(s));
  for (const auto& l : rows.job_logs) widen(l.invocation_id, l.ts);
  if (spans.empty()) return {};
  std::vector<int32_t> days;
  std::vector<std::string> firsts, lasts;
  for (const auto& [day, span] : spans) {
    days.push_back(day);
    firsts.push_back(format_rfc3339(span.first));
    lasts.push_back(format_rfc3339(span.second));
  }
  return {date_array(days), text_array_literal(firsts), text_array_literal(lasts)};
}
void widen_day_spans(pqxx::work& tx, const DaySpans& spans) {
  if (!spans.days.empty()) tx.exec_params0(sql::kWidenDaySpans, spans.days, spans.firsts, spans.lasts);
}

// Step 7: source_job_id links up whichever side arrives second. A new invocation whose job is in
// the batch was written linked (encode_fresh). The links to make: the stored invocations of the
// batch whose job is in it; the batch's invocations whose job is stored; and the invocations
// waiting for a job of this batch (edpipe_waiting_links, migration 016: a small table, so that
// finding them does not grow with the detail tables). A batch's invocation whose job is nowhere
// yet waits there. What the batch alone tells is worked out before the serial end (LinkPlan);
// the database is asked under the watermark's lock, so that of two loaders that bring the two
// sides, the second to come sees the first's.
struct LinkPlan {
  std::vector<Uuid> ready;                 // stored invocations of the batch whose job is in it
  std::vector<Uuid> elsewhere, their_jobs;  // invocations whose job is not in the batch, and those jobs
  std::string their_jobs_array;
  std::string batch_jobs_array;            // empty: the batch writes no job
};
LinkPlan plan_links(const transform::RowBatch& rows, const StoredSet& stored, const StoredSet& skipped,
                    const StoredSet& batch_jobs) {
  LinkPlan plan;
  for (const auto& i : rows.invocations) {
    const auto& job = i.start ? i.start->body.source_job_id : std::nullopt;
    if (!job || skipped.count(i.id)) continue;
    if (!batch_jobs.count(*job)) {
      plan.elsewhere.push_back(i.id);
      plan.their_jobs.push_back(*job);
    } else if (stored.count(i.id)) {
      plan.ready.push_back(i.id);
    }
  }
  if (!plan.their_jobs.empty()) plan.their_jobs_array = uuid_array(plan.their_jobs);
  if (!batch_jobs.empty()) plan.batch_jobs_array = uuid_array(batch_jobs);
  return plan;
}

void link_source_jobs(pqxx::work& tx, const LinkPlan& plan, const std::string& stamp) {
  std::vector<Uuid> link_ids = plan.ready;
  std::set<int32_t> link_days;
  for (const Uuid& id : link_ids) link_days.insert(invocation_day(id));
  auto link = [&](const Uuid& invocation) {
    link_ids.push_back(invocation);
    link_days.insert(invocation_day(invocation));
  };
  StoredSet found;
  if (!plan.their_jobs.empty())
    for (const auto& r : tx.exec_params(sql::kStoredJobs, plan.their_jobs_array)) found.insert(*Uuid::parse(r[0].as<std::string>()));
  std::vector<Uuid> wait_jobs, wait_ids;
  std::vector<int32_t> wait_days;
  for (size_t k = 0; k < plan.elsewhere.size(); ++k) {
    if (found.count(plan.their_jobs[k])) {
      link(plan.elsewhere[k]);
    } else {
      wait_jobs.push_back(plan.their_jobs[k]);
      wait_ids.push_back(plan.elsewhere[k]);
      wait_days.push_back(invocation_day(plan.elsewhere[k]));
    }
  }
  if (!plan.batch_jobs_array.empty())
    for (const auto& r : tx.exec_params(sql::kTakeWaitingLinks, plan.batch_jobs_array)) link(*Uuid::parse(r[0].as<std::string>()));
  if (!wait_ids.empty())
    tx.exec_params0(sql::kAddWaitingLinks, uuid_array(wait_jobs), uuid_array(wait_ids), date_array(wait_days));
  if (link_ids.empty()) return;
  // The jobs present: the batch's and those found stored.
  std::string present = plan.batch_jobs_array.empty() ? "{" : plan.batch_jobs_array.substr(0, plan.batch_jobs_array.size() - 1);
  for (const Uuid& job : found) {
    if (present.size() > 1) present += ',';
    job.append_to(present);
  }
  present += '}';
  tx.exec_params0(sql::kLinkSourceJobs, uuid_array(link_ids), date_array(link_days), present, stamp);
}

// Steps 4-6: the touched invocations (the staged ones, and those whose abandoned verdict flips
// under the new watermark), merged and derived. Returns their contributions before and after;
// usually none are touched, and then there is nothing to read back.
std::pair<std::vector<transform::InvocationContribution>, std::vector<transform::InvocationContribution>> merge_and_derive(
    pqxx::work& tx, sql::TouchedBy by, const sql::TouchedStatements& st, bool staged, const std::string& cutoff,
    const std::string& stamp, TryCounts& n) {
  const auto touched = (staged ? tx.exec0(sql::kTouchStaged).affected_rows() : 0) +
                       tx.exec_params0(sql::kTouchFlipping, cutoff).affected_rows();
  if (touched == 0) return {};
  auto merge = [&](const std::string& statement, bool takes_cutoff = true) -> uint64_t {
    const std::string counted = sql::counted_merge(statement);
    return (takes_cutoff ? tx.exec_params1(counted, cutoff, stamp) : tx.exec1(counted))[0].as<uint64_t>();
  };
  // The statements below name the touched invocations as sql::TouchedBy says.
  std::string id_array, day_array;
  if (by == sql::TouchedBy::Arrays) {
    std::vector<Uuid> ids;
    std::set<int32_t> days;
    for (const auto& r : tx.exec(sql::kTouchedIds)) {
      ids.push_back(*Uuid::parse(r[0].as<std::string>()));
      days.insert(invocation_day(ids.back()));
    }
    id_array = uuid_array(ids);
    day_array = date_array(days);
  } else {
    tx.exec0("ANALYZE touched_invocations");  // so that the joins to it read the tables by index
  }
  auto run = [&](const std::string& statement, const auto&... own) {
    return by == sql::TouchedBy::Arrays ? tx.exec_params(statement, own..., id_array, day_array)
                                        : tx.exec_params(statement, own...);
  };
  auto before = contributions_of(run(st.contributions));
  // A merge writes rows inserted and rows updated, which an upsert into a partitioned table
  // cannot tell apart (no xmax). The new ones are counted otherwise: staged invocations are all
  // stored; new events and jobs are the touched invocations' children after minus before; new
  // log lines are those staged minus those the table held.
  uint64_t written = 0, fresh_logs = 0;
  if (staged) {
    written += merge(sql::kMergeInvocations);
    written += merge(sql::kMergeEvents);
    written += merge(sql::kMergeJobs);
    const auto logs = tx.exec1(sql::kCountLogConflicts);
    n.log_conflicts += logs[1].as<uint64_t>();
    fresh_logs = n.staged_logs - std::min(n.staged_logs, logs[0].as<uint64_t>());
    written += merge(sql::kInsertLogs, false);
  }
  // Derived columns that change (an invocation turning abandoned, say) are updates too.
  n.updated += run(st.derive_invocations, cutoff, stamp).affected_rows();
  // On one server the planner merge-joined the derived rows of the children with every
  // partition's whole key, in key order, once the tables were large (7 days of 1M invocations:
  // 4.3 s for the jobs and 4.8 s for the events of a batch, against 41 and 76 ms by key lookups
  // in the batch's day partitions).
  const bool one_server = by == sql::TouchedBy::TempTable;
  if (one_server) tx.exec0("SET LOCAL enable_mergejoin = off");
  n.updated += run(st.derive_jobs, stamp).affected_rows();
  n.updated += run(st.derive_events, stamp).affected_rows();
  if (one_server) tx.exec0("SET LOCAL enable_mergejoin TO DEFAULT");
  n.updated += run(st.count_children, stamp).affected_rows();
  auto after = contributions_of(run(st.contributions));
  auto executions = [](const std::vector<transform::InvocationContribution>& cs) {
    uint64_t k = 0;
    for (const auto& c : cs) k += c.runs.size();
    return k;
  };
  const uint64_t fresh = fresh_logs + executions(after) - std::min(executions(after), executions(before));
  n.inserted += fresh;
  n.updated += written - std::min(written, fresh);
  return {std::move(before), std::move(after)};
}

// Step 8: the rollups change by exactly what the touched invocations contribute now minus
// before, plus what the new ones contribute. What the new ones add is summed before the serial
// end (fresh_rollup_deltas), the rest in it.
struct RollupDeltas {
  transform::RollupTable hours;
  std::map<transform::RollupKey, std::vector<int64_t>> removed;  // durations that left each hour
  transform::NameRollupTable names;
};

RollupDeltas fresh_rollup_deltas(const std::vector<transform::InvocationContribution>& fresh) {
  RollupDeltas d;
  for (const auto& c : fresh) d.hours[c.key].add(c, +1);
  transform::add_name_runs(d.names, fresh, +1);
  return d;
}

void add_rollup_deltas(pqxx::work& tx, const std::vector<transform::InvocationContribution>& before,
                       const std::vector<transform::InvocationContribution>& after, RollupDeltas d, TryCounts& n) {
  for (const auto& c : before) {
    d.hours[c.key].add(c, -1);
    if (c.duration_ms) d.removed[c.key].push_back(*c.duration_ms);
  }
  for (const auto& c : after) d.hours[c.key].add(c, +1);
  transform::add_name_runs(d.names, before, -1);
  transform::add_name_runs(d.names, after, +1);
  transform::drop_unchanged(d.names);
  std::erase_if(d.hours, [](const auto& h) { return h.second.is_zero(); });  // a replay: nothing to write
  RollupStore store(tx);
  // The per-name rows first: metrics_hourly's name lists are read from them. A duration can
  // change with no count of metrics_hourly changing: these are written on their own difference.
  store.add_name_deltas(d.names);
  store.add_deltas(d.hours, d.removed);
  for (const auto& [key, h] : d.hours) n.hours.insert(key);
}

}  // namespace

void LoadLane::add_day_partitions(pqxx::connection& conn, const std::vector<int32_t>& days) {
  std::set<int32_t> unknown;
  for (int32_t d : days)
    if (!days_with_partitions_.count(d)) unknown.insert(d);
  if (unknown.empty()) return;
  pqxx::work tx(conn);
  if (!tx.exec_params(sql::kDaysWithoutPartitions, date_array(unknown)).empty()) {
    tx.exec(sql::kLockPartitions);  // one maker at a time: the second finds them made
    tx.exec_params(sql::kAddDayPartitions, date_array(unknown));
  }
  tx.commit();
  days_with_partitions_.insert(unknown.begin(), unknown.end());
}

void LoadLane::analyze_new_partitions(pqxx::connection& conn, const std::vector<int32_t>& days) {
  if (!merges_ || touched_by_ != sql::TouchedBy::TempTable || days.empty()) return;
  pqxx::nontransaction tx(conn);
  const auto unanalyzed = tx.exec_params1(sql::kUnanalyzedDayPartitions, date_array(days));
  if (unanalyzed[0].is_null()) return;
  try {
    tx.exec0("ANALYZE " + unanalyzed[0].as<std::string>());
  } catch (const pqxx::undefined_table&) {
    // A prune dropped the day since: the batch finds that out under its shard locks.
  }
}

// The steps of docs/database.md "How a load stays exact", in that order. The day partitions the
// batch writes to are made first; under the shard locks a prune cannot drop them (it drops a day
// under every shard lock), but it may have dropped one since they were seen: then again.
void LoadLane::load_once(pqxx::connection& conn, const transform::RowBatch& rows) {
  const std::vector<int32_t> days = partitioned_days(rows);
  analyze_new_partitions(conn, days);
  for (int round = 0;; ++round) {
    add_day_partitions(conn, days);
    pqxx::work tx(conn);
    tx.exec(lock_shards_);  // 1
    const auto gone = days.empty() ? pqxx::result() : tx.exec_params(sql::kDaysWithoutPartitions, date_array(days));
    if (gone.empty()) return write_batch(tx, rows);
    days_with_partitions_.clear();
    if (round == 2) throw std::runtime_error("the day partitions of a batch were dropped as fast as they were made");
  }
}

void LoadLane::write_batch(pqxx::work& tx, const transform::RowBatch& rows) {
  const Timestamp batch_newest = newest_ts(rows);
  const auto committed = tx.exec(sql::kReadWatermark);
  const Timestamp fresh_wm = committed.empty() ? batch_newest : std::max(batch_newest, committed[0][0].as<int64_t>());
  const StoredSet stored = stored_invocations(tx, rows);
  const StoredSet skipped = beyond_retention(tx, rows, stored, horizon_seen_);
  StoredSet not_new = stored;  // what the new-row path leaves alone
  not_new.insert(skipped.begin(), skipped.end());

  TryCounts n;
  n.beyond_retention = rows_of(rows, skipped);
  ValueGuard guard(n.letters);
  CopyWriter &inv = invocations_, &ev = events_, &job = jobs_, &log = logs_;
  for (CopyWriter* w : {&inv, &ev, &job, &log}) w->clear();  // what a failed try left
  StoredSet batch_jobs;  // the jobs this transaction writes: of every invocation retention keeps
  for (const auto& j : rows.job_executions)
    if (!skipped.count(j.invocation_id)) batch_jobs.insert(j.id);
  const auto fresh = copy_new_rows(tx, rows, not_new, batch_jobs, transform::AbandonRule{fresh_wm, options_.abandon_after}, guard, inv,
                                   ev, job, log, n);                             // 2
  if (!stored.empty()) stage_stored_rows(tx, rows, stored, guard, inv, ev, job, log, n);
  // What needs no lock stays out of the serial end: the other loaders wait for each step in it.
  RollupDeltas deltas = fresh_rollup_deltas(fresh);
  const LinkPlan links = plan_links(rows, stored, skipped, batch_jobs);
  const DaySpans spans = day_spans(rows, skipped);

  // 3. The serial end: loaders take turns from here to the commit. The turn is an advisory lock,
  // taken before the watermark's row: a row lock is free once its holder's commit is visible on
  // the server that holds the row, but on Citus the workers commit after the coordinator (COMMIT
  // PREPARED), and the next loader would read the touched rows as they were before that commit
  // (and count their change into the rollups a second time). An advisory lock is released after
  // the workers committed.
  tx.exec(sql::kLockSerialEnd);
  const auto locked = tx.exec_params1(sql::kLockWatermark, format_rfc3339(batch_newest));
  const Timestamp wm = locked[0].as<int64_t>();
  const std::string stamp = format_rfc3339(locked[1].as<int64_t>());  // updated_at of what changes
  const auto [before, after] =
      merge_and_derive(tx, touched_by_, touched_, !stored.empty(), format_rfc3339(wm - options_.abandon_after), stamp, n);  // 4-6
  link_source_jobs(tx, links, stamp);  // 7
  widen_day_spans(tx, spans);
  add_rollup_deltas(tx, before, after, std::move(deltas), n);   // 8
  write_dead_letters(n.letters);  // once each, and on disk before the rows that left them out commit
  tx.commit();
  merges_ = merges_ || !stored.empty();
  // Counted once the batch is in: a retried try counts again.
  stats_.rows_sent += n.sent;
  stats_.log_conflicts += n.log_conflicts;
  stats_.beyond_retention += n.beyond_retention;
  stats_.rows_inserted += n.inserted;
  stats_.rows_updated += n.updated;
  stats_.touched_hours.insert(n.hours.begin(), n.hours.end());
}

}  // namespace edpipe::load
