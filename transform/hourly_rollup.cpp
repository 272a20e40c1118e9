#include "transform/hourly_rollup.h"

#include <algorithm>

#include "core/json_text.h"

namespace edpipe::transform {
namespace {
void bump(std::map<std::string, int64_t>& counts, const std::string& name, int64_t by) {
  auto it = counts.try_emplace(name, 0).first;
  it->second += by;
  if (it->second == 0) counts.erase(it);
}
}  // namespace

void HourlyRollup::add(const InvocationContribution& c, int64_t sign) {
  total_invocations += sign;
  switch (c.status) {
    case InvocationStatus::Completed: successful_invocations += sign; break;
    case InvocationStatus::Failed:
    case InvocationStatus::Abandoned: failed_invocations += sign; break;
    case InvocationStatus::Running: running_invocations += sign; break;
  }
  events_detected += sign * c.events_detected;
  jobs_run += sign * c.jobs_run;
  jobs_succeeded += sign * c.jobs_succeeded;
  jobs_failed += sign * c.jobs_failed;
  if (c.duration_ms) {
    const int64_t d = *c.duration_ms;
    duration_count += sign;
    duration_sum_ms += sign * d;
    durations.add(static_cast<double>(d), sign);
    if (sign > 0) {
      min_duration_ms = min_duration_ms ? std::min(*min_duration_ms, d) : d;
      max_duration_ms = max_duration_ms ? std::max(*max_duration_ms, d) : d;
    } else if (d == min_duration_ms || d == max_duration_ms) {
      min_max_stale = true;
    }
  }
  for (const auto& e : c.detected_events) bump(detected_events, e, sign);
  for (const auto& j : c.failed_jobs) bump(failed_jobs, j, sign);
}

void HourlyRollup::merge(const HourlyRollup& o) {
  total_invocations += o.total_invocations;
  successful_invocations += o.successful_invocations;
  failed_invocations += o.failed_invocations;
  running_invocations += o.running_invocations;
  events_detected += o.events_detected;
  jobs_run += o.jobs_run;
  jobs_succeeded += o.jobs_succeeded;
  jobs_failed += o.jobs_failed;
  duration_count += o.duration_count;
  duration_sum_ms += o.duration_sum_ms;
  if (o.min_duration_ms) min_duration_ms = min_duration_ms ? std::min(*min_duration_ms, *o.min_duration_ms) : o.min_duration_ms;
  if (o.max_duration_ms) max_duration_ms = max_duration_ms ? std::max(*max_duration_ms, *o.max_duration_ms) : o.max_duration_ms;
  min_max_stale = min_max_stale || o.min_max_stale;
  durations.merge(o.durations);
  for (const auto& [k, v] : o.detected_events) bump(detected_events, k, v);
  for (const auto& [k, v] : o.failed_jobs) bump(failed_jobs, k, v);
  detected_events_other += o.detected_events_other;
  failed_jobs_other += o.failed_jobs_other;
}

std::pair<std::map<std::string, int64_t>, int64_t> HourlyRollup::listed(const std::map<std::string, int64_t>& counts) {
  std::map<std::string, int64_t> positive;
  for (const auto& [k, v] : counts)
    if (v > 0) positive.emplace(k, v);
  int64_t rest = 0;
  std::map<std::string, int64_t> out;
  size_t i = 0;
  for (const auto& [name, n] : top(positive, positive.size())) {
    if (i++ < kListedNames) out.emplace(name, n);
    else rest += n;
  }
  return {std::move(out), rest};
}

bool HourlyRollup::is_zero() const {
  return total_invocations == 0 && successful_invocations == 0 && failed_invocations == 0 && running_invocations == 0 &&
         events_detected == 0 && jobs_run == 0 && jobs_succeeded == 0 && jobs_failed == 0 && duration_count == 0 &&
         duration_sum_ms == 0 && durations.count() == 0 && durations.buckets().empty() && durations.zero_count() == 0 &&
         detected_events.empty() && failed_jobs.empty() && detected_events_other == 0 && failed_jobs_other == 0;
}

std::optional<double> HourlyRollup::avg_duration_ms() const {
  if (duration_count <= 0) return std::nullopt;
  return static_cast<double>(duration_sum_ms) / static_cast<double>(duration_count);
}

std::vector<std::pair<std::string, int64_t>> HourlyRollup::top(const std::map<std::string, int64_t>& counts, size_t n) {
  std::vector<std::pair<std::string, int64_t>> v(counts.begin(), counts.end());
  std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  if (v.size() > n) v.resize(n);
  return v;
}

void merge_into(RollupTable& into, const RollupTable& from) {
  for (const auto& [k, r] : from) into[k].merge(r);
}

std::string HourlyRollup::top_json(const std::map<std::string, int64_t>& counts) {
  std::string out = "[";
  for (const auto& [name, n] : top(counts, 5)) {
    if (out.size() > 1) out += ',';
    out += "{\"name\":";
    append_json_string(out, name);
    out += ",\"count\":" + std::to_string(n) + "}";
  }
  return out + "]";
}

void NameRollup::add(const NameRun& r, int64_t sign) {
  runs += sign;
  if (r.failed) failed += sign;
  if (r.detected) detected += sign;
  if (r.duration_ms) durations.add(static_cast<double>(*r.duration_ms), sign);
}

void NameRollup::merge(const NameRollup& o, int64_t sign) {
  runs += sign * o.runs;
  failed += sign * o.failed;
  detected += sign * o.detected;
  durations.merge(o.durations, sign);
}

bool NameRollup::is_zero() const {
  return runs == 0 && failed == 0 && detected == 0 && durations.count() == 0 && durations.zero_count() == 0 &&
         durations.buckets().empty();
}

void add_name_runs(NameRollupTable& into, const std::vector<InvocationContribution>& contributions, int64_t sign) {
  for (const auto& c : contributions)
    for (const auto& r : c.runs) into[c.key][{r.kind, r.name}].add(r, sign);
}

void drop_unchanged(NameRollupTable& delta) {
  for (auto it = delta.begin(); it != delta.end();) {
    std::erase_if(it->second, [](const auto& kv) { return kv.second.is_zero(); });
    it = it->second.empty() ? delta.erase(it) : std::next(it);
  }
}

const char* kind_name(NameKind k) noexcept { return k == NameKind::Job ? "job" : "event"; }

}  // namespace edpipe::transform
