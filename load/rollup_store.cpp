#include "load/rollup_store.h"

#include <simdjson.h>

#include <cstdio>
#include <stdexcept>

#include "core/json_text.h"
#include "core/sql_array.h"
#include "load/load_sql.h"

namespace edpipe::load {
namespace {

std::vector<int64_t> parse_int_array(const pqxx::field& f) {
  std::vector<int64_t> out;
  auto parser = f.as_array();
  for (auto item = parser.get_next(); item.first != pqxx::array_parser::done; item = parser.get_next())
    if (item.first == pqxx::array_parser::string_value) out.push_back(std::stoll(item.second));
  return out;
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

}  // namespace

transform::HourlyRollup RollupStore::read_for_update(const transform::RollupKey& key) {
  auto res = tx_.exec_params(sql::kReadRollup, format_rfc3339(key.hour), key.source_function);
  if (res.empty()) return {};
  return rollup_from_row(res[0]);
}

void RollupStore::add_delta(const transform::RollupKey& key, const transform::HourlyRollup& delta, const std::vector<int64_t>& removed) {
  transform::HourlyRollup h = read_for_update(key);
  bool extreme_left = false;
  for (int64_t d : removed) extreme_left = extreme_left || d == h.min_duration_ms || d == h.max_duration_ms;
  h.merge(delta);
  const std::string hour = format_rfc3339(key.hour);
  if (h.total_invocations <= 0) {
    tx_.exec_params(sql::kDeleteRollup, hour, key.source_function);
    return;
  }
  if (extreme_left) {
    // An extreme may have left the hour: ask the rows (one hour of one function, indexed).
    auto mm = tx_.exec_params(sql::kMinMaxOfHour, hour, key.source_function);
    h.min_duration_ms = mm[0][0].is_null() ? std::nullopt : std::optional<int64_t>(mm[0][0].as<int64_t>());
    h.max_duration_ms = mm[0][1].is_null() ? std::nullopt : std::optional<int64_t>(mm[0][1].as<int64_t>());
  }
  h.min_max_stale = false;  // right now: read back, or no extreme left
  // The listed names, from the per-name rows this transaction has already brought up to date:
  // an hour's lists stay bounded however many names it has.
  h.detected_events.clear();
  h.failed_jobs.clear();
  h.detected_events_other = h.failed_jobs_other = 0;
  for (const auto& r : tx_.exec_params(sql::kListedNames, hour, key.source_function,
                                       static_cast<int64_t>(transform::HourlyRollup::kListedNames))) {
    const bool event = r[0].as<std::string>() == "event";
    const int64_t n = r[2].as<int64_t>();
    if (r[1].is_null()) (event ? h.detected_events_other : h.failed_jobs_other) = n;
    else (event ? h.detected_events : h.failed_jobs)[r[1].as<std::string>()] = n;
  }
  const auto [keys, counts] = sketch_arrays(h.durations);
  tx_.exec_params(sql::kUpsertRollup, hour, key.source_function, h.total_invocations, h.successful_invocations,
                  h.failed_invocations, h.running_invocations, h.events_detected, h.jobs_run, h.jobs_succeeded,
                  h.jobs_failed, number(h.avg_duration_ms()), number(h.min_duration_ms), number(h.max_duration_ms),
                  number(h.percentile(0.50)), number(h.percentile(0.95)), number(h.percentile(0.99)),
                  transform::HourlyRollup::top_json(h.detected_events), transform::HourlyRollup::top_json(h.failed_jobs), h.duration_count, h.duration_sum_ms,
                  h.durations.zero_count(), keys, counts, json_counts(h.detected_events),
                  json_counts(h.failed_jobs), h.detected_events_other, h.failed_jobs_other);
}

transform::RollupTable RollupStore::read_all() {
  transform::RollupTable out;
  for (const auto& r : tx_.exec(sql::kReadAllRollups))
    out[transform::RollupKey{r["hour_epoch"].as<int64_t>() * kMicrosPerSecond, r["source_function"].as<std::string>()}] =
        rollup_from_row(r);
  return out;
}

void RollupStore::add_name_deltas(const transform::RollupKey& key, const transform::NameRollups& delta) {
  const std::string hour = format_rfc3339(key.hour);
  std::vector<std::string> names;
  for (const auto& [name, d] : delta) names.push_back(name.second);
  transform::NameRollups stored;
  for (const auto& r : tx_.exec_params(sql::kReadNameRollups, hour, key.source_function, text_array_literal(names)))
    stored[name_key_of(r)] = name_rollup_from_row(r);
  // Every name of the hour in one statement each for the upserts and the deletes (an hour of a
  // busy function has hundreds of names: a statement each cost a round trip each).
  std::vector<std::string> kinds, upserted, keys, counts, gone_kinds, gone;
  std::vector<int64_t> runs, failed, detected, zeros;
  for (const auto& [name, d] : delta) {
    transform::NameRollup n = stored[name];
    n.merge(d);
    const char* kind = transform::kind_name(name.first);
    if (n.runs <= 0) {
      gone_kinds.push_back(kind);
      gone.push_back(name.second);
      continue;
    }
    const auto [k, c] = sketch_arrays(n.durations);
    kinds.push_back(kind);
    upserted.push_back(name.second);
    runs.push_back(n.runs);
    failed.push_back(n.failed);
    detected.push_back(n.detected);
    zeros.push_back(n.durations.zero_count());
    keys.push_back(k);
    counts.push_back(c);
  }
  if (!gone.empty())
    tx_.exec_params(sql::kDeleteNameRollups, hour, key.source_function, text_array_literal(gone_kinds), text_array_literal(gone));
  if (!upserted.empty())
    tx_.exec_params(sql::kUpsertNameRollups, hour, key.source_function, text_array_literal(kinds), text_array_literal(upserted),
                    int_array_literal(runs), int_array_literal(failed), int_array_literal(detected), int_array_literal(zeros),
                    text_array_literal(keys), text_array_literal(counts));
}

transform::NameRollupTable RollupStore::read_all_names() {
  transform::NameRollupTable out;
  for (const auto& r : tx_.exec(sql::kReadAllNameRollups))
    out[transform::RollupKey{r["hour_epoch"].as<int64_t>() * kMicrosPerSecond, r["source_function"].as<std::string>()}]
       [name_key_of(r)] = name_rollup_from_row(r);
  return out;
}

}  // namespace edpipe::load
