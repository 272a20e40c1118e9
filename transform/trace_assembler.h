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

#include "derive.h"
#include "ingest_batch.h"
#include "row_state.h"

namespace edpipe {

struct AssemblerOptions {
  Timestamp abandon_after = kDefaultAbandonAfter;
  // An ended invocation stays open until no record came for it for this long (event time),
  // so a late duplicate end or log line still finds it in memory.
  Timestamp quiet_after = 60 * kMicrosPerSecond;
};

class TraceAssembler {
 public:
  explicit TraceAssembler(AssemblerOptions options = {});
  ~TraceAssembler();

  // Folds the records in (they are moved from).
  void add(std::vector<TraceRecord>& records);
  // Appends the fragments of every invocation that has ended and gone quiet, or is abandoned.
  void take_ready(RowBatch& out);
  // Appends the fragments of every invocation still open (at the end of the input).
  void take_all(RowBatch& out);

  // The newest ts seen so far: the clock of the abandon rule.
  Timestamp watermark() const noexcept { return watermark_; }
  size_t open_invocations() const noexcept { return open_.size(); }
  const AssemblerOptions& options() const noexcept { return options_; }

 private:
  struct OpenInvocation;
  void hand_on(OpenInvocation& inv, RowBatch& out);

  AssemblerOptions options_;
  Timestamp watermark_ = kNoLastTs;
  std::unordered_map<Uuid, std::unique_ptr<OpenInvocation>, UuidHash> open_;
};

// Gives every log row of one invocation its occurrence number and id. Identical lines are
// numbered in content order, so the numbering does not depend on arrival order.
void number_log_rows(std::vector<JobLogRow>& logs);

}  // namespace edpipe
