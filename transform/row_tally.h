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

#include "derive.h"
#include "hourly_rollup.h"
#include "row_state.h"
#include "uuid_map.h"

namespace edpipe {

struct TallyResult {
  uint64_t invocations = 0, event_executions = 0, job_executions = 0, job_logs = 0;
  std::array<uint64_t, kInvocationStatusCount> invocations_by_status{};
  std::array<uint64_t, kEventStatusCount> events_by_status{};
  std::array<uint64_t, kJobStatusCount> jobs_by_status{};
  uint64_t chained_invocations = 0;  // invocations with a source_job_id
  RollupTable rollups;
};

class RowTally {
 public:
  void add(const RowBatch& batch);
  TallyResult finish(const AbandonRule& rule) const;

 private:
  struct InvocationEntry {
    bool has_start = false, has_end = false, chained = false;
    Outcome end_status = Outcome::Completed;
    uint32_t function = 0;
    Timestamp start_ts = 0, end_ts = 0;
    int64_t end_duration_ms = -1;  // -1: the end record gave none
    Timestamp first_ts = kNoFirstTs, last_ts = kNoLastTs;
  };
  struct EventEntry {
    uint32_t invocation = 0, name = 0;
    uint8_t name_rank = 255;  // which step the name came from (detection start first)
    bool has_detection_end = false, detection_error = false, detected = false;
    bool has_handler_start = false, has_handler_end = false, handler_error = false;
    Timestamp detection_end_ts = 0, handler_end_ts = 0;
  };
  struct JobEntry {
    uint32_t invocation = 0, name = 0;
    uint8_t name_rank = 255;
    bool has_end = false;
    Outcome end_status = Outcome::Completed;
    Timestamp end_ts = 0;
  };

  uint32_t invocation_index(const Uuid& id);
  void adopt_parent(uint32_t& parent, bool inserted, const Uuid& invocation_id);
  uint32_t intern(std::string_view name);

  UuidMap<uint32_t> invocation_ids_;
  std::vector<InvocationEntry> invocations_;
  std::vector<Uuid> invocation_uuids_;  // by index
  UuidMap<EventEntry> events_;
  UuidMap<JobEntry> jobs_;
  UuidMap<uint8_t> logs_;
  std::vector<std::string> names_;
  std::unordered_map<std::string, uint32_t> name_ids_;
};

}  // namespace edpipe
