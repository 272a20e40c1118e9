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
  // Adds each hour's `deltas` (signed contributions) to its stored row and writes them back, an
  // hour that drops to no invocation deleted. An hour's min/max are recomputed from the
  // invocations only when one of its `removed` durations was an extreme. Its listed names come
  // from name_metrics_hourly: add_name_deltas() first. A statement per step for every hour at
  // once: loads call this in their serial end, where each round trip holds up the other loaders.
  void add_deltas(const transform::RollupTable& deltas, const std::map<transform::RollupKey, std::vector<int64_t>>& removed);
  // Every stored row.
  transform::RollupTable read_all();

  // name_metrics_hourly: adds the signed changes of every hour's names; a name that drops to
  // nothing is deleted.
  void add_name_deltas(const transform::NameRollupTable& deltas);
  transform::NameRollupTable read_all_names();

 private:
  pqxx::transaction_base& tx_;
};


}  // namespace edpipe::load
