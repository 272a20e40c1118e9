#pragma once
// The load stage: row fragments in, merged rows and exact rollups in PostgreSQL out.
//
// A batch's fragments of one id are merged first, then the batch is split by invocation shard
// over the lanes (load_lane.h), each with its own connection and thread: the lanes COPY side by
// side, each at its own pace, and take turns only for the short serial end of their transactions.
// Tail mode's read positions are saved once every lane has committed its part of the batch, by
// the session that holds the followed files' locks (FileOwnership).
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "load/background_queue.h"
#include "load/file_positions.h"
#include "load/load_lane.h"

namespace edpipe::load {

class RowLoader {
 public:
  // The dead-letter callback is called from the lanes' threads, one call at a time.
  RowLoader(std::string conninfo, LoaderOptions options, RowDeadLetter dead_letter);
  ~RowLoader();

  // Connects every lane (side by side) and checks the schema; throws ConnectionError or SchemaError.
  void open();
  // A hint from the reader, from any thread: rows of these days are coming. An idle lane makes
  // their day partitions now, while the first batch of them is still being read and assembled;
  // a day it misses is made by the batch that needs it, as always. Never blocks.
  void prepare_days(std::vector<int32_t> days);
  // Where read positions go (tail mode): saved by the session holding the files' locks. Must
  // outlive the loader's use of it. A batch with positions and no owner is a logic error.
  void save_positions_with(FileOwnership* owner) noexcept { owner_ = owner; }
  // Queues the fragments as one batch (merging duplicates of one id first) and returns; a batch
  // with read positions returns once they are saved. Throws the error of an earlier batch.
  void load(transform::RowBatch rows);
  // The same for a batch given as the parts it was handed on in: each row is copied once, into
  // its lane's part, with no joined batch in between.
  void load(std::vector<transform::RowBatch> parts, std::vector<ingest::FilePosition> positions);
  // Waits until every queued batch is loaded; throws the error of one that failed.
  void finish();
  // After a failure, from any thread: queued batches are dropped, the batch each lane has in
  // hand gets no further try, and this returns once every lane is idle; load() and finish()
  // throw from then on. What committed stays (a rerun loads the rest exactly once). The
  // destructor does the same: a loader that was not finished never loads on in the background.
  void cancel();
  // The server's synchronous_commit as the loader's sessions have it: "off" means a server
  // crash can lose commits that were acknowledged.
  const std::string& synchronous_commit() const { return lanes_.front()->synchronous_commit(); }
  // After finish(): summed over the lanes; `batches` counts the batches given to load().
  LoaderStats stats() const;

  // After finish() or cancel(): runs `work` on the first lane's connection, with its retries.
  // The newest retention horizon a batch of any lane has read: what a prune that ran meanwhile
  // moved it to.
  std::optional<Timestamp> horizon_seen() const;
  template <class Work>
  auto with_retries(Work&& work) -> decltype(work(std::declval<pqxx::connection&>())) {
    return lanes_.front()->with_retries(std::forward<Work>(work));
  }

 private:
  RowDeadLetter dead_letter_;
  std::mutex dead_letter_mu_;
  std::vector<std::unique_ptr<LoadLane>> lanes_;
  // What a lane's thread is given: a batch, or days to make partitions for.
  struct LaneWork {
    transform::RowBatch rows;
    std::vector<int32_t> days;
  };
  std::vector<std::unique_ptr<BackgroundQueue<LaneWork>>> queues_;  // one per lane; stopped before the lanes go
  FileOwnership* owner_ = nullptr;
  uint64_t batches_ = 0;
  uint64_t log_conflicts_ = 0;  // met within a batch (the lanes count those met in the database)
};

// Merges fragments of the same id within one batch (ON CONFLICT may touch a row only once).
// Counts the log lines of one seq that differ in `log_conflicts`.
transform::RowBatch coalesce_fragments(transform::RowBatch&& rows, uint64_t* log_conflicts = nullptr);

}  // namespace edpipe::load
