#pragma once
// The transform stage: trace records in, row fragments out.
//
// Records are folded into the state of their open invocation. An invocation is handed on (as
// fragments of its rows, its detail dropped from memory) once it has ended and gone quiet, or
// is abandoned; records that come for it later form a new fragment, which merges exactly with
// what was handed on before (row_state.h). So the rows do not depend on record order or on how
// records are spread over files and batches.
#include <memory>
#include <unordered_map>
#include <vector>

#include "ingest/ingest_batch.h"
#include "transform/derive.h"
#include "transform/row_state.h"

namespace edpipe::transform {

// An open invocation of a realistic detector (6 events, 5 jobs, 7 log lines) holds ~10 KB:
// ~100 MB at the default limit.
constexpr size_t kDefaultMaxOpenInvocations = 10000;

struct AssemblerOptions {
  Timestamp abandon_after = kDefaultAbandonAfter;
  // An ended invocation stays open until no record came for it for this long (event time),
  // so a late duplicate end or log line still finds it in memory.
  Timestamp quiet_after = 60 * kMicrosPerSecond;
  // Past this many open invocations, the least recently active are handed on as they stand
  // (running) and leave memory; their later records merge exactly as fragments.
  size_t max_open = kDefaultMaxOpenInvocations;
};

class TraceAssembler {
 public:
  explicit TraceAssembler(AssemblerOptions options = {});
  ~TraceAssembler();

  // Folds the records in; the text it keeps is copied out of their batch.
  void add(const std::vector<ingest::TraceRecord>& records);
  // Appends the fragments of every invocation that has ended and gone quiet, or is abandoned,
  // and of the least recently active ones past `max_open`.
  void take_ready(RowBatch& out);
  // Appends the fragments of every invocation still open (at the end of the input).
  void take_all(RowBatch& out);

  // The newest ts seen so far: the clock of the abandon rule.
  Timestamp watermark() const noexcept { return watermark_; }
  size_t open_invocations() const noexcept { return open_.size(); }
  // Invocations handed on early because more than max_open were open.
  uint64_t handed_on_early() const noexcept { return handed_on_early_; }
  // Log lines dropped because another line of their invocation had the same seq and other content.
  uint64_t log_conflicts() const noexcept { return log_conflicts_; }
  // Retention: records older than `horizon` are left out from now on (and counted), so that a
  // late record never changes anything behind the horizon, not even an invocation still held.
  // It only moves forward.
  void set_retention_horizon(Timestamp horizon) noexcept {
    retention_horizon_ = retention_horizon_ == kNoLastTs ? horizon : std::max(retention_horizon_, horizon);
  }
  uint64_t beyond_retention() const noexcept { return beyond_retention_; }
  const AssemblerOptions& options() const noexcept { return options_; }

 private:
  struct OpenInvocation;
  std::unique_ptr<OpenInvocation> new_invocation();
  void hand_on(OpenInvocation& inv, RowBatch& out, TextArena& text);
  void hand_on_all(std::vector<std::unique_ptr<OpenInvocation>>& invocations, RowBatch& out);
  // The watermark at which this invocation turns ready (ended and quiet, or abandoned) unless
  // another record comes for it.
  Timestamp ready_at(bool ended, Timestamp last_ts) const noexcept;

  AssemblerOptions options_;
  Timestamp watermark_ = kNoLastTs;
  uint64_t handed_on_early_ = 0;
  uint64_t log_conflicts_ = 0;
  Timestamp retention_horizon_ = kNoLastTs;  // none
  uint64_t beyond_retention_ = 0;
  // No open invocation can be ready before the watermark reaches this: take_ready() looks at
  // them only then, not at every batch (with 10,000 open, a look costs ~1 ms).
  Timestamp next_ready_check_ = kNoFirstTs;
  // An open invocation, and what the ready rules read of it (kept beside it at every record):
  // take_ready() looks at every open invocation, and their states are rarely in the cache.
  struct Open {
    std::unique_ptr<OpenInvocation> inv;
    Timestamp last_ts = kNoLastTs;
    bool ended = false;
  };
  std::unordered_map<Uuid, Open, UuidHash> open_;
  // Invocations handed on, emptied: their vectors' room is used again (no allocation per invocation).
  std::vector<std::unique_ptr<OpenInvocation>> spare_;
};

// Gives every log row of one invocation its rank, occurrence number and id. Lines with one seq
// become one (the lower rank stays); the number of those that differed is returned. Identical
// lines without seq are numbered in content order, so the numbering does not depend on arrival.
uint64_t number_log_rows(std::vector<JobLogRow>& logs);

}  // namespace edpipe::transform
