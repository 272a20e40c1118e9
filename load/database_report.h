#pragma once
// What the database holds, in the summary's terms: rows, statuses and hourly rollups.
#include <pqxx/pqxx>
#include <set>

#include "row_tally.h"

namespace edpipe {

// Counts over the whole database; rollups of `hours` only (all when empty).
TallyResult read_database_tally(pqxx::connection& conn, const std::set<RollupKey>& hours);
// The newest ts the database has received (0 when none).
Timestamp read_watermark(pqxx::connection& conn);

}  // namespace edpipe
