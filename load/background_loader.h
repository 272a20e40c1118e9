#pragma once
// Hands batches to `consume` on a thread of its own, so that whatever comes before (reading and
// parsing the next batch, or splitting it over the lanes) overlaps with loading this one.
#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>

#include "row_state.h"

namespace edpipe {

class BackgroundLoader {
 public:
  // At most `max_queued` batches wait (bounded memory); submit() blocks beyond that.
  explicit BackgroundLoader(std::function<void(RowBatch&&)> consume, size_t max_queued = 2);
  ~BackgroundLoader();
  BackgroundLoader(const BackgroundLoader&) = delete;
  BackgroundLoader& operator=(const BackgroundLoader&) = delete;

  // Queues a batch. Throws the error of an earlier batch, if one failed.
  void submit(RowBatch&& rows);
  // Waits until every queued batch is consumed; throws the error of one that failed, if any.
  void finish();

 private:
  void run();
  void rethrow_locked();

  std::function<void(RowBatch&&)> consume_;
  size_t max_queued_;
  std::mutex mu_;
  std::condition_variable changed_;
  std::deque<RowBatch> queue_;
  bool busy_ = false, stopping_ = false;
  std::exception_ptr error_;
  std::thread worker_;
};

}  // namespace edpipe
