#include "load/row_sink.h"

#include <algorithm>

namespace edpipe::load {

DatabaseSink::DatabaseSink(RowLoader& loader, const LoaderOptions& options, std::function<void()> before_send)
    : loader_(loader),
      background_([&loader](transform::RowBatch&& rows) { loader.load(std::move(rows)); }),
      batch_rows_(options.batch_rows),
      next_rows_(std::min(options.batch_rows, options.first_batch_rows)),
      before_send_(std::move(before_send)) {}

void DatabaseSink::add(transform::RowBatch& rows) {
  pending_.append(std::move(rows));
  if (pending_.row_count() >= next_rows_) send();
}

void DatabaseSink::flush(std::vector<ingest::FilePosition> positions) {
  pending_.positions = std::move(positions);
  send();
}

void DatabaseSink::finish() {
  send();
  background_.finish();
  loader_.finish();
}

void DatabaseSink::send() {
  if (!pending_.empty() || !pending_.positions.empty()) {
    if (before_send_) before_send_();
    background_.submit(std::move(pending_));
    next_rows_ = std::min(batch_rows_, next_rows_ * 2);
  }
  pending_ = {};
}

}  // namespace edpipe::load
