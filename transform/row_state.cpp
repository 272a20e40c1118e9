#include "transform/row_state.h"

#include <iterator>

#include "transform/content_hash.h"

namespace edpipe::transform {
namespace {

// The orders that decide which of two records of the same step wins:
//  - starts: the earlier one;
//  - ends: a failed end beats a completed one, then the earlier one (wire format "duplicates").
// A tie is broken by the records' content rank (content_hash.h), as the database breaks it, then
// by the whole record, so the order is total and the choice deterministic. The rank is computed
// only for a tie.
struct Before {
  template <class B>
  bool operator()(bool failed_a, const Stamped<B>& a, bool failed_b, const Stamped<B>& b) const {
    if (failed_a != failed_b) return failed_a;
    if (a.ts != b.ts) return a.ts < b.ts;
    const ContentRank ra = content_rank(a.body), rb = content_rank(b.body);
    if (ra != rb) return ra < rb;
    return a.body < b.body;
  }
};
constexpr auto kStart = [](const auto& a, const auto& b) { return Before{}(false, a, false, b); };
constexpr auto kEnd = [](const auto& a, const auto& b) {
  return Before{}(a.body.status == ingest::Outcome::Failed, a, b.body.status == ingest::Outcome::Failed, b);
};
constexpr auto kErrorEnd = [](const auto& a, const auto& b) {  // detection and handler ends: failed means "has an error"
  return Before{}(a.body.error.has_value(), a, b.body.error.has_value(), b);
};

template <class T, class Less>
void keep_winner(std::optional<T>& into, const std::optional<T>& from, Less before) {
  if (from && (!into || before(*from, *into))) into = from;
}
// A record's step: copied into the state's arena only if it wins.
// The first record of a step (the common case) is written into its place once, not built and
// copied: a body is up to ~270 bytes.
template <class B, class Less>
void keep_winner(std::optional<Stamped<B>>& into, Timestamp ts, const B& body, TextArena& text, Less before) {
  if (into && !before(Stamped<B>{ts, body}, *into)) return;
  Stamped<B>& kept = into.emplace();
  kept.ts = ts;
  kept.body = body;
  ingest::keep_text_in(kept.body, text);
}

void keep_min_text(std::optional<ingest::Text>& into, const std::optional<ingest::Text>& from) {
  if (from && (!into || *from < *into)) into = from;
}

template <class S>
void merge_times(S& into, const S& from) {
  into.first_ts = std::min(into.first_ts, from.first_ts);
  into.last_ts = std::max(into.last_ts, from.last_ts);
  keep_min_text(into.correlation_id, from.correlation_id);
}

}  // namespace

void merge_into(InvocationState& a, const InvocationState& b) {
  keep_winner(a.start, b.start, kStart);
  keep_winner(a.end, b.end, kEnd);
  merge_times(a, b);
}

void merge_into(EventExecutionState& a, const EventExecutionState& b) {
  a.invocation_id = std::min(a.invocation_id, b.invocation_id);
  keep_winner(a.detection_start, b.detection_start, kStart);
  keep_winner(a.detection_end, b.detection_end, kErrorEnd);
  keep_winner(a.handler_start, b.handler_start, kStart);
  keep_winner(a.handler_end, b.handler_end, kErrorEnd);
  merge_times(a, b);
}

void merge_into(JobExecutionState& a, const JobExecutionState& b) {
  a.invocation_id = std::min(a.invocation_id, b.invocation_id);
  keep_winner(a.start, b.start, kStart);
  keep_winner(a.end, b.end, kEnd);
  merge_times(a, b);
}

bool log_wins(const JobLogRow& a, const JobLogRow& b) noexcept {
  if (a.rank != b.rank) return a.rank < b.rank;
  return a < b;
}
JobLogRow merge(const JobLogRow& a, const JobLogRow& b) { return log_wins(b, a) ? b : a; }

RowBatch RowBatch::concat(std::vector<RowBatch>&& parts) {
  if (parts.size() == 1) {
    RowBatch only = std::move(parts[0]);
    only.positions.clear();
    parts.clear();
    return only;
  }
  RowBatch all;
  auto join = [&](auto member) {
    size_t n = 0;
    for (const auto& p : parts) n += (p.*member).size();
    (all.*member).reserve(n);
    for (auto& p : parts)
      (all.*member).insert((all.*member).end(), std::make_move_iterator((p.*member).begin()),
                           std::make_move_iterator((p.*member).end()));
  };
  join(&RowBatch::invocations);
  join(&RowBatch::event_executions);
  join(&RowBatch::job_executions);
  join(&RowBatch::job_logs);
  join(&RowBatch::text);
  parts.clear();
  return all;
}

void fold_step(InvocationState& s, Timestamp ts, const ingest::InvocationStart& b, TextArena& text) {
  keep_winner(s.start, ts, b, text, kStart);
}
void fold_step(InvocationState& s, Timestamp ts, const ingest::InvocationEnd& b, TextArena& text) {
  keep_winner(s.end, ts, b, text, kEnd);
}
void fold_step(EventExecutionState& s, Timestamp ts, const ingest::DetectionStart& b, TextArena& text) {
  keep_winner(s.detection_start, ts, b, text, kStart);
}
void fold_step(EventExecutionState& s, Timestamp ts, const ingest::DetectionEnd& b, TextArena& text) {
  keep_winner(s.detection_end, ts, b, text, kErrorEnd);
}
void fold_step(EventExecutionState& s, Timestamp ts, const ingest::HandlerStart& b, TextArena& text) {
  keep_winner(s.handler_start, ts, b, text, kStart);
}
void fold_step(EventExecutionState& s, Timestamp ts, const ingest::HandlerEnd& b, TextArena& text) {
  keep_winner(s.handler_end, ts, b, text, kErrorEnd);
}
void fold_step(JobExecutionState& s, Timestamp ts, const ingest::JobStart& b, TextArena& text) {
  keep_winner(s.start, ts, b, text, kStart);
}
void fold_step(JobExecutionState& s, Timestamp ts, const ingest::JobEnd& b, TextArena& text) {
  keep_winner(s.end, ts, b, text, kEnd);
}

}  // namespace edpipe::transform
