#pragma once
// The rows of the data model as mergeable partial states ("fragments").
//
// A state holds the records seen for one row, each lifecycle step at most once. Two partial
// states of the same row merge by keeping, per step, the record that wins a fixed total order
// (see row_state.cpp), and the min/max of the timestamps. So merge() is commutative,
// associative and idempotent: fragments of a row can be merged in any grouping and order,
// in memory or against the database, and always give the same row.
#include <algorithm>
#include <limits>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "ingest/file_position.h"
#include "ingest/trace_record.h"

namespace edpipe::transform {

constexpr Timestamp kNoFirstTs = std::numeric_limits<Timestamp>::max();  // "no record yet" bounds:
constexpr Timestamp kNoLastTs = std::numeric_limits<Timestamp>::min();   // min/max then just work

template <class Body>
struct Stamped {
  Timestamp ts = 0;
  Body body;
  auto operator<=>(const Stamped&) const = default;
};

struct InvocationState {
  Uuid id;
  std::optional<Stamped<ingest::InvocationStart>> start;
  std::optional<Stamped<ingest::InvocationEnd>> end;
  Timestamp first_ts = kNoFirstTs, last_ts = kNoLastTs;  // over every record of the invocation, children included
  std::optional<ingest::Text> correlation_id;
  bool operator==(const InvocationState&) const = default;
};

struct EventExecutionState {
  Uuid id;
  Uuid invocation_id;
  std::optional<Stamped<ingest::DetectionStart>> detection_start;
  std::optional<Stamped<ingest::DetectionEnd>> detection_end;
  std::optional<Stamped<ingest::HandlerStart>> handler_start;
  std::optional<Stamped<ingest::HandlerEnd>> handler_end;
  Timestamp first_ts = kNoFirstTs, last_ts = kNoLastTs;
  std::optional<ingest::Text> correlation_id;
  bool operator==(const EventExecutionState&) const = default;
};

struct JobExecutionState {
  Uuid id;
  Uuid invocation_id;
  std::optional<Stamped<ingest::JobStart>> start;
  std::optional<Stamped<ingest::JobEnd>> end;
  Timestamp first_ts = kNoFirstTs, last_ts = kNoLastTs;
  std::optional<ingest::Text> correlation_id;
  bool operator==(const JobExecutionState&) const = default;
};

// A job.log line. Its id is derived from its content or its seq (content_hash.h), so a replay
// never duplicates it.
struct JobLogRow {
  Uuid id;
  Uuid invocation_id;
  Timestamp ts = 0;
  ingest::JobLog log;
  uint32_t occurrence = 0;  // without seq: how many identical lines came before it in its load
  std::optional<ingest::Text> correlation_id;
  int64_t rank = 0;  // content_rank(): of two lines with one id (one seq), the lower is kept
  auto operator<=>(const JobLogRow&) const = default;
};

JobLogRow merge(const JobLogRow& a, const JobLogRow& b);
// Of two lines with one id, the one kept: the lower rank, then the lower content.
bool log_wins(const JobLogRow& a, const JobLogRow& b) noexcept;

// In place, on hot paths: `into = merge(into, from)`. The result views the text of both: the
// caller keeps both lenders alive as long as it (as a RowBatch keeps its arenas).
void merge_into(InvocationState& into, const InvocationState& from);
void merge_into(EventExecutionState& into, const EventExecutionState& from);
void merge_into(JobExecutionState& into, const JobExecutionState& from);
// The value form, in which the merge laws are stated (commutative, associative, idempotent).
template <class S>
  requires requires(S& into, const S& from) { merge_into(into, from); }
S merge(const S& a, const S& b) {
  S r = a;
  merge_into(r, b);
  return r;
}

// Every record seen for a row widens its time span and may carry the correlation id (copied
// into `text`, the state's arena, when it is the one kept).
template <class S>
void observe(S& s, Timestamp ts, const std::optional<ingest::Text>& correlation_id, TextArena& text) {
  s.first_ts = std::min(s.first_ts, ts);
  s.last_ts = std::max(s.last_ts, ts);
  if (correlation_id && (!s.correlation_id || *correlation_id < *s.correlation_id))
    s.correlation_id = text.keep(*correlation_id);
}

// Folding one record's lifecycle step into a state (the record's ids must match the state's).
// A step that wins is copied into `text`, the arena of the state's text; a loser is not copied.
void fold_step(InvocationState& s, Timestamp ts, const ingest::InvocationStart& body, TextArena& text);
void fold_step(InvocationState& s, Timestamp ts, const ingest::InvocationEnd& body, TextArena& text);
void fold_step(EventExecutionState& s, Timestamp ts, const ingest::DetectionStart& body, TextArena& text);
void fold_step(EventExecutionState& s, Timestamp ts, const ingest::DetectionEnd& body, TextArena& text);
void fold_step(EventExecutionState& s, Timestamp ts, const ingest::HandlerStart& body, TextArena& text);
void fold_step(EventExecutionState& s, Timestamp ts, const ingest::HandlerEnd& body, TextArena& text);
void fold_step(JobExecutionState& s, Timestamp ts, const ingest::JobStart& body, TextArena& text);
void fold_step(JobExecutionState& s, Timestamp ts, const ingest::JobEnd& body, TextArena& text);

// Every row state views its text and is trivially copyable: handing rows on moves bytes.
static_assert(std::is_trivially_copyable_v<InvocationState> && std::is_trivially_copyable_v<EventExecutionState> &&
              std::is_trivially_copyable_v<JobExecutionState> && std::is_trivially_copyable_v<JobLogRow>);

// Everything the transform hands on: row fragments, ready to merge into what is stored.
struct RowBatch {
  std::vector<InvocationState> invocations;
  std::vector<EventExecutionState> event_executions;
  std::vector<JobExecutionState> job_executions;
  std::vector<JobLogRow> job_logs;
  // The arenas the rows' text lives in: a part split off the batch shares them, and they are
  // released with the last batch that holds them (after its rows are loaded or tallied).
  std::vector<SharedText> text;
  // Tail mode: the read positions these rows complete, saved in the same transaction.
  std::vector<ingest::FilePosition> positions;

  // The rows and text of every part, in order, copied once into room made for all of them
  // (appending part by part would copy each row again at every growth). Positions are not taken.
  static RowBatch concat(std::vector<RowBatch>&& parts);

  bool empty() const {
    return invocations.empty() && event_executions.empty() && job_executions.empty() && job_logs.empty();
  }
  size_t row_count() const {
    return invocations.size() + event_executions.size() + job_executions.size() + job_logs.size();
  }
};

}  // namespace edpipe::transform
