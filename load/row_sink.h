#pragma once
// Where the transform's row fragments go: the database (DatabaseSink, in growing batches on a
// thread of its own), or for a dry run a tally of what the database would hold (TallySink).
#include <functional>
#include <memory>
#include <vector>

#include "load/background_queue.h"
#include "load/row_loader.h"
#include "transform/row_tally.h"

namespace edpipe::load {

class RowSink {
 public:
  virtual ~RowSink() = default;
  virtual void add(transform::RowBatch& rows) = 0;  // may keep rows until a batch is full
  // Sends what is kept, with the read positions it completes (tail mode).
  virtual void flush(std::vector<ingest::FilePosition> positions) = 0;
  // Sends the rest and waits until it is all in.
  virtual void finish() = 0;
  // After a failure: nothing more is sent, and this returns once nothing is in flight.
  virtual void cancel() {}
};

class TallySink final : public RowSink {
 public:
  void add(transform::RowBatch& rows) override { tally.add(rows); }
  void flush(std::vector<ingest::FilePosition>) override {}
  void finish() override {}
  transform::RowTally tally;
};

// Batches go to the loader on a second thread while the caller reads and parses on. The first
// batches are small (LoaderOptions::first_batch_rows) and double up to batch_rows: the database
// starts on the first rows, and the second core with it, while the rest is still being read.
class DatabaseSink final : public RowSink {
 public:
  // `before_send` runs before each batch goes to the loader: the dead letters of the lines
  // before it reach the disk first, so no batch commits without them.
  DatabaseSink(RowLoader& loader, const LoaderOptions& options, std::function<void()> before_send);
  void add(transform::RowBatch& rows) override;
  void flush(std::vector<ingest::FilePosition> positions) override;
  // Throws the error of a batch that failed, after cancelling the rest.
  void finish() override;
  // Stops the loader's lanes first (the batch in hand ends at its next retry), then this
  // sink's thread: no connection is in use once it returns.
  void cancel() override;

 private:
  void send(std::vector<ingest::FilePosition> positions = {});
  RowLoader& loader_;
  struct Batch {
    std::vector<transform::RowBatch> parts;
    std::vector<ingest::FilePosition> positions;
  };
  BackgroundQueue<Batch> background_;
  size_t batch_rows_, next_rows_;
  std::function<void()> before_send_;
  // What the transform handed on since the last send, as it came: the loader copies each row
  // once, into its lane's part.
  std::vector<transform::RowBatch> pending_;
  size_t pending_rows_ = 0;
};

}  // namespace edpipe::load
