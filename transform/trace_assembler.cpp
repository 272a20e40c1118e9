#include "transform/trace_assembler.h"

#include <algorithm>
#include <tuple>

#include "transform/content_hash.h"

namespace edpipe::transform {

// One invocation's rows while it is open. Children are few per invocation (a handful of events
// and jobs), so they sit in vectors; an index is built only when an invocation grows large.
// Its row states view `text`, which goes with them when they are handed on.
struct TraceAssembler::OpenInvocation {
  TextArena text{kFirstTextBlock};
  InvocationState state;
  std::vector<EventExecutionState> events;
  std::vector<JobExecutionState> jobs;
  std::vector<JobLogRow> logs;
  // The children's ids side by side, in the order of their states: a record's child is found
  // reading a few cache lines, not one line of every other child's state (~400 bytes each). An
  // invocation's state is rarely in the cache when its next record comes.
  std::vector<Uuid> event_ids, job_ids;
  std::unordered_map<Uuid, size_t, UuidHash> event_index, job_index;

  template <class S>
  static S& child(std::vector<S>& rows, std::vector<Uuid>& ids, std::unordered_map<Uuid, size_t, UuidHash>& index,
                  const Uuid& id, const Uuid& invocation_id) {
    constexpr size_t kLinearLimit = 16;
    if (ids.size() <= kLinearLimit) {
      for (size_t i = 0; i < ids.size(); ++i)
        if (ids[i] == id) return rows[i];
    } else {
      if (index.empty())
        for (size_t i = 0; i < ids.size(); ++i) index.emplace(ids[i], i);
      if (auto it = index.find(id); it != index.end()) return rows[it->second];
      index.emplace(id, rows.size());
    }
    ids.push_back(id);
    S& s = rows.emplace_back();
    s.id = id;
    s.invocation_id = invocation_id;
    return s;
  }
  EventExecutionState& event(const Uuid& id) { return child(events, event_ids, event_index, id, state.id); }
  JobExecutionState& job(const Uuid& id) { return child(jobs, job_ids, job_index, id, state.id); }

  // Empty again, for the next invocation: the vectors keep their room unless it grew large.
  void reset() {
    constexpr size_t kKeptRoom = 64;
    state = {};
    auto empty = [](auto& rows) {
      rows.clear();
      if (rows.capacity() > kKeptRoom) {
        std::decay_t<decltype(rows)> typical;
        typical.reserve(kTypicalChildren);
        rows.swap(typical);
      }
    };
    empty(events);
    empty(jobs);
    empty(logs);
    empty(event_ids);
    empty(job_ids);
    event_index.clear();
    job_index.clear();
    text = TextArena(kFirstTextBlock);
  }
  static constexpr size_t kFirstTextBlock = 2048;
  // Room for a typical invocation's children: growing a vector copies every row state
  // (~400 bytes each) it holds.
  static constexpr size_t kTypicalChildren = 8;
};

std::unique_ptr<TraceAssembler::OpenInvocation> TraceAssembler::new_invocation() {
  if (spare_.empty()) {
    auto inv = std::make_unique<OpenInvocation>();
    inv->events.reserve(OpenInvocation::kTypicalChildren);
    inv->jobs.reserve(OpenInvocation::kTypicalChildren);
    inv->logs.reserve(OpenInvocation::kTypicalChildren);
    return inv;
  }
  auto inv = std::move(spare_.back());
  spare_.pop_back();
  return inv;
}

TraceAssembler::TraceAssembler(AssemblerOptions options) : options_(options) {}
TraceAssembler::~TraceAssembler() = default;

void TraceAssembler::add(const std::vector<ingest::TraceRecord>& records) {
  for (const ingest::TraceRecord& r : records) {
    if (r.ts < retention_horizon_) {
      ++beyond_retention_;
      continue;
    }
    watermark_ = std::max(watermark_, r.ts);
    Open& open = open_[r.invocation_id];
    if (!open.inv) {
      open.inv = new_invocation();
      open.inv->state.id = r.invocation_id;
    }
    OpenInvocation& inv = *open.inv;
    observe(inv.state, r.ts, r.correlation_id, inv.text);
    const Timestamp ts = r.ts;
    auto on_event = [&](const Uuid& id) -> EventExecutionState& {
      auto& e = inv.event(id);
      observe(e, ts, r.correlation_id, inv.text);
      return e;
    };
    auto on_job = [&](const Uuid& id) -> JobExecutionState& {
      auto& j = inv.job(id);
      observe(j, ts, r.correlation_id, inv.text);
      return j;
    };
    std::visit(
        [&](const auto& body) {
          using B = std::decay_t<decltype(body)>;
          if constexpr (std::is_same_v<B, ingest::InvocationStart> || std::is_same_v<B, ingest::InvocationEnd>) {
            fold_step(inv.state, ts, body, inv.text);
          } else if constexpr (std::is_same_v<B, ingest::JobStart> || std::is_same_v<B, ingest::JobEnd>) {
            fold_step(on_job(body.job_execution_id), ts, body, inv.text);
          } else if constexpr (std::is_same_v<B, ingest::JobLog>) {
            JobLogRow& row = inv.logs.emplace_back();
            row.invocation_id = r.invocation_id;
            row.ts = ts;
            row.log = ingest::kept_in(body, inv.text);
            row.correlation_id = inv.text.keep(r.correlation_id);
          } else {  // the four event steps
            fold_step(on_event(body.event_execution_id), ts, body, inv.text);
          }
        },
        r.body);
    // Any record may bring its invocation's ready time forward: a first record that is already
    // old, an end (when quiet_after is shorter than abandon_after). Taking the minimum at every
    // record keeps next_ready_check_ a lower bound.
    next_ready_check_ = std::min(next_ready_check_, ready_at(inv.state.end.has_value(), inv.state.last_ts));
    open.last_ts = inv.state.last_ts;
    open.ended = inv.state.end.has_value();
  }
}

Timestamp TraceAssembler::ready_at(bool ended, Timestamp last_ts) const noexcept {
  const Timestamp wait = ended ? options_.quiet_after : options_.abandon_after;
  if (last_ts > kNoFirstTs - wait) return kNoFirstTs;  // never, within the range of a ts
  return last_ts + wait;
}

uint64_t number_log_rows(std::vector<JobLogRow>& logs) {
  // Lines without a seq are numbered among the lines of the same identity (everything stored
  // about them): the identity waits in `id` until the number is known.
  for (auto& row : logs) {
    row.rank = content_rank(row);
    if (!row.log.seq)
      row.id = log_identity(row.invocation_id, row.log.job_execution_id, row.ts, row.log.level, row.log.message,
                            row.log.data, row.log.source);
  }
  // Lines with a seq first, by seq: of two with one seq the lower rank stays. The rest by ts and
  // identity, so that identical lines sit side by side, then by the rest of their content: the
  // numbering does not depend on arrival. ts comes first because it almost always settles it.
  auto content = [](const JobLogRow& r) { return std::tie(r.invocation_id, r.log, r.correlation_id); };
  std::sort(logs.begin(), logs.end(), [&](const JobLogRow& a, const JobLogRow& b) {
    if (a.log.seq.has_value() != b.log.seq.has_value()) return a.log.seq.has_value();
    if (a.log.seq) return *a.log.seq != *b.log.seq ? *a.log.seq < *b.log.seq : log_wins(a, b);
    if (a.ts != b.ts) return a.ts < b.ts;
    if (a.id != b.id) return a.id < b.id;
    return content(a) < content(b);
  });
  uint64_t conflicts = 0;
  size_t kept = 0;
  Uuid prev_identity;
  for (size_t i = 0; i < logs.size(); ++i) {
    JobLogRow& row = logs[i];
    const JobLogRow* prev = kept ? &logs[kept - 1] : nullptr;
    if (row.log.seq) {
      if (prev && prev->log.seq == row.log.seq) {  // a replayed line, or a conflict: the first stays
        if (prev->rank != row.rank || prev->ts != row.ts || content(*prev) != content(row)) ++conflicts;
        continue;
      }
      row.occurrence = 0;
      row.id = log_row_id_by_seq(row.invocation_id, *row.log.seq);
    } else {
      const Uuid identity = row.id;
      const bool same = prev && !prev->log.seq && identity == prev_identity;
      row.occurrence = same ? prev->occurrence + 1 : 0;
      row.id = log_row_id(identity, row.occurrence);
      prev_identity = identity;
    }
    if (kept != i) logs[kept] = std::move(row);
    ++kept;
  }
  logs.resize(kept);
  return conflicts;
}

void TraceAssembler::hand_on(OpenInvocation& inv, RowBatch& out, TextArena& text) {
  out.invocations.push_back(inv.state);
  out.event_executions.insert(out.event_executions.end(), inv.events.begin(), inv.events.end());
  out.job_executions.insert(out.job_executions.end(), inv.jobs.begin(), inv.jobs.end());
  log_conflicts_ += number_log_rows(inv.logs);
  out.job_logs.insert(out.job_logs.end(), inv.logs.begin(), inv.logs.end());
  text.absorb(std::move(inv.text));
}

// Hands on invocations taken out of the open set, in the order given, with their text as one
// arena. Room is made first: a vector grown one push at a time copies each row several times.
void TraceAssembler::hand_on_all(std::vector<std::unique_ptr<OpenInvocation>>& invocations, RowBatch& out) {
  size_t events = 0, jobs = 0, logs = 0;
  for (const auto& inv : invocations) {
    events += inv->events.size();
    jobs += inv->jobs.size();
    logs += inv->logs.size();
  }
  out.invocations.reserve(out.invocations.size() + invocations.size());
  out.event_executions.reserve(out.event_executions.size() + events);
  out.job_executions.reserve(out.job_executions.size() + jobs);
  out.job_logs.reserve(out.job_logs.size() + logs);
  TextArena text;
  for (auto& inv : invocations) hand_on(*inv, out, text);
  if (!text.empty()) out.text.push_back(std::make_shared<const TextArena>(std::move(text)));
  // Their rows and text are handed on: the shells are used again, up to a bounded number.
  const size_t keep = std::max<size_t>(256, open_.size() / 4);
  for (auto& inv : invocations) {
    if (spare_.size() >= keep) break;
    inv->reset();
    spare_.push_back(std::move(inv));
  }
}

void TraceAssembler::take_ready(RowBatch& out) {
  if (watermark_ != kNoLastTs && watermark_ >= next_ready_check_) {
    const AbandonRule rule{watermark_, options_.abandon_after};
    std::vector<std::unique_ptr<OpenInvocation>> ready;
    next_ready_check_ = kNoFirstTs;
    for (auto it = open_.begin(); it != open_.end();) {
      const Open& o = it->second;
      const bool quiet_end = o.ended && o.last_ts <= watermark_ - options_.quiet_after;
      if (quiet_end || rule.is_abandoned(o.ended, o.last_ts)) {
        ready.push_back(std::move(it->second.inv));
        it = open_.erase(it);
      } else {
        next_ready_check_ = std::min(next_ready_check_, ready_at(o.ended, o.last_ts));
        ++it;
      }
    }
    hand_on_all(ready, out);
  }
  if (open_.size() <= options_.max_open) return;
  // Over the limit: hand on the least recently active down to 90 % of it, so that the
  // selection (linear) runs once per many records, not at every one.
  const size_t keep = options_.max_open - options_.max_open / 10;
  std::vector<std::pair<Timestamp, Uuid>> by_activity;
  by_activity.reserve(open_.size());
  for (const auto& [id, o] : open_) by_activity.emplace_back(o.last_ts, id);
  const size_t evict = open_.size() - keep;
  std::nth_element(by_activity.begin(), by_activity.begin() + static_cast<std::ptrdiff_t>(evict - 1),
                   by_activity.end());
  std::sort(by_activity.begin(), by_activity.begin() + static_cast<std::ptrdiff_t>(evict));
  std::vector<std::unique_ptr<OpenInvocation>> least_active;
  least_active.reserve(evict);
  for (size_t i = 0; i < evict; ++i) {
    auto it = open_.find(by_activity[i].second);
    least_active.push_back(std::move(it->second.inv));
    open_.erase(it);
  }
  hand_on_all(least_active, out);
  handed_on_early_ += evict;
}

void TraceAssembler::take_all(RowBatch& out) {
  // Sorted by id: the output order does not depend on hash-table layout.
  std::vector<std::unique_ptr<OpenInvocation>> all;
  all.reserve(open_.size());
  for (auto& [id, o] : open_) all.push_back(std::move(o.inv));
  open_.clear();
  next_ready_check_ = kNoFirstTs;
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a->state.id < b->state.id; });
  hand_on_all(all, out);
}

}  // namespace edpipe::transform
