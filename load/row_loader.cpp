#include "load/row_loader.h"

#include <algorithm>
#include <exception>
#include <future>
#include <stdexcept>

#include "transform/uuid_map.h"

namespace edpipe::load {

// In place: a batch rarely holds two fragments of one id, and then nothing moves.
transform::RowBatch coalesce_fragments(transform::RowBatch&& rows, uint64_t* log_conflicts) {
  auto fold = [](auto& items, auto&& merge_into_first) {
    transform::UuidMap<uint32_t> first;  // the index of the first fragment of each id
    first.reserve(items.size());
    std::vector<bool> merged_away;
    for (size_t i = 0; i < items.size(); ++i) {
      bool fresh;
      uint32_t& at = first.get(items[i].id, fresh);
      if (fresh) {
        at = static_cast<uint32_t>(i);
        continue;
      }
      merge_into_first(items[at], items[i]);
      if (merged_away.empty()) merged_away.resize(items.size());
      merged_away[i] = true;
    }
    if (merged_away.empty()) return;
    size_t kept = 0;
    for (size_t i = 0; i < items.size(); ++i)
      if (!merged_away[i]) {
        if (kept != i) items[kept] = std::move(items[i]);
        ++kept;
      }
    items.resize(kept);
  };
  auto state = [](auto& into, const auto& from) { merge_into(into, from); };
  fold(rows.invocations, state);
  fold(rows.event_executions, state);
  fold(rows.job_executions, state);
  fold(rows.job_logs, [&](transform::JobLogRow& into, const transform::JobLogRow& from) {
    if (log_conflicts && into.log.seq && into.rank != from.rank) ++*log_conflicts;
    into = merge(into, from);
  });
  return std::move(rows);
}

RowLoader::RowLoader(std::string conninfo, LoaderOptions options, RowDeadLetter dead_letter)
    : dead_letter_(std::move(dead_letter)) {
  const int n = std::clamp(options.connections, 1, kShardCount);
  RowDeadLetter one_at_a_time;
  if (dead_letter_)
    one_at_a_time = [this](const std::string& json) {
      std::lock_guard lock(dead_letter_mu_);
      dead_letter_(json);
    };
  for (int lane = 0; lane < n; ++lane) {
    std::vector<int> shards;
    for (int s = lane; s < kShardCount; s += n) shards.push_back(s);
    lanes_.push_back(std::make_unique<LoadLane>(conninfo, options, one_at_a_time, std::move(shards)));
  }
  // One batch waits per lane while it loads another: memory stays at a few batches.
  for (auto& lane : lanes_)
    queues_.push_back(std::make_unique<BackgroundQueue<LaneWork>>(
        [l = lane.get()](LaneWork&& work) {
          if (!work.days.empty()) l->make_day_partitions(work.days);
          l->load(work.rows);
        },
        1));
}

RowLoader::~RowLoader() {
  cancel();
  queues_.clear();  // their threads end before the lanes they use
}

void RowLoader::cancel() {
  for (auto& lane : lanes_) lane->stop();
  for (auto& q : queues_) q->cancel();
  for (auto& lane : lanes_) lane->resume();  // idle now: free for reading back the summary
}

void RowLoader::open() {
  std::vector<std::future<void>> others;
  for (size_t k = 1; k < lanes_.size(); ++k) others.push_back(std::async(std::launch::async, [l = lanes_[k].get()] { l->open(); }));
  std::exception_ptr first;
  try {
    lanes_.front()->open();
  } catch (...) {
    first = std::current_exception();
  }
  for (auto& f : others) {
    try {
      f.get();
    } catch (...) {
      if (!first) first = std::current_exception();
    }
  }
  if (first) std::rethrow_exception(first);
}

void RowLoader::prepare_days(std::vector<int32_t> days) {
  if (days.empty()) return;
  for (auto& q : queues_)
    if (q->try_submit(LaneWork{{}, days})) return;
}

std::optional<Timestamp> RowLoader::horizon_seen() const {
  std::optional<Timestamp> newest;
  for (const auto& lane : lanes_)
    if (const auto h = lane->horizon_seen(); h && (!newest || *h > *newest)) newest = h;
  return newest;
}

LoaderStats RowLoader::stats() const {
  LoaderStats total;
  for (const auto& lane : lanes_) total += lane->stats();
  total.batches = batches_;
  total.log_conflicts += log_conflicts_;
  return total;
}

void RowLoader::finish() {
  std::exception_ptr first;
  for (auto& q : queues_) {
    try {
      q->finish();
    } catch (...) {
      if (!first) first = std::current_exception();
    }
  }
  if (first) std::rethrow_exception(first);
}

void RowLoader::load(transform::RowBatch rows) {
  std::vector<ingest::FilePosition> positions = std::move(rows.positions);
  rows.positions.clear();
  std::vector<transform::RowBatch> parts;
  parts.push_back(std::move(rows));
  load(std::move(parts), std::move(positions));
}

void RowLoader::load(std::vector<transform::RowBatch> parts, std::vector<ingest::FilePosition> positions) {
  const bool no_rows = std::all_of(parts.begin(), parts.end(), [](const transform::RowBatch& p) { return p.empty(); });
  if (no_rows && positions.empty()) return;
  ++batches_;
  const size_t n = lanes_.size();
  // Fragments of one id share an invocation, hence a lane: merged lane by lane, as in one batch.
  auto lane_parts = n == 1 ? std::vector<transform::RowBatch>{transform::RowBatch::concat(std::move(parts))}
                           : split_by_invocation(std::move(parts), n, [n](const Uuid& invocation_id) {
                               return static_cast<size_t>(shard_of(invocation_id)) % n;
                             });
  for (size_t k = 0; k < n; ++k) {
    transform::RowBatch merged = coalesce_fragments(std::move(lane_parts[k]), &log_conflicts_);
    merged.positions.clear();
    if (!merged.empty()) queues_[k]->submit({std::move(merged), {}});
  }
  if (positions.empty()) return;
  if (!owner_) throw std::logic_error("read positions to save, and no FileOwnership to save them");
  // Last, once every lane has committed this batch and those before it (finish() throws if one
  // failed or the loader was cancelled): a crash before this replays lines whose rows are
  // already there, and a replay changes nothing.
  finish();
  owner_->save_positions(positions);
}

}  // namespace edpipe::load
