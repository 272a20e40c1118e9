#pragma once
// What the database holds, in the summary's terms: rows, statuses and hourly rollups.
#include <pqxx/pqxx>
#include <set>

#include "transform/row_tally.h"

namespace edpipe::load {

// Counting every row costs a scan of every table: seconds at millions of rows, paid at the end of
// each load of a growing database. Past this many rows (as PostgreSQL estimates them), a summary
// takes the estimates unless told to count.
constexpr uint64_t kCountedTotalsUpTo = 2'000'000;

// Counts over the whole database; the rollups of `only_hours` when given (hourly_rows counts all).
// `count_always` false: estimated counts and no statuses past kCountedTotalsUpTo rows.
transform::TallyResult read_database_tally(pqxx::connection& conn, const std::set<transform::RollupKey>* only_hours = nullptr,
                                           bool count_always = true);
// The newest ts the database has received (0 when none).
Timestamp read_watermark(pqxx::connection& conn);

}  // namespace edpipe::load
