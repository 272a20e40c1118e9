#pragma once
// The SQL of a load, in named constants. Tables are named after their owner: stage_* are this
// session's TEMP staging tables, touched_invocations the invocations a batch may change.
#include <string>
#include <vector>

#include "transform/derive.h"

namespace edpipe::load::sql {

// A status rule table of derive.h as an SQL CASE expression; facts[i] is the SQL of the fact
// with bit i (1 << i). The same table decides in memory and in the database.
template <class Status, size_t N>
std::string status_sql(const transform::StatusRule<Status> (&rules)[N], const std::vector<std::string>& facts) {
  std::string out = "(CASE";
  for (size_t r = 0; r + 1 < N; ++r) {
    std::string when;
    for (size_t f = 0; f < facts.size(); ++f) {
      const uint8_t bit = static_cast<uint8_t>(1u << f);
      if (rules[r].all_of & bit) when += (when.empty() ? "" : " AND ") + ("(" + facts[f] + ")");
      if (rules[r].none_of & bit) when += (when.empty() ? "" : " AND ") + ("NOT (" + facts[f] + ")");
    }
    out += " WHEN " + (when.empty() ? std::string("true") : when) + " THEN '" + std::string(status_name(rules[r].status)) + "'";
  }
  return out + " ELSE '" + std::string(status_name(rules[N - 1].status)) + "' END)";
}
// A row's abandon verdict in SQL, the C++ rule's twin ($1 the watermark minus the window, as
// abandon_cutoff() gives it); `row` is a table or alias with end_status and last_record_at.
std::string abandoned(const std::string& row);

// Staging tables: the staged columns of row_columns.h, in their COPY order (made where missing, in
// the transaction that stages), and the touched invocations' table (every batch's, made on connect).
extern const std::string kCreateStaging;
extern const char* const kCreateTouched;
// Every advisory lock edpipe takes, in one place. Two key spaces of PostgreSQL's: the
// (int, int) form, whose first int names what is locked, and the bigint form, used by file
// locks alone (their key is a hash), so no two schemes can meet.
constexpr int kMigrationLockSpace = 7321001;  // (space, 0): one migrator at a time
constexpr int kShardLockSpace = 7321002;      // (space, shard): a lane's hold on its shards (load_lane.h)
constexpr int kLoaderMarkSpace = 7321003;     // (space, 0), shared, for a session's life: a loader's session
constexpr int kPartitionLockSpace = 7321004;  // (space, 0): one session at a time makes or drops day partitions
constexpr int kSerialEndLockSpace = 7321005;  // (space, 0): one loader at a time in a batch's serial end
extern const char* const kLockMigrations;     // pg_advisory_xact_lock(kMigrationLockSpace, 0)
std::string lock_shards(const std::vector<int>& shards);  // in the order given
// A followed file (device, inode) held for the session: $1 file_lock_key -> whether it was free.
extern const char* const kTryLockFile;
extern const std::string kMarkLoaderSession;  // taken by each loader session: "a load runs"
extern const std::string kLoadsBeside;        // is another session loading (a loader's, or at a shard lock)?
int64_t file_lock_key(uint64_t device, uint64_t inode) noexcept;

// edpipe_file_positions: $1 device … $7 path (bigint columns hold unsigned values bit for bit).
extern const char* const kSavePosition;
extern const char* const kReadPositions;

extern const char* const kReadWatermark;     // -> the committed watermark (µs), no row if none yet
// $1 batch watermark -> the database's watermark, and the transaction's time (µs): the
// updated_at of every row the batch changes (statements set it, no trigger does: Citus).
extern const char* const kLockWatermark;
extern const std::string kLockSerialEnd;     // pg_advisory_xact_lock(kSerialEndLockSpace, 0)
extern const char* const kTouchStaged;
extern const std::string kTouchFlipping;     // $1 abandon cutoff
extern const char* const kTouchedIds;         // -> the touched invocations' ids
// The merges: $1 abandon cutoff, $2 updated_at (RFC 3339).
extern const std::string kMergeInvocations;
extern const std::string kMergeEvents;
extern const std::string kMergeJobs;
extern const char* const kCountLogConflicts;  // staged lines the table holds, and of those the conflicts
extern const char* const kInsertLogs;
// $1 invocations (uuid[]), $2 their days (date[]), $3 the jobs present (uuid[]), $4 updated_at:
// those of the invocations whose job is one of them are linked to it.
extern const char* const kLinkSourceJobs;
// edpipe_waiting_links (migration 016): $1 jobs (uuid[]) -> the invocations that waited for them,
// their entries taken out; and ($1 jobs, $2 invocations, $3 their days) in step: entries added.
extern const char* const kTakeWaitingLinks;
extern const char* const kAddWaitingLinks;
extern const char* const kStoredJobs;  // $1 uuid[] -> the job ids the database holds
// ($1 days, $2 their first created_at, $3 their last): each day's span widened to hold them.
extern const char* const kWidenDaySpans;
// The statements that read and derive the touched invocations (steps 4 and 6). Each takes its
// own parameters, then the touched invocations as TouchedBy says: none (those of the
// touched_invocations temp table), or their ids (uuid[]) and their days (date[]).
//  - TempTable, on one server: joined to the ANALYZEd temp table, the planner reads each touched
//    invocation's rows by index even in a day's partitions that have no statistics yet (a load's
//    first minute of a day), where an array of ids looks like most of the table to it.
//  - Arrays, on Citus: a worker sees the coordinator's temp table as an intermediate result of
//    unknown size and planned a merge join of its whole shard per batch (366 ms a batch on
//    60,000 events, growing with the table); with the ids it reads their rows by index, and the
//    coordinator sends each shard's part only where it has some.
enum class TouchedBy { TempTable, Arrays };
struct TouchedStatements {
  std::string contributions;       // -> the contributions to the rollups
  std::string derive_invocations;  // $1 abandon cutoff, $2 updated_at
  std::string derive_jobs;         // $1 updated_at, and so on
  std::string derive_events;
  std::string count_children;
};
TouchedStatements touched_statements(TouchedBy by);
// Rollups of many hours at once: $1 hours (epoch seconds, bigint[]) and $2 functions (text[]),
// in step, and per statement the arrays below in step with them.
extern const char* const kReadRollups;        // -> hour_epoch, source_function, the stored state
extern const char* const kReadAllRollups;
extern const char* const kMinMaxOfHour;       // $1 hour, $2 function
extern const char* const kUpsertRollups;      // $3.. every column of metrics_hourly in table order
extern const char* const kListedNames;        // $3 how many names per kind -> hour, function, kind, name, n
extern const char* const kDeleteRollups;
extern const char* const kReadNameRollups;    // $3 kinds, $4 names -> hour_epoch, source_function, the state
extern const char* const kReadAllNameRollups;
// Per name, arrays in step: $1 hour, $2 function, $3 kind, $4 name, $5 runs, $6 failed, $7 detected,
// $8 zero count, $9 bucket keys and $10 bucket counts (each an array's literal).
extern const char* const kUpsertNameRollups;
extern const char* const kDeleteNameRollups;  // $1 hours, $2 functions, $3 kinds, $4 names
// $1 uuid[], $2 their days (date[]) -> the ids the database holds
extern const char* const kStoredInvocations;
// Day partitions (migration 016). $1 days (date[]): those without partitions, as 'YYYY-MM-DD'.
extern const char* const kDaysWithoutPartitions;
extern const std::string kLockPartitions;        // pg_advisory_xact_lock(kPartitionLockSpace, 0)
extern const char* const kAddDayPartitions;      // $1 days (date[]) -> partitions made
// $1 days (date[]) -> their partitions never analyzed (reltuples < 0), as one quoted list or NULL.
extern const char* const kUnanalyzedDayPartitions;
// The day partitions of invocations, oldest first: day ('YYYY-MM-DD').
extern const char* const kDayPartitions;
// A day a prune drops whole ($1 day, $2 horizon; under every shard lock). The invocations of the
// day it keeps (created or heard from at or after the horizon, kPruneBatch's rule) go into the
// session's temp table day_kept first; the rest is what kPruneBatch does row by row:
extern const char* const kCreateDayKept;   // once a session: day_kept (id)
extern const char* const kFillDayKept;     // $1, $2 -> rows: the day's invocations kept
extern const char* const kCountDay;        // $1 -> the day's invocations
extern const char* const kRememberDay;     // $1, $2: into edpipe_pruned, what a late record may name
extern const char* const kUnlinkDay;       // $1, $2 updated_at: links to the jobs that go, from those that stay
extern const char* const kUnwaitDay;       // $1: the waiting links of the invocations that go
extern const char* const kForgetDaySpan;   // $1: the span of a day dropped whole (no row kept)
// The kept invocations' rows of one table, copied aside before the drop (ON COMMIT DROP) and
// back into the day's new partitions after it: `table` is one of the four.
extern const char* const kWrittenColumns;  // $1 a table -> its columns but the generated ones, as a list
std::string save_kept(const std::string& table, const std::string& columns);
std::string restore_kept(const std::string& table, const std::string& columns);
std::string drop_day(const std::string& day);  // DROP TABLE of the day's four partitions
// Retention (migration 010). The horizon (µs; no row: nothing pruned yet), read FOR SHARE by a
// load so that a prune moving it waits for the load to commit.
extern const char* const kReadHorizon;
extern const char* const kPrunedAmong;        // $1 uuid[] -> the ids a prune deleted
extern const char* const kMoveHorizon;        // $1 horizon (RFC 3339): forward only -> the horizon (µs)
// One prune batch, under every shard lock: $1 horizon, $2 batch size, $3 updated_at of the
// invocations whose source job link it clears -> ids deleted (and their last_record_at
// remembered in edpipe_pruned).
extern const char* const kPruneBatch;
extern const char* const kForgetPruned;       // $1 horizon: entries a day behind it
extern const char* const kPruneRollups;       // $1 rollup horizon: metrics_hourly (and name) rows before it
extern const char* const kCountPrunable;      // $1 horizon -> invocations, and their children, a prune would delete

// A merge that returns how many rows it wrote (inserted plus updated). In a CTE, as Citus runs it
// with its parameters typed: an upsert sent to the workers alone would carry a parameter only
// the coordinator's part reads, untyped there.
std::string counted_merge(const std::string& merge);

// COPY column lists (row_columns.h): the staged columns, then (derived) those computed in C++.
std::vector<std::string> invocation_columns(bool derived);
std::vector<std::string> event_columns(bool derived);
std::vector<std::string> job_columns(bool derived);
std::vector<std::string> log_columns();

}  // namespace edpipe::load::sql
