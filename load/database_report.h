#pragma once
// What the database holds, in the summary's terms: rows, statuses and hourly rollups.
#include <pqxx/pqxx>
#include <set>

#include "transform/row_tally.h"

namespace edpipe::load {

// Counts over the whole database; the rollups of `only_hours` when given (hourly_rows counts all).
transform::TallyResult read_database_tally(pqxx::connection& conn, const std::set<transform::RollupKey>* only_hours = nullptr);
// The newest ts the database has received (0 when none).
Timestamp read_watermark(pqxx::connection& conn);

}  // namespace edpipe::load
