#include "load/verifier.h"

#include <array>
#include <cmath>
#include <limits>
#include <map>

#include "load/rollup_store.h"
#include "transform/hourly_rollup.h"

namespace edpipe::load {
namespace {

// The expected rollups, computed by PostgreSQL from the base tables alone.
constexpr const char* kExpectedHours = R"(
SELECT extract(epoch FROM date_trunc('hour', created_at))::bigint, source_function, count(*),
       count(*) FILTER (WHERE status = 'completed'), count(*) FILTER (WHERE status IN ('failed', 'abandoned')),
       count(*) FILTER (WHERE status = 'running'), sum(events_detected_count), sum(total_jobs_run),
       sum(total_jobs_succeeded), sum(total_jobs_failed), count(total_duration_ms), coalesce(sum(total_duration_ms), 0),
       min(total_duration_ms), max(total_duration_ms),
       percentile_cont(0.50) WITHIN GROUP (ORDER BY total_duration_ms),
       percentile_cont(0.95) WITHIN GROUP (ORDER BY total_duration_ms),
       percentile_cont(0.99) WITHIN GROUP (ORDER BY total_duration_ms)
FROM invocations GROUP BY 1, 2)";

constexpr const char* kExpectedNames = R"(
SELECT extract(epoch FROM date_trunc('hour', i.created_at))::bigint, i.source_function, 'event', e.event_name, count(*)
FROM event_executions e JOIN invocations i ON i.id = e.invocation_id WHERE e.detected GROUP BY 1, 2, 4
UNION ALL
SELECT extract(epoch FROM date_trunc('hour', i.created_at))::bigint, i.source_function, 'job', j.job_name, count(*)
FROM job_executions j JOIN invocations i ON i.id = j.invocation_id WHERE j.status = 'failed' GROUP BY 1, 2, 4)";

// name_metrics_hourly as the base tables say it, per hour and function of the invocation.
constexpr const char* kExpectedNameRollups = R"(
SELECT extract(epoch FROM date_trunc('hour', i.created_at))::bigint, i.source_function, 'job', j.job_name, count(*),
       count(*) FILTER (WHERE j.status = 'failed'), 0, percentile_cont(0.50) WITHIN GROUP (ORDER BY j.duration_ms),
       percentile_cont(0.95) WITHIN GROUP (ORDER BY j.duration_ms)
FROM job_executions j JOIN invocations i ON i.id = j.invocation_id GROUP BY 1, 2, 4
UNION ALL
SELECT extract(epoch FROM date_trunc('hour', i.created_at))::bigint, i.source_function, 'event', e.event_name, count(*),
       count(*) FILTER (WHERE e.status IN ('handler_failed', 'detection_failed')), count(*) FILTER (WHERE e.detected),
       percentile_cont(0.50) WITHIN GROUP (ORDER BY e.handler_duration_ms),
       percentile_cont(0.95) WITHIN GROUP (ORDER BY e.handler_duration_ms)
FROM event_executions e JOIN invocations i ON i.id = e.invocation_id GROUP BY 1, 2, 4)";

constexpr const char* kStoredPercentiles = R"(
SELECT extract(epoch FROM hour_bucket)::bigint, source_function, p50_duration_ms, p95_duration_ms, p99_duration_ms,
       avg_duration_ms FROM metrics_hourly)";

constexpr const char* kCountsOff = R"(
SELECT i.id, i.events_detected_count, coalesce(e.n, 0), i.total_jobs_run, coalesce(j.n, 0), i.total_jobs_succeeded,
       coalesce(j.ok, 0), i.total_jobs_failed, coalesce(j.failed, 0), i.jobs_timed, coalesce(j.timed, 0),
       i.job_duration_sum_ms, coalesce(j.total_ms, 0)
FROM invocations i
LEFT JOIN (SELECT invocation_id, count(*) FILTER (WHERE detected) AS n FROM event_executions GROUP BY 1) e ON e.invocation_id = i.id
LEFT JOIN (SELECT invocation_id, count(*) AS n, count(*) FILTER (WHERE status = 'completed') AS ok,
                  count(*) FILTER (WHERE status = 'failed') AS failed, count(duration_ms) AS timed,
                  sum(duration_ms) AS total_ms FROM job_executions GROUP BY 1) j ON j.invocation_id = i.id
WHERE (i.events_detected_count, i.total_jobs_run, i.total_jobs_succeeded, i.total_jobs_failed, i.jobs_timed,
       i.job_duration_sum_ms)
      IS DISTINCT FROM (coalesce(e.n, 0), coalesce(j.n, 0), coalesce(j.ok, 0), coalesce(j.failed, 0), coalesce(j.timed, 0),
                        coalesce(j.total_ms, 0))
LIMIT 20)";

// Rows in a day partition that is not their invocation's (migration 016): the loader and
// edpipe_invocation_day() disagree.
constexpr const char* kDaysOff = R"(
SELECT 'invocations', id, invocation_day FROM invocations WHERE invocation_day <> edpipe_invocation_day(id)
UNION ALL SELECT 'event_executions', id, invocation_day FROM event_executions
  WHERE invocation_day <> edpipe_invocation_day(invocation_id)
UNION ALL SELECT 'job_executions', id, invocation_day FROM job_executions
  WHERE invocation_day <> edpipe_invocation_day(invocation_id)
UNION ALL SELECT 'job_logs', id, invocation_day FROM job_logs WHERE invocation_day <> edpipe_invocation_day(invocation_id)
LIMIT 20)";

// Failures whose failure_function is not their invocation's function, and other rows that have
// one (migration 021): the errors page reads a failure's function from it.
constexpr const char* kFailureFunctionsOff = R"(
SELECT 'job_executions', j.id, j.status, coalesce(j.failure_function, '(none)'), coalesce(i.source_function, '(none)')
FROM job_executions j LEFT JOIN invocations i ON i.id = j.invocation_id AND i.invocation_day = j.invocation_day
WHERE j.failure_function IS DISTINCT FROM CASE WHEN j.status = 'failed' THEN i.source_function END
UNION ALL
SELECT 'event_executions', e.id, e.status, coalesce(e.failure_function, '(none)'), coalesce(i.source_function, '(none)')
FROM event_executions e LEFT JOIN invocations i ON i.id = e.invocation_id AND i.invocation_day = e.invocation_day
WHERE e.failure_function IS DISTINCT FROM
      CASE WHEN e.status IN ('handler_failed', 'detection_failed') THEN i.source_function END
LIMIT 20)";

// Each table's created_at per day partition, for edpipe_day_spans (migration 017) to hold.
constexpr const char* kDayCreatedRanges = R"(
SELECT 'invocations', invocation_day::text, min(created_at)::text, max(created_at)::text,
       extract(epoch FROM min(created_at)) * 1e6, extract(epoch FROM max(created_at)) * 1e6 FROM invocations GROUP BY 2
UNION ALL SELECT 'event_executions', invocation_day::text, min(created_at)::text, max(created_at)::text,
       extract(epoch FROM min(created_at)) * 1e6, extract(epoch FROM max(created_at)) * 1e6 FROM event_executions GROUP BY 2
UNION ALL SELECT 'job_executions', invocation_day::text, min(created_at)::text, max(created_at)::text,
       extract(epoch FROM min(created_at)) * 1e6, extract(epoch FROM max(created_at)) * 1e6 FROM job_executions GROUP BY 2
UNION ALL SELECT 'job_logs', invocation_day::text, min(created_at)::text, max(created_at)::text,
       extract(epoch FROM min(created_at)) * 1e6, extract(epoch FROM max(created_at)) * 1e6 FROM job_logs GROUP BY 2)";
constexpr const char* kDaySpans = R"(
SELECT invocation_day::text, extract(epoch FROM first_at) * 1e6, extract(epoch FROM last_at) * 1e6,
       first_at::text, last_at::text FROM edpipe_day_spans)";

std::string key_name(const transform::RollupKey& k) {
  return format_hour(k.hour) + " " + (k.source_function.empty() ? "(no start record)" : k.source_function);
}

// What the base tables say of each hour and function, computed by PostgreSQL alone.
struct Expected {
  int64_t total, ok, failed, running, events, jobs, jobs_ok, jobs_failed, dur_count, dur_sum;
  std::optional<int64_t> min, max;
  std::array<std::optional<double>, 3> percentiles;  // p50, p95, p99 by percentile_cont
  std::map<std::string, int64_t> detected, failed_jobs;
};

std::map<transform::RollupKey, Expected> read_expected(pqxx::read_transaction& tx) {
  std::map<transform::RollupKey, Expected> expected;
  for (const auto& r : tx.exec(kExpectedHours)) {
    transform::RollupKey k{r[0].as<int64_t>() * kMicrosPerSecond, r[1].as<std::string>()};
    Expected e{r[2].as<int64_t>(), r[3].as<int64_t>(), r[4].as<int64_t>(), r[5].as<int64_t>(), r[6].as<int64_t>(),
               r[7].as<int64_t>(), r[8].as<int64_t>(), r[9].as<int64_t>(), r[10].as<int64_t>(), r[11].as<int64_t>(),
               std::nullopt, std::nullopt, {}, {}, {}};
    if (!r[12].is_null()) e.min = r[12].as<int64_t>();
    if (!r[13].is_null()) e.max = r[13].as<int64_t>();
    for (size_t i = 0; i < 3; ++i)
      if (!r[int(14 + i)].is_null()) e.percentiles[i] = r[int(14 + i)].as<double>();
    expected[k] = std::move(e);
  }
  for (const auto& r : tx.exec(kExpectedNames)) {
    transform::RollupKey k{r[0].as<int64_t>() * kMicrosPerSecond, r[1].as<std::string>()};
    auto& e = expected[k];
    (r[2].as<std::string>() == "event" ? e.detected : e.failed_jobs)[r[3].as<std::string>()] = r[4].as<int64_t>();
  }
  return expected;
}

// The values metrics_hourly shows beside its mergeable state: p50, p95, p99 and avg.
using Shown = std::array<std::optional<double>, 4>;
std::map<transform::RollupKey, Shown> read_shown(pqxx::read_transaction& tx) {
  std::map<transform::RollupKey, Shown> shown;
  for (const auto& r : tx.exec(kStoredPercentiles)) {
    Shown v;
    for (int i = 0; i < 4; ++i)
      if (!r[2 + i].is_null()) v[size_t(i)] = r[2 + i].as<double>();
    shown[{r[0].as<int64_t>() * kMicrosPerSecond, r[1].as<std::string>()}] = v;
  }

  return shown;
}

// One hour's stored rollup against what its rows say; each difference named.
void compare_hour(const transform::RollupKey& k, const Expected& e, const transform::HourlyRollup& h, const Shown& s, VerifyReport& rep) {
  auto differ = [&](const std::string& what, const std::string& stored_v, const std::string& want) {
    rep.differences.push_back("metrics_hourly " + key_name(k) + ": " + what + " is " + stored_v + ", the rows say " + want);
  };
  auto opt = [](const std::optional<int64_t>& v) { return v ? std::to_string(*v) : std::string("null"); };
  const std::pair<const char*, std::pair<int64_t, int64_t>> sums[] = {
      {"total_invocations", {h.total_invocations, e.total}},
      {"successful_invocations", {h.successful_invocations, e.ok}},
      {"failed_invocations", {h.failed_invocations, e.failed}},
      {"running_invocations", {h.running_invocations, e.running}},
      {"total_events_detected", {h.events_detected, e.events}},
      {"total_jobs_run", {h.jobs_run, e.jobs}},
      {"total_jobs_succeeded", {h.jobs_succeeded, e.jobs_ok}},
      {"total_jobs_failed", {h.jobs_failed, e.jobs_failed}},
      {"duration_count", {h.duration_count, e.dur_count}},
      {"duration_sum_ms", {h.duration_sum_ms, e.dur_sum}},
  };
  for (const auto& [name, v] : sums)
    if (v.first != v.second) differ(name, std::to_string(v.first), std::to_string(v.second));
  if (h.min_duration_ms != e.min) differ("min_duration_ms", opt(h.min_duration_ms), opt(e.min));
  if (h.max_duration_ms != e.max) differ("max_duration_ms", opt(h.max_duration_ms), opt(e.max));
  // The listed names (migration 012): the most frequent, exactly; the rest as one count.
  const auto [detected, detected_other] = transform::HourlyRollup::listed(e.detected);
  const auto [failed, failed_other] = transform::HourlyRollup::listed(e.failed_jobs);
  if (h.detected_events != detected) differ("detected_event_counts", "different", "other counts");
  if (h.failed_jobs != failed) differ("failed_job_counts", "different", "other counts");
  if (h.detected_events_other != detected_other)
    differ("detected_events_other", std::to_string(h.detected_events_other), std::to_string(detected_other));
  if (h.failed_jobs_other != failed_other)
    differ("failed_jobs_other", std::to_string(h.failed_jobs_other), std::to_string(failed_other));
  // Percentiles: within 1 % (the sketch's accuracy) plus 1 ms of PostgreSQL's percentile_cont.
  for (size_t i = 0; i < 3; ++i) {
    const char* name = i == 0 ? "p50_duration_ms" : i == 1 ? "p95_duration_ms" : "p99_duration_ms";
    const std::optional<double>& exact = e.percentiles[i];
    if (!exact) {
      if (s[i]) differ(name, std::to_string(*s[i]), "null");
      continue;
    }
    if (!s[i] || std::abs(*s[i] - *exact) > 0.01 * *exact + 1.0)
      differ(name, s[i] ? std::to_string(*s[i]) : "null",
             std::to_string(*exact) + " by percentile_cont (±1 % + 1 ms)");
  }
  if (e.dur_count > 0) {
    const double avg = double(e.dur_sum) / double(e.dur_count);
    if (!s[3] || std::abs(*s[3] - avg) > 0.001) differ("avg_duration_ms", s[3] ? std::to_string(*s[3]) : "null", std::to_string(avg));
  }
}

// Every name_metrics_hourly row against its executions: counts exactly, p50 and p95 within the
// sketch's 1 % (+ 1 ms) of percentile_cont; a row without executions, or executions without a
// row, is a difference too. Hours before `horizon` are not checked.
void compare_names(pqxx::read_transaction& tx, RollupStore& store, Timestamp horizon, VerifyReport& rep) {
  transform::NameRollupTable stored = store.read_all_names();
  std::erase_if(stored, [horizon](const auto& kv) { return kv.first.hour < horizon; });
  for (const auto& r : tx.exec(kExpectedNameRollups)) {
    const transform::RollupKey k{r[0].as<int64_t>() * kMicrosPerSecond, r[1].as<std::string>()};
    if (k.hour < horizon) continue;
    const auto kind = r[2].as<std::string>() == "job" ? transform::NameKind::Job : transform::NameKind::Event;
    const std::string name = r[3].as<std::string>();
    const std::string where = "name_metrics_hourly " + key_name(k) + " " + r[2].as<std::string>() + " '" + name + "': ";
    auto hour = stored.find(k);
    auto it = hour == stored.end() ? transform::NameRollups::iterator() : hour->second.find({kind, name});
    if (hour == stored.end() || it == hour->second.end()) {
      rep.differences.push_back(where + "missing (" + r[4].as<std::string>() + " executions)");
      continue;
    }
    const transform::NameRollup& n = it->second;
    const int64_t want[] = {r[4].as<int64_t>(), r[5].as<int64_t>(), r[6].as<int64_t>()};
    const int64_t have[] = {n.runs, n.failed, n.detected};
    const char* what[] = {"runs", "failed", "detected"};
    for (size_t i = 0; i < 3; ++i)
      if (want[i] != have[i])
        rep.differences.push_back(where + what[i] + " is " + std::to_string(have[i]) + ", the rows say " + std::to_string(want[i]));
    for (int i = 0; i < 2; ++i) {
      const auto got = n.durations.quantile(i == 0 ? 0.50 : 0.95);
      const std::optional<double> exact = r[7 + i].is_null() ? std::nullopt : std::optional<double>(r[7 + i].as<double>());
      if (got.has_value() != exact.has_value() || (exact && std::abs(*got - *exact) > 0.01 * *exact + 1.0))
        rep.differences.push_back(where + (i == 0 ? "p50" : "p95") + " is " + (got ? std::to_string(*got) : "null") +
                                  ", percentile_cont says " + (exact ? std::to_string(*exact) : "null"));
    }
    hour->second.erase(it);
  }
  for (const auto& [k, names] : stored)
    for (const auto& [name, n] : names)
      rep.differences.push_back("name_metrics_hourly " + key_name(k) + " " + transform::kind_name(name.first) + " '" +
                                name.second + "': no execution of that name, hour and function exists");
}

}  // namespace

VerifyReport verify_database(pqxx::connection& conn) {
  VerifyReport rep;
  pqxx::read_transaction tx(conn);
  tx.exec0("SET TIME ZONE 'UTC'");
  RollupStore store(tx);
  transform::RollupTable stored = store.read_all();
  auto expected = read_expected(tx);
  const auto shown = read_shown(tx);
  // Behind the retention horizon (migration 010) the detail is gone and the rollups are the
  // record: only the hours from it on can be held against their rows.
  const auto horizon = tx.exec("SELECT (extract(epoch FROM horizon) * 1000000)::bigint FROM edpipe_retention");
  if (!horizon.empty()) {
    const Timestamp h = horizon[0][0].as<int64_t>();
    std::erase_if(stored, [h](const auto& kv) { return kv.first.hour < h; });
    std::erase_if(expected, [h](const auto& kv) { return kv.first.hour < h; });
    rep.horizon = h;
  }
  for (const auto& [k, e] : expected) {
    ++rep.hours_checked;
    rep.invocations_checked += static_cast<size_t>(e.total);
    auto it = stored.find(k);
    if (it == stored.end()) {
      rep.differences.push_back("metrics_hourly " + key_name(k) + ": missing (" + std::to_string(e.total) + " invocations)");
      continue;
    }
    const auto s = shown.find(k);
    compare_hour(k, e, it->second, s == shown.end() ? Shown{} : s->second, rep);
  }
  for (const auto& [k, h] : stored)
    if (!expected.count(k))
      rep.differences.push_back("metrics_hourly " + key_name(k) + ": no invocation of that hour and function exists");
  compare_names(tx, store, rep.horizon.value_or(std::numeric_limits<Timestamp>::min()), rep);
  for (const auto& r : tx.exec(kCountsOff))
    rep.differences.push_back("invocations " + r[0].as<std::string>() +
                              ": counts (events detected, jobs run, ok, failed, timed, their ms) are " +
                              r[1].as<std::string>() + ", " + r[3].as<std::string>() + ", " + r[5].as<std::string>() + ", " +
                              r[7].as<std::string>() + ", " + r[9].as<std::string>() + ", " + r[11].as<std::string>() +
                              "; the children say " + r[2].as<std::string>() + ", " + r[4].as<std::string>() + ", " +
                              r[6].as<std::string>() + ", " + r[8].as<std::string>() + ", " + r[10].as<std::string>() +
                              ", " + r[12].as<std::string>());
  for (const auto& r : tx.exec(kDaysOff))
    rep.differences.push_back(r[0].as<std::string>() + " " + r[1].as<std::string>() + ": in the partition of " +
                              r[2].as<std::string>() + ", not of its invocation's day");
  for (const auto& r : tx.exec(kFailureFunctionsOff))
    rep.differences.push_back(r[0].as<std::string>() + " " + r[1].as<std::string>() + " (" + r[2].as<std::string>() +
                              "): failure_function is " + r[3].as<std::string>() + ", its invocation's function " +
                              r[4].as<std::string>());
  // A row outside its day's span would be missing from the time windows that skip the day.
  std::map<std::string, std::tuple<double, double, std::string>> spans;
  for (const auto& r : tx.exec(kDaySpans))
    spans[r[0].as<std::string>()] = {r[1].as<double>(), r[2].as<double>(), r[3].as<std::string>() + " to " + r[4].as<std::string>()};
  for (const auto& r : tx.exec(kDayCreatedRanges)) {
    const std::string what = r[0].as<std::string>() + " of " + r[1].as<std::string>() + " created " + r[2].as<std::string>() +
                             " to " + r[3].as<std::string>();
    const auto span = spans.find(r[1].as<std::string>());
    if (span == spans.end())
      rep.differences.push_back("edpipe_day_spans: no span of " + r[1].as<std::string>() + " (" + what + ")");
    else if (r[4].as<double>() < std::get<0>(span->second) || r[5].as<double>() > std::get<1>(span->second))
      rep.differences.push_back("edpipe_day_spans: " + what + ", outside its span " + std::get<2>(span->second));
  }
  return rep;
}

}  // namespace edpipe::load
