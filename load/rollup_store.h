#pragma once
// metrics_hourly rows <-> HourlyRollup: the stored mergeable state and the columns people read.
#include <pqxx/pqxx>
#include <map>
#include <vector>

#include "transform/hourly_rollup.h"

namespace edpipe::load {

class RollupStore {
 public:
  explicit RollupStore(pqxx::transaction_base& tx) : tx_(tx) {}
  // The stored rollup of one hour and function, locked for update; empty when there is none.
  transform::HourlyRollup read_for_update(const transform::RollupKey& key);
  // Adds `delta` (signed contributions) to the stored row and writes it back. min/max are
  // recomputed from the invocations only when one of the `removed` durations was an extreme.
  void add_delta(const transform::RollupKey& key, const transform::HourlyRollup& delta, const std::vector<int64_t>& removed);
  // Every stored row.
  transform::RollupTable read_all();

  // name_metrics_hourly: adds the signed changes of one hour and function's names; a name that
  // drops to nothing is deleted. (Loads call it in the serial end, as add_delta.)
  void add_name_deltas(const transform::RollupKey& key, const transform::NameRollups& delta);
  transform::NameRollupTable read_all_names();

 private:
  pqxx::transaction_base& tx_;
};


}  // namespace edpipe::load
