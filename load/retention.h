#pragma once
// Retention (`edpipe prune`): the detail of a recent window stays, the hourly rollups stay as the
// long-term record. The horizon moves forward only and is remembered in the database, so a load
// leaves out what is older than it (load_lane.cpp: beyond_retention). Deletion runs in short
// batches under every shard lock, so loaders wait for one batch at most and a prune can be
// interrupted and run again at any point. A day (partition) whose every invocation is older than
// the horizon is dropped whole, first; what remains goes in batches of rows.
#include <functional>
#include <optional>
#include <pqxx/pqxx>

#include "core/timestamp.h"

namespace edpipe::load {

struct PruneOptions {
  std::optional<Timestamp> before;           // the horizon itself (--before), else:
  Timestamp keep = 30 * 24 * kMicrosPerHour;  // how much detail to keep, back from the watermark
  bool from_now = false;                     // back from the wall clock instead
  std::optional<Timestamp> keep_rollups;     // metrics_hourly too, back from the same point (default: forever)
  bool dry_run = false;
  size_t batch = 1000;                       // invocations per transaction
  size_t max_batches = 0;                    // 0: until done
  // A rest between batches while a load runs beside the prune (a loader's session is connected,
  // or one held or waited for a shard lock in the last 10 s), as long as the batch took times
  // this factor: the load gets the shard locks and the CPU back. Alone, the prune never rests.
  // (0: never; 1: busy half the time; 4: a fifth.)
  double rest = 4;
  // VACUUM the detail tables afterwards, so the space the deleted rows held is reused by the next
  // loads at once instead of when autovacuum comes round (a plain VACUUM: loads go on meanwhile).
  bool vacuum = false;
  // Days whose every invocation is older than the horizon are dropped whole (their partitions);
  // false: every row goes in the batches (the tests hold one way against the other).
  bool whole_days = true;
};

struct PruneResult {
  Timestamp horizon = 0;              // in effect afterwards (or that a dry run would set)
  bool horizon_moved = false;
  uint64_t invocations = 0;           // deleted (a dry run: would be), with their children
  uint64_t event_executions = 0, job_executions = 0, job_logs = 0;  // a dry run's counts only
  uint64_t rollups = 0;               // metrics_hourly rows deleted
  size_t batches = 0;                 // transactions that deleted: day drops and row batches
  size_t days_dropped = 0;            // day partitions dropped whole (migration 016)
  size_t rests = 0;                   // batches followed by a rest: a load was running beside it
  bool complete = true;               // false: --max-batches stopped it; run it again
  bool vacuumed = false;
};

// Prunes; `progress` is called after each batch.
PruneResult prune(pqxx::connection& conn, const PruneOptions& options,
                  const std::function<void(const PruneResult&)>& progress = {});

// The horizon in effect; nullopt before the first prune.
std::optional<Timestamp> read_horizon(pqxx::connection& conn);

// Whether a load runs beside this session now: another session is a loader's (`load`, `tail`:
// it holds the loader mark), or holds or waits for a shard lock.
bool a_load_runs_beside(pqxx::connection& conn);

}  // namespace edpipe::load
