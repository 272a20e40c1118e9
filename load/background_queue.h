#pragma once
// Hands items to `consume` on a thread of its own, so that whatever comes before (reading and
// parsing the next batch, or splitting it over the lanes) overlaps with consuming this one.
// At most `max_queued` items wait: submit() blocks beyond that, so memory stays bounded.
#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>

namespace edpipe::load {

template <class Item>
class BackgroundQueue {
 public:
  explicit BackgroundQueue(std::function<void(Item&&)> consume, size_t max_queued = 2)
      : consume_(std::move(consume)), max_queued_(max_queued), worker_([this] { run(); }) {}
  ~BackgroundQueue() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    changed_.notify_all();
    worker_.join();
  }
  BackgroundQueue(const BackgroundQueue&) = delete;
  BackgroundQueue& operator=(const BackgroundQueue&) = delete;

  // Queues an item. Throws the error of an earlier item, if one failed.
  void submit(Item&& item) {
    std::unique_lock lock(mu_);
    changed_.wait(lock, [&] { return error_ || queue_.size() < max_queued_; });
    rethrow_locked();
    queue_.push_back(std::move(item));
    changed_.notify_all();
  }
  // Waits until every queued item is consumed; throws the error of one that failed, if any.
  void finish() {
    std::unique_lock lock(mu_);
    changed_.wait(lock, [&] { return error_ || (queue_.empty() && !busy_); });
    rethrow_locked();
  }

 private:
  void rethrow_locked() {
    if (error_) std::rethrow_exception(error_);
  }
  void run() {
    for (;;) {
      Item item;
      {
        std::unique_lock lock(mu_);
        changed_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping, nothing left
        if (error_) {                // after a failure, the rest is not consumed
          queue_.clear();
          changed_.notify_all();
          continue;
        }
        item = std::move(queue_.front());
        queue_.pop_front();
        busy_ = true;
      }
      std::exception_ptr failure;
      try {
        consume_(std::move(item));
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

  std::function<void(Item&&)> consume_;
  size_t max_queued_;
  std::mutex mu_;
  std::condition_variable changed_;
  std::deque<Item> queue_;
  bool busy_ = false, stopping_ = false;
  std::exception_ptr error_;
  std::thread worker_;
};

}  // namespace edpipe::load
