#pragma once
// Hands items to `consume` on a thread of its own, so that whatever comes before (reading and
// parsing the next batch, or splitting it over the lanes) overlaps with consuming this one.
// At most `max_queued` items wait: submit() blocks beyond that, so memory stays bounded.
//
// The end is always said: finish() consumes every queued item; cancel() (and the destructor)
// drops what is queued and waits only for the item in hand. A queue that failed or was
// cancelled consumes nothing more, and its submit() and finish() throw from then on.
#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace edpipe::load {

template <class Item>
class BackgroundQueue {
 public:
  explicit BackgroundQueue(std::function<void(Item&&)> consume, size_t max_queued = 2)
      : consume_(std::move(consume)), max_queued_(max_queued), worker_([this] { run(); }) {}
  ~BackgroundQueue() {
    cancel();
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
  // Queues an item when there is room now and no item failed; false otherwise (nothing queued).
  bool try_submit(Item&& item) {
    std::lock_guard lock(mu_);
    if (error_ || queue_.size() >= max_queued_) return false;
    queue_.push_back(std::move(item));
    changed_.notify_all();
    return true;
  }
  // Waits until every queued item is consumed; throws the error of one that failed, if any.
  void finish() {
    std::unique_lock lock(mu_);
    changed_.wait(lock, [&] { return error_ || (queue_.empty() && !busy_); });
    rethrow_locked();
  }
  // Drops the queued items and waits until the one in hand (if any) is done; from then on the
  // queue takes nothing (submit and finish throw). Whatever makes the item in hand end soon
  // (a stop flag its consumer checks) is the caller's to set first.
  void cancel() {
    std::unique_lock lock(mu_);
    if (!error_) error_ = std::make_exception_ptr(Cancelled("cancelled after an earlier failure"));
    queue_.clear();
    changed_.notify_all();
    changed_.wait(lock, [&] { return !busy_; });
  }
  class Cancelled : public std::runtime_error {
   public:
    using std::runtime_error::runtime_error;
  };

 private:
  static bool is_cancelled(const std::exception_ptr& e) {
    try {
      std::rethrow_exception(e);
    } catch (const Cancelled&) {
      return true;
    } catch (...) {
      return false;
    }
  }
  void rethrow_locked() {
    if (error_) std::rethrow_exception(error_);
  }
  void run() {
    for (;;) {
      Item item;
      {
        std::unique_lock lock(mu_);
        changed_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (stopping_) return;  // the destructor cancelled first: nothing is left
        if (error_) {           // after a failure, the rest is not consumed
          queue_.clear();
          changed_.notify_all();
          continue;
        }
        item = std::move(queue_.front());
        queue_.pop_front();
        busy_ = true;
      }
      changed_.notify_all();  // a submit() waiting for room has it now
      std::exception_ptr failure;
      try {
        consume_(std::move(item));
      } catch (...) {
        failure = std::current_exception();
      }
      {
        std::lock_guard lock(mu_);
        busy_ = false;
        if (failure && (!error_ || is_cancelled(error_))) error_ = failure;  // the real cause over "cancelled"
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
