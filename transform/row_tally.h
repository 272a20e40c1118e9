#pragma once
// What a dry run reports: the rows a load would leave in the database, counted.
//
// It merges row fragments by id the way the database does, but keeps per row only what the
// counts and rollups need (a small fixed-size entry; names interned), so a dry run over a
// large archive stays small. Statuses are derived at the end against the final watermark.
#include <array>
#include <string>
#include <unordered_map>
#include <vector>

#include "transform/derive.h"
#include "transform/hourly_rollup.h"
#include "transform/row_state.h"
#include "transform/uuid_map.h"

namespace edpipe::transform {

struct TallyResult {
  uint64_t invocations = 0, event_executions = 0, job_executions = 0, job_logs = 0;
  std::array<uint64_t, kInvocationStatusCount> invocations_by_status{};
  std::array<uint64_t, kEventStatusCount> events_by_status{};
  std::array<uint64_t, kJobStatusCount> jobs_by_status{};
  uint64_t chained_invocations = 0;  // invocations with a source_job_id
  uint64_t log_conflicts = 0;        // log lines of one seq with different content, across hand-ons
  RollupTable rollups;
  uint64_t hourly_rows = 0;          // metrics_hourly rows in all (rollups may hold only some)
  // The row counts are PostgreSQL's estimates (pg_class.reltuples) and the statuses were not
  // counted: a database too large to count at the end of every load.
  bool rows_estimated = false;
};

class RowTally {
 public:
  void add(const RowBatch& batch);
  TallyResult finish(const AbandonRule& rule) const;

 private:
  struct InvocationEntry {
    bool has_start = false, has_end = false, chained = false;
    ingest::Outcome end_status = ingest::Outcome::Completed;
    uint32_t function = 0;
    Timestamp start_ts = 0, end_ts = 0;
    int64_t end_duration_ms = -1;  // -1: the end record gave none
    int64_t start_rank = 0, end_rank = 0;
    Timestamp first_ts = kNoFirstTs, last_ts = kNoLastTs;
  };
  // Each lifecycle step's winner, by the orders of row_state.cpp, reduced to what the counts
  // and the rollups' names need, and to the part of those orders that decides them: two
  // fragments of a row give the same entry in either order, as merge() gives the same state.
  // (A handler step's name and time decide nothing counted: only its presence and failure.)
  struct EventEntry {
    uint32_t invocation = 0;
    uint32_t detection_start_name = 0, detection_end_name = 0;
    bool has_detection_start = false, has_detection_end = false, has_handler_start = false, has_handler_end = false;
    bool detection_error = false, detected = false, handler_error = false;
    Timestamp detection_start_ts = 0, detection_end_ts = 0;
    int64_t detection_start_rank = 0, detection_end_rank = 0;
    // The name of a detected event (the rollups' top events): as event_name() picks it.
    uint32_t name() const { return has_detection_start ? detection_start_name : detection_end_name; }
  };
  struct JobEntry {
    uint32_t invocation = 0, start_name = 0, end_name = 0;
    bool has_start = false, has_end = false;
    ingest::Outcome end_status = ingest::Outcome::Completed;
    Timestamp start_ts = 0, end_ts = 0;
    int64_t start_rank = 0, end_rank = 0;
  };

  void add(const InvocationState& s);
  void add(const EventExecutionState& s);
  void add(const JobExecutionState& s);
  void add(const JobLogRow& l);
  uint32_t invocation_index(const Uuid& id);
  void adopt_parent(uint32_t& parent, bool inserted, const Uuid& invocation_id);
  uint32_t intern(std::string_view name);

  UuidMap<uint32_t> invocation_ids_;  // an invocation's index is its key's insertion number
  std::vector<InvocationEntry> invocations_;
  UuidMap<EventEntry> events_;
  UuidMap<JobEntry> jobs_;
  UuidMap<int64_t> logs_;  // the kept line's rank
  uint64_t log_conflicts_ = 0;
  std::vector<std::string> names_;
  // Looked up by view: a name is interned for every step kept, without a copy to find it.
  struct NameHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, uint32_t, NameHash, std::equal_to<>> name_ids_;
};

}  // namespace edpipe::transform
