#pragma once
// One connection of the load stage, and the shards of invocations it writes.
//
// Invocations are spread over kShardCount shards by id. A lane loads rows of its shards only,
// one transaction per batch, in the steps of docs/database.md "How a load stays exact" (in
// that order in load_once(); load_sql.h has every statement). Passing faults (lost
// connection, a server that crashed or is recovering, deadlock, shutdown) are retried with
// jittered backoff, connecting included. Each batch commits as the server's synchronous_commit
// has it (on by default: a commit edpipe counts is durable before it is acknowledged). A data
// error PostgreSQL refuses is narrowed down by splitting the batch per invocation; what it
// refuses alone goes to the dead-letter output.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <pqxx/pqxx>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

#include "load/copy_writer.h"
#include "load/load_sql.h"
#include "load/migrator.h"
#include "load/pg_connection.h"
#include "load/row_columns.h"
#include "transform/derive.h"
#include "transform/hourly_rollup.h"
#include "transform/row_state.h"

namespace edpipe::load {

// Every edpipe that writes to one database must agree on these two.
constexpr int kShardCount = 16;
int shard_of(const Uuid& invocation_id) noexcept;  // stable across processes: no seed

struct LoaderOptions {
  Timestamp abandon_after = transform::kDefaultAbandonAfter;
  RetryBound retry;                 // per batch and per connect, for passing faults
  int connections = 2;              // lanes loading side by side (1 to kShardCount)
  size_t batch_rows = 20000;        // rows a batch holds at most (DatabaseSink)
  size_t first_batch_rows = 1000;   // the first batch's; each next one twice as many, up to batch_rows
};



struct LoaderStats {
  uint64_t batches = 0, retries = 0, rows_sent = 0, dead_lettered = 0;
  uint64_t log_conflicts = 0;  // lines of one seq with other content than the line stored or beside them
  // Rows written: new ones, and writes to stored ones (a merge that moved a step on, a derived
  // column that changed; one row can count twice). A replay counts none.
  uint64_t rows_inserted = 0, rows_updated = 0;
  uint64_t beyond_retention = 0;  // rows left out: older than the horizon, or of a pruned invocation
  std::set<transform::RollupKey> touched_hours;
  LoaderStats& operator+=(const LoaderStats& o) {
    batches += o.batches;
    retries += o.retries;
    rows_sent += o.rows_sent;
    dead_lettered += o.dead_lettered;
    log_conflicts += o.log_conflicts;
    rows_inserted += o.rows_inserted;
    rows_updated += o.rows_updated;
    beyond_retention += o.beyond_retention;
    touched_hours.insert(o.touched_hours.begin(), o.touched_hours.end());
    return *this;
  }
};

// The rows of a batch, given as the parts it was handed on in, in `n` parts by the invocation
// they belong to (`part_of` of its id, below n), moved out of `from`: one copy of each row, in
// the order of `from`. Every part shares the text of all of them. Read positions are not taken.
template <class PartOf>
std::vector<transform::RowBatch> split_by_invocation(std::vector<transform::RowBatch>&& from, size_t n, PartOf&& part_of) {
  std::vector<transform::RowBatch> parts(n);
  size_t inv = 0, ev = 0, job = 0, log = 0;
  for (const auto& b : from) {
    inv += b.invocations.size();
    ev += b.event_executions.size();
    job += b.job_executions.size();
    log += b.job_logs.size();
  }
  auto room = [n](size_t total) { return total / n + total / (4 * n) + 16; };  // uneven splits fit
  for (auto& p : parts) {
    p.invocations.reserve(room(inv));
    p.event_executions.reserve(room(ev));
    p.job_executions.reserve(room(job));
    p.job_logs.reserve(room(log));
  }
  std::vector<SharedText> text;
  for (auto& rows : from) {
    for (auto& s : rows.invocations) parts[part_of(s.id)].invocations.push_back(std::move(s));
    for (auto& s : rows.event_executions) parts[part_of(s.invocation_id)].event_executions.push_back(std::move(s));
    for (auto& s : rows.job_executions) parts[part_of(s.invocation_id)].job_executions.push_back(std::move(s));
    for (auto& l : rows.job_logs) parts[part_of(l.invocation_id)].job_logs.push_back(std::move(l));
    text.insert(text.end(), rows.text.begin(), rows.text.end());
  }
  for (auto& p : parts) p.text = text;
  from.clear();
  return parts;
}
template <class PartOf>
std::vector<transform::RowBatch> split_by_invocation(transform::RowBatch&& rows, size_t n, PartOf&& part_of) {
  std::vector<transform::RowBatch> from;
  from.push_back(std::move(rows));
  return split_by_invocation(std::move(from), n, std::forward<PartOf>(part_of));
}

class LoadLane {
 public:
  // `shards`: the shards whose rows this lane writes (their locks are taken in every batch).
  LoadLane(std::string conninfo, LoaderOptions options, RowDeadLetter dead_letter, std::vector<int> shards);
  ~LoadLane();

  // Connects and checks the schema, retrying a server that is not ready yet (crash recovery,
  // restart) within the bound; throws ConnectionError or SchemaError.
  void open();
  // Loads rows of this lane's shards, fragments of one id already merged, as one batch. The
  // values PostgreSQL refuses reach the dead-letter output once each, just before the
  // transaction that left them out commits (or once it is given up).
  void load(const transform::RowBatch& rows);
  // Makes the day partitions of `days` where missing, ahead of the batches that need them.
  void make_day_partitions(const std::vector<int32_t>& days) {
    with_retries([&](pqxx::connection& c) { add_day_partitions(c, days); });
  }
  // From any thread: the batch in hand gets no further try, and its backoff ends now.
  void stop() noexcept { session_.stop(); }
  void resume() noexcept { session_.resume(); }
  // The server's synchronous_commit, as the lane's session has it (read by open()).
  const std::string& synchronous_commit() const noexcept { return synchronous_commit_; }
  LoaderStats stats() const {
    LoaderStats s = stats_;
    s.retries = session_.retries();  // every retry of the session: batches, connects, read-backs
    return s;
  }
  // The retention horizon the last batch read (µs; none before a batch or without one). Read
  // from another thread: a long run learns that a prune moved it.
  std::optional<Timestamp> horizon_seen() const noexcept {
    const int64_t h = horizon_seen_.load(std::memory_order_relaxed);
    return h == kNoHorizon ? std::nullopt : std::optional<Timestamp>(h);
  }

  // Runs `work` on the connection, reconnecting and retrying it after passing faults. Safe for
  // anything a replay does not change: every load statement is idempotent.
  template <class Work>
  auto with_retries(Work&& work) -> decltype(work(std::declval<pqxx::connection&>())) {
    return session_.run(std::forward<Work>(work));
  }

 private:
  void load_or_split(const transform::RowBatch& rows);
  void load_once(pqxx::connection& conn, const transform::RowBatch& rows);
  void write_batch(pqxx::work& tx, const transform::RowBatch& rows);  // steps 2-8, under the shard locks
  // The day partitions (migration 016) of `days` made where missing, in a transaction of their
  // own: making one locks its whole table.
  void add_day_partitions(pqxx::connection& conn, const std::vector<int32_t>& days);
  // On one server, once this lane merges: the partitions of `days` that were never analyzed get
  // their statistics now, in a statement of their own, instead of in autovacuum's first pass up
  // to a minute later. Without them every derive statement of a merging batch read its
  // partitions whole.
  void analyze_new_partitions(pqxx::connection& conn, const std::vector<int32_t>& days);
  void write_dead_letters(std::vector<std::string>& letters);

  LoaderOptions options_;
  RowDeadLetter dead_letter_;
  std::string lock_shards_;  // the statement that takes this lane's shard locks, in shard order
  RetryingSession session_;
  std::string synchronous_commit_;
  // The dead letters of the batch in hand already written: a retried try, or a half of a split
  // batch, finds the same refused values again and writes none twice.
  std::unordered_set<std::string> letters_written_;
  LoaderStats stats_;
  static constexpr int64_t kNoHorizon = INT64_MIN;
  std::atomic<int64_t> horizon_seen_{kNoHorizon};
  CopyWriter invocations_, events_, jobs_, logs_;  // kept from batch to batch with their buffers
  std::set<int32_t> days_with_partitions_;  // seen to exist (a prune may drop one: checked in each batch)
  bool merges_ = false;                     // a batch of this lane merged into stored invocations
  // How steps 4-6 name the touched invocations: by the temp table on one server, by arrays on
  // Citus (sql::TouchedBy; open() asks the server).
  sql::TouchedBy touched_by_ = sql::TouchedBy::TempTable;
  sql::TouchedStatements touched_ = sql::touched_statements(touched_by_);
};

}  // namespace edpipe::load
