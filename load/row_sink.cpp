#include "load/row_sink.h"

#include <algorithm>

namespace edpipe::load {

DatabaseSink::DatabaseSink(RowLoader& loader, const LoaderOptions& options, std::function<void()> before_send)
    : loader_(loader),
      background_([&loader](Batch&& b) { loader.load(std::move(b.parts), std::move(b.positions)); }),
      batch_rows_(options.batch_rows),
      next_rows_(std::min(options.batch_rows, options.first_batch_rows)),
      before_send_(std::move(before_send)) {}

void DatabaseSink::add(transform::RowBatch& rows) {
  if (rows.empty()) return;
  pending_rows_ += rows.row_count();
  pending_.push_back(std::move(rows));
  rows = {};
  if (pending_rows_ >= next_rows_) send();
}

void DatabaseSink::flush(std::vector<ingest::FilePosition> positions) { send(std::move(positions)); }

void DatabaseSink::finish() {
  try {
    send();
    background_.finish();
    loader_.finish();
  } catch (...) {
    cancel();
    throw;
  }
}

void DatabaseSink::cancel() {
  loader_.cancel();
  background_.cancel();
}

void DatabaseSink::send(std::vector<ingest::FilePosition> positions) {
  if (!pending_.empty() || !positions.empty()) {
    if (before_send_) before_send_();
    background_.submit(Batch{std::move(pending_), std::move(positions)});
    next_rows_ = std::min(batch_rows_, next_rows_ * 2);
  }
  pending_.clear();
  pending_rows_ = 0;
}

}  // namespace edpipe::load
