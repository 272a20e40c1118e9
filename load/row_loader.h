#pragma once
// The load stage: row fragments in, merged rows and exact rollups in PostgreSQL out.
//
// One transaction per batch (load_sql.h has every statement):
//   1. lock the watermark row (loaders serialise here, before any row lock: no deadlocks);
//   2. COPY the fragments into TEMP staging tables;
//   3. note the touched invocations (those staged, and stored ones whose abandoned verdict flips
//      under the new watermark) and read their rollup contributions;
//   4. merge: INSERT … ON CONFLICT DO UPDATE with row_state.cpp's winner rules, writing only
//      when the new state is further along (a replay writes nothing); link source_job_id;
//   5. derive statuses, durations and children counts of the touched rows (derive.cpp's rules);
//   6. read the contributions again and add the difference to metrics_hourly (HourlyRollup);
//   7. tail mode: save the read positions these rows complete (file_positions.h).
// Passing faults (lost connection, deadlock, shutdown) are retried with jittered backoff. A data
// error PostgreSQL refuses is narrowed down by splitting the batch per invocation; what it
// refuses alone goes to the dead-letter output.
#include <functional>
#include <memory>
#include <pqxx/pqxx>
#include <set>
#include <string>

#include "derive.h"
#include "hourly_rollup.h"
#include "row_state.h"

namespace edpipe {

struct LoaderOptions {
  Timestamp abandon_after = kDefaultAbandonAfter;
  int max_attempts = 8;             // per batch, for passing faults
  int backoff_initial_ms = 100;
};

// A value or a group of rows PostgreSQL would refuse, kept out of the database: one JSON object.
using RowDeadLetter = std::function<void(const std::string& json)>;

// The database is not migrated (far enough): names `edpipe migrate up`.
class SchemaError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct LoaderStats {
  uint64_t batches = 0, retries = 0, rows_sent = 0, dead_lettered = 0;
  std::set<RollupKey> touched_hours;
};

class RowLoader {
 public:
  RowLoader(std::string conninfo, LoaderOptions options, RowDeadLetter dead_letter);
  ~RowLoader();

  // Connects and checks the schema; throws ConnectionError (no retry: a database that is not
  // there fails fast) or SchemaError.
  void open();
  // Loads the fragments (merging duplicates of one id first) as one batch.
  void load(RowBatch rows);
  const LoaderStats& stats() const noexcept { return stats_; }

  // Runs `work` on the connection, reconnecting and retrying it after passing faults. Safe for
  // anything a replay does not change: every load statement is idempotent.
  template <class Work>
  auto with_retries(Work&& work) -> decltype(work(std::declval<pqxx::connection&>())) {
    for (int attempt = 1;; ++attempt) {
      try {
        if (!conn_) reconnect();
        return work(*conn_);
      } catch (const std::exception& e) {
        if (!retryable(e) || attempt >= options_.max_attempts) throw;
        conn_.reset();
        ++stats_.retries;
        back_off(attempt);
      }
    }
  }

 private:
  bool retryable(const std::exception& e) const;
  void back_off(int attempt);
  void load_or_split(const RowBatch& rows);
  void load_once(pqxx::connection& conn, const RowBatch& rows);
  void save_positions_alone(const std::vector<FileCheckpoint>& positions);
  void reconnect();

  std::string conninfo_;
  LoaderOptions options_;
  RowDeadLetter dead_letter_;
  std::unique_ptr<pqxx::connection> conn_;
  LoaderStats stats_;
};

// Merges fragments of the same id within one batch (ON CONFLICT may touch a row only once).
RowBatch coalesce_fragments(RowBatch&& rows);

}  // namespace edpipe
