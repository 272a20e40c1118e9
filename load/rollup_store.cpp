#include "load/rollup_store.h"

#include <simdjson.h>

#include <cstdio>
#include <stdexcept>

#include "core/json_text.h"
#include "core/sql_array.h"
#include "load/load_sql.h"

namespace edpipe::load {
namespace {

// Read straight from the field's text: a batch reads back every sketch its hours touch, and
// pqxx's array parser made a string of each element.
std::vector<int64_t> parse_int_array(const pqxx::field& f) {
  return parse_int_array_literal(std::string_view(f.c_str(), f.size()));
}

std::string json_counts(const std::map<std::string, int64_t>& m) {
  std::string s = "{";
  bool first = true;
  for (const auto& [k, v] : m) {
    if (!first) s += ',';
    first = false;
    append_json_string(s, k);
    s += ':' + std::to_string(v);
  }
  return s + "}";
}

std::optional<std::string> number(const std::optional<double>& v) {
  if (!v) return std::nullopt;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f", *v);
  return std::string(buf);
}
std::optional<std::string> number(const std::optional<int64_t>& v) {
  if (!v) return std::nullopt;
  return std::to_string(*v);
}


// A stored {"name": count} column. Text that is not such an object is never read as empty:
// the next write would then drop every count the hour had.
std::map<std::string, int64_t> parse_name_counts(const std::string& json, const char* column) {
  std::map<std::string, int64_t> out;
  simdjson::dom::parser p;
  simdjson::dom::object obj;
  if (p.parse(json).get(obj))
    throw std::runtime_error(std::string("metrics_hourly.") + column + " is not a JSON object of counts: " +
                             json.substr(0, 200));
  for (auto [k, v] : obj) {
    int64_t n;
    if (v.get_int64().get(n))
      throw std::runtime_error(std::string("metrics_hourly.") + column + ": the count of '" + std::string(k) +
                               "' is not an integer");
    out[std::string(k)] = n;
  }
  return out;
}

DurationSketch sketch_from_row(const pqxx::row& r) {
  const auto keys = parse_int_array(r["duration_bucket_keys"]);
  const auto counts = parse_int_array(r["duration_bucket_counts"]);
  std::map<int32_t, int64_t> buckets;
  for (size_t i = 0; i < keys.size() && i < counts.size(); ++i) buckets[static_cast<int32_t>(keys[i])] = counts[i];
  return DurationSketch::from_buckets(r["duration_zero_count"].as<int64_t>(), buckets);
}

// The stored form of a sketch: its keys and their counts, as integer[] and bigint[] literals.
std::pair<std::string, std::string> sketch_arrays(const DurationSketch& d) {
  std::vector<int64_t> keys, counts;
  for (const auto& [k, c] : d.buckets()) {
    keys.push_back(k);
    counts.push_back(c);
  }
  return {int_array_literal(keys), int_array_literal(counts)};
}

std::pair<transform::NameKind, std::string> name_key_of(const pqxx::row& r) {
  return {r["kind"].as<std::string>() == "job" ? transform::NameKind::Job : transform::NameKind::Event,
          r["name"].as<std::string>()};
}

transform::NameRollup name_rollup_from_row(const pqxx::row& r) {
  transform::NameRollup n;
  n.runs = r["runs"].as<int64_t>();
  n.failed = r["failed"].as<int64_t>();
  n.detected = r["detected"].as<int64_t>();
  n.durations = sketch_from_row(r);
  return n;
}

transform::HourlyRollup rollup_from_row(const pqxx::row& r) {
  transform::HourlyRollup h;
  auto count = [&](const char* column) { return r[column].as<int64_t>(); };
  h.total_invocations = count("total_invocations");
  h.successful_invocations = count("successful_invocations");
  h.failed_invocations = count("failed_invocations");
  h.running_invocations = count("running_invocations");
  h.events_detected = count("total_events_detected");
  h.jobs_run = count("total_jobs_run");
  h.jobs_succeeded = count("total_jobs_succeeded");
  h.jobs_failed = count("total_jobs_failed");
  h.duration_count = count("duration_count");
  h.duration_sum_ms = count("duration_sum_ms");
  if (!r["min_duration_ms"].is_null()) h.min_duration_ms = count("min_duration_ms");
  if (!r["max_duration_ms"].is_null()) h.max_duration_ms = count("max_duration_ms");
  h.durations = sketch_from_row(r);
  h.detected_events = parse_name_counts(r["detected_event_counts"].as<std::string>(), "detected_event_counts");
  h.failed_jobs = parse_name_counts(r["failed_job_counts"].as<std::string>(), "failed_job_counts");
  h.detected_events_other = count("detected_events_other");
  h.failed_jobs_other = count("failed_jobs_other");
  return h;
}

// The hours (epoch seconds) and functions of `keys`: the $1 and $2 arrays of the statements
// that write many hours at once.
std::pair<std::string, std::string> key_arrays(const std::vector<transform::RollupKey>& keys) {
  std::vector<int64_t> hours;
  std::vector<std::string> functions;
  for (const auto& k : keys) {
    hours.push_back(k.hour / kMicrosPerSecond);
    functions.push_back(k.source_function);
  }
  return {int_array_literal(hours), text_array_literal(functions)};
}
template <class Map>
std::vector<transform::RollupKey> keys_of(const Map& m) {
  std::vector<transform::RollupKey> keys;
  for (const auto& [k, v] : m) keys.push_back(k);
  return keys;
}
transform::RollupKey key_of(const pqxx::row& r) {
  return {r["hour_epoch"].as<int64_t>() * kMicrosPerSecond, r["source_function"].as<std::string>()};
}

}  // namespace

void RollupStore::add_deltas(const transform::RollupTable& deltas,
                             const std::map<transform::RollupKey, std::vector<int64_t>>& removed) {
  if (deltas.empty()) return;
  transform::RollupTable rows;
  {
    const auto [hours, functions] = key_arrays(keys_of(deltas));
    for (const auto& r : tx_.exec_params(sql::kReadRollups, hours, functions)) rows[key_of(r)] = rollup_from_row(r);
  }
  std::vector<transform::RollupKey> gone;
  for (const auto& [key, delta] : deltas) {
    transform::HourlyRollup& h = rows[key];
    bool extreme_left = false;
    if (const auto it = removed.find(key); it != removed.end())
      for (int64_t d : it->second) extreme_left = extreme_left || d == h.min_duration_ms || d == h.max_duration_ms;
    h.merge(delta);
    if (h.total_invocations <= 0) {
      gone.push_back(key);
      rows.erase(key);
      continue;
    }
    if (extreme_left) {
      // An extreme may have left the hour: ask the rows (one hour of one function, indexed).
      auto mm = tx_.exec_params(sql::kMinMaxOfHour, format_rfc3339(key.hour), key.source_function);
      h.min_duration_ms = mm[0][0].is_null() ? std::nullopt : std::optional<int64_t>(mm[0][0].as<int64_t>());
      h.max_duration_ms = mm[0][1].is_null() ? std::nullopt : std::optional<int64_t>(mm[0][1].as<int64_t>());
    }
    h.min_max_stale = false;  // right now: read back, or no extreme left
    // The listed names come from the per-name rows this transaction has already brought up to
    // date: an hour's lists stay bounded however many names it has.
    h.detected_events.clear();
    h.failed_jobs.clear();
    h.detected_events_other = h.failed_jobs_other = 0;
  }
  if (!gone.empty()) {
    const auto [hours, functions] = key_arrays(gone);
    tx_.exec_params(sql::kDeleteRollups, hours, functions);
  }
  if (rows.empty()) return;
  const auto [hours, functions] = key_arrays(keys_of(rows));
  for (const auto& r : tx_.exec_params(sql::kListedNames, hours, functions,
                                       static_cast<int64_t>(transform::HourlyRollup::kListedNames))) {
    transform::HourlyRollup& h = rows.at({r[0].as<int64_t>() * kMicrosPerSecond, r[1].as<std::string>()});
    const bool event = r[2].as<std::string>() == "event";
    const int64_t n = r[4].as<int64_t>();
    if (r[3].is_null()) (event ? h.detected_events_other : h.failed_jobs_other) = n;
    else (event ? h.detected_events : h.failed_jobs)[r[3].as<std::string>()] = n;
  }
  // Every column of the upsert, an array each, in step with the keys.
  std::vector<int64_t> total, successful, failed, running, detected, jobs_run, jobs_succeeded, jobs_failed, count, sum,
      zeros, events_other, jobs_other;
  std::vector<std::optional<std::string>> avg, min, max, p50, p95, p99;
  std::vector<std::string> top_events, top_jobs, bucket_keys, bucket_counts, event_counts, job_counts;
  for (const auto& [key, h] : rows) {
    total.push_back(h.total_invocations);
    successful.push_back(h.successful_invocations);
    failed.push_back(h.failed_invocations);
    running.push_back(h.running_invocations);
    detected.push_back(h.events_detected);
    jobs_run.push_back(h.jobs_run);
    jobs_succeeded.push_back(h.jobs_succeeded);
    jobs_failed.push_back(h.jobs_failed);
    avg.push_back(number(h.avg_duration_ms()));
    min.push_back(number(h.min_duration_ms));
    max.push_back(number(h.max_duration_ms));
    p50.push_back(number(h.percentile(0.50)));
    p95.push_back(number(h.percentile(0.95)));
    p99.push_back(number(h.percentile(0.99)));
    top_events.push_back(transform::HourlyRollup::top_json(h.detected_events));
    top_jobs.push_back(transform::HourlyRollup::top_json(h.failed_jobs));
    count.push_back(h.duration_count);
    sum.push_back(h.duration_sum_ms);
    zeros.push_back(h.durations.zero_count());
    auto [k, c] = sketch_arrays(h.durations);
    bucket_keys.push_back(std::move(k));
    bucket_counts.push_back(std::move(c));
    event_counts.push_back(json_counts(h.detected_events));
    job_counts.push_back(json_counts(h.failed_jobs));
    events_other.push_back(h.detected_events_other);
    jobs_other.push_back(h.failed_jobs_other);
  }
  tx_.exec_params(sql::kUpsertRollups, hours, functions, int_array_literal(total), int_array_literal(successful),
                  int_array_literal(failed), int_array_literal(running), int_array_literal(detected),
                  int_array_literal(jobs_run), int_array_literal(jobs_succeeded), int_array_literal(jobs_failed),
                  nullable_text_array_literal(avg), nullable_text_array_literal(min), nullable_text_array_literal(max),
                  nullable_text_array_literal(p50), nullable_text_array_literal(p95), nullable_text_array_literal(p99),
                  text_array_literal(top_events), text_array_literal(top_jobs), int_array_literal(count),
                  int_array_literal(sum), int_array_literal(zeros), text_array_literal(bucket_keys),
                  text_array_literal(bucket_counts), text_array_literal(event_counts), text_array_literal(job_counts),
                  int_array_literal(events_other), int_array_literal(jobs_other));
}

transform::RollupTable RollupStore::read_all() {
  transform::RollupTable out;
  for (const auto& r : tx_.exec(sql::kReadAllRollups)) out[key_of(r)] = rollup_from_row(r);
  return out;
}

void RollupStore::add_name_deltas(const transform::NameRollupTable& deltas) {
  // Every name of every hour in one statement each for the read, the upserts and the deletes (a
  // batch's hours have hundreds of names: a statement each cost a round trip each).
  std::vector<transform::RollupKey> keys;
  std::vector<std::string> kinds, names;
  for (const auto& [key, delta] : deltas)
    for (const auto& [name, d] : delta) {
      keys.push_back(key);
      kinds.push_back(transform::kind_name(name.first));
      names.push_back(name.second);
    }
  if (keys.empty()) return;
  transform::NameRollupTable stored;
  {
    const auto [hours, functions] = key_arrays(keys);
    for (const auto& r : tx_.exec_params(sql::kReadNameRollups, hours, functions, text_array_literal(kinds),
                                         text_array_literal(names)))
      stored[key_of(r)][name_key_of(r)] = name_rollup_from_row(r);
  }
  std::vector<transform::RollupKey> upserted_keys, gone_keys;
  std::vector<std::string> upserted_kinds, upserted, bucket_keys, bucket_counts, gone_kinds, gone;
  std::vector<int64_t> runs, failed, detected, zeros;
  for (const auto& [key, delta] : deltas)
    for (const auto& [name, d] : delta) {
      transform::NameRollup n = stored[key][name];
      n.merge(d);
      const char* kind = transform::kind_name(name.first);
      if (n.runs <= 0) {
        gone_keys.push_back(key);
        gone_kinds.push_back(kind);
        gone.push_back(name.second);
        continue;
      }
      auto [k, c] = sketch_arrays(n.durations);
      upserted_keys.push_back(key);
      upserted_kinds.push_back(kind);
      upserted.push_back(name.second);
      runs.push_back(n.runs);
      failed.push_back(n.failed);
      detected.push_back(n.detected);
      zeros.push_back(n.durations.zero_count());
      bucket_keys.push_back(std::move(k));
      bucket_counts.push_back(std::move(c));
    }
  if (!gone.empty()) {
    const auto [hours, functions] = key_arrays(gone_keys);
    tx_.exec_params(sql::kDeleteNameRollups, hours, functions, text_array_literal(gone_kinds), text_array_literal(gone));
  }
  if (!upserted.empty()) {
    const auto [hours, functions] = key_arrays(upserted_keys);
    tx_.exec_params(sql::kUpsertNameRollups, hours, functions, text_array_literal(upserted_kinds),
                    text_array_literal(upserted), int_array_literal(runs), int_array_literal(failed),
                    int_array_literal(detected), int_array_literal(zeros), text_array_literal(bucket_keys),
                    text_array_literal(bucket_counts));
  }
}

transform::NameRollupTable RollupStore::read_all_names() {
  transform::NameRollupTable out;
  for (const auto& r : tx_.exec(sql::kReadAllNameRollups)) out[key_of(r)][name_key_of(r)] = name_rollup_from_row(r);
  return out;
}

}  // namespace edpipe::load
