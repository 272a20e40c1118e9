#include "background_loader.h"

namespace edpipe {

BackgroundLoader::BackgroundLoader(std::function<void(RowBatch&&)> consume, size_t max_queued)
    : consume_(std::move(consume)), max_queued_(max_queued), worker_([this] { run(); }) {}

BackgroundLoader::~BackgroundLoader() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  changed_.notify_all();
  worker_.join();
}

void BackgroundLoader::rethrow_locked() {
  if (error_) std::rethrow_exception(error_);
}

void BackgroundLoader::submit(RowBatch&& rows) {
  std::unique_lock lock(mu_);
  changed_.wait(lock, [&] { return error_ || queue_.size() < max_queued_; });
  rethrow_locked();
  queue_.push_back(std::move(rows));
  changed_.notify_all();
}

void BackgroundLoader::finish() {
  std::unique_lock lock(mu_);
  changed_.wait(lock, [&] { return error_ || (queue_.empty() && !busy_); });
  rethrow_locked();
}

void BackgroundLoader::run() {
  for (;;) {
    RowBatch batch;
    {
      std::unique_lock lock(mu_);
      changed_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, nothing left
      if (error_) {                // after a failure, the rest is not loaded
        queue_.clear();
        changed_.notify_all();
        continue;
      }
      batch = std::move(queue_.front());
      queue_.pop_front();
      busy_ = true;
    }
    std::exception_ptr failure;
    try {
      consume_(std::move(batch));
    } catch (...) {
      failure = std::current_exception();
    }
    {
      std::lock_guard lock(mu_);
      busy_ = false;
      if (failure) error_ = failure;
    }
    changed_.notify_all();
  }
}

}  // namespace edpipe
