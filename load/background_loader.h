#pragma once
// Runs a RowLoader on its own thread, so that reading and parsing the next batch overlaps with
// the database loading this one: both cores busy.
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>

#include "row_loader.h"

namespace edpipe {

class BackgroundLoader {
 public:
  // At most `max_queued` batches wait (bounded memory); submit() blocks beyond that.
  explicit BackgroundLoader(RowLoader& loader, size_t max_queued = 2);
  ~BackgroundLoader();
  BackgroundLoader(const BackgroundLoader&) = delete;
  BackgroundLoader& operator=(const BackgroundLoader&) = delete;

  // Queues a batch. Throws the loader's error, if an earlier batch failed.
  void submit(RowBatch&& rows);
  // Waits until every queued batch is loaded; throws the loader's error, if any.
  void finish();

 private:
  void run();
  void rethrow_locked();

  RowLoader& loader_;
  size_t max_queued_;
  std::mutex mu_;
  std::condition_variable changed_;
  std::deque<RowBatch> queue_;
  bool busy_ = false, stopping_ = false;
  std::exception_ptr error_;
  std::thread worker_;
};

}  // namespace edpipe
