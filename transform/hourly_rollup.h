#pragma once
// metrics_hourly: per (UTC hour of the invocation's created_at, source_function).
//
// Everything here is a sum over invocations, so two rollups of disjoint sets of invocations
// merge exactly, and an invocation's old contribution can be taken out before its new one goes
// in (what a load does when a fragment changes a stored invocation). min/max are the only parts
// that cannot be taken out: removing an extreme marks them stale, to be recomputed.
#include <map>
#include <string>
#include <vector>

#include "transform/derive.h"
#include "core/duration_sketch.h"

namespace edpipe::transform {

struct RollupKey {
  Timestamp hour = 0;  // start of the UTC hour
  std::string source_function;
  auto operator<=>(const RollupKey&) const = default;
};

// One job or event execution of an invocation, as name_metrics_hourly counts it.
enum class NameKind : uint8_t { Job, Event };
struct NameRun {
  NameKind kind = NameKind::Job;
  std::string name;
  bool failed = false;    // job: failed; event: its detection or handler failed
  bool detected = false;  // events only
  std::optional<int64_t> duration_ms;  // job: duration_ms; event: handler_duration_ms
};

// What one invocation adds to its hour.
struct InvocationContribution {
  RollupKey key;
  InvocationStatus status = InvocationStatus::Running;
  std::optional<int64_t> duration_ms;
  int64_t events_detected = 0, jobs_run = 0, jobs_succeeded = 0, jobs_failed = 0;
  std::vector<std::string> detected_events;  // one entry per detected event execution
  std::vector<std::string> failed_jobs;      // one entry per failed job execution
  // Every job and event execution, for the per-name rollups (the loads fill it; a dry run's
  // tally, which reports per-function hours only, leaves it empty).
  std::vector<NameRun> runs;
};

struct HourlyRollup {
  int64_t total_invocations = 0;
  int64_t successful_invocations = 0;  // completed
  int64_t failed_invocations = 0;      // failed + abandoned
  int64_t running_invocations = 0;
  int64_t events_detected = 0, jobs_run = 0, jobs_succeeded = 0, jobs_failed = 0;
  int64_t duration_count = 0, duration_sum_ms = 0;
  std::optional<int64_t> min_duration_ms, max_duration_ms;
  bool min_max_stale = false;
  DurationSketch durations;
  // Names and their counts. In memory (a load's deltas, a dry run's tally): every name, exactly.
  // As metrics_hourly stores them (migration 012): the kListedNames most frequent, exactly, and
  // the rest of the hour's count in the *_other fields; name_metrics_hourly keeps every name.
  std::map<std::string, int64_t> detected_events;
  std::map<std::string, int64_t> failed_jobs;
  int64_t detected_events_other = 0, failed_jobs_other = 0;
  static constexpr size_t kListedNames = 100;
  // The listed part of exact counts and the rest's sum: count descending, then name in byte
  // order (as the load's SQL ranks them, COLLATE "C").
  static std::pair<std::map<std::string, int64_t>, int64_t> listed(const std::map<std::string, int64_t>& counts);

  void add(const InvocationContribution& c, int64_t sign = 1);
  // A difference that changes nothing (what a replay produces): every sum zero, nothing counted.
  bool is_zero() const;
  void merge(const HourlyRollup& other);

  std::optional<double> avg_duration_ms() const;
  // As PostgreSQL's percentile_cont(q) over the hour's durations, within 1 % (duration_sketch.h).
  std::optional<double> percentile(double q) const {
    if (min_max_stale) return durations.quantile(q);
    return durations.quantile(q, min_duration_ms, max_duration_ms);
  }
  // The n largest entries, count descending then name.
  static std::vector<std::pair<std::string, int64_t>> top(const std::map<std::string, int64_t>& counts, size_t n);
  // The top 5 as stored in top_detected_events / top_failed_jobs: [{"name":…,"count":…},…].
  static std::string top_json(const std::map<std::string, int64_t>& counts);

  bool operator==(const HourlyRollup&) const = default;
};

using RollupTable = std::map<RollupKey, HourlyRollup>;
void merge_into(RollupTable& into, const RollupTable& from);

// name_metrics_hourly: per (hour and function of the invocation, job or event name). Sums again,
// so a load adds what its invocations contribute now minus what they contributed before, as for
// metrics_hourly; the durations' sketch gives p50 and p95 over any run of hours.
struct NameRollup {
  int64_t runs = 0, failed = 0, detected = 0;
  DurationSketch durations;

  void add(const NameRun& r, int64_t sign = 1);
  void merge(const NameRollup& other, int64_t sign = 1);
  bool is_zero() const;
  bool operator==(const NameRollup&) const = default;
};

using NameRollups = std::map<std::pair<NameKind, std::string>, NameRollup>;  // of one hour and function
using NameRollupTable = std::map<RollupKey, NameRollups>;
// Adds each contribution's executions to its hour's names, with `sign` (-1 takes them out).
void add_name_runs(NameRollupTable& into, const std::vector<InvocationContribution>& contributions, int64_t sign);
// Leaves out the names (and hours) whose change nets to nothing, as a replay's does.
void drop_unchanged(NameRollupTable& delta);
const char* kind_name(NameKind k) noexcept;  // "job", "event": the kind column

}  // namespace edpipe::transform
