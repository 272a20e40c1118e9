#pragma once
// `edpipe verify`: does the database hold what its rows say (wire-format invariant 3)?
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

namespace edpipe::load {

struct VerifyReport {
  size_t hours_checked = 0, invocations_checked = 0;
  std::vector<std::string> differences;  // one sentence each, naming the row
  std::optional<int64_t> horizon;        // µs: hours before the retention horizon were not checked
  bool ok() const { return differences.empty(); }
};

// Compares every metrics_hourly row with a from-scratch GROUP BY over the base tables (p50/p95/p99
// within 1 % + 1 ms of PostgreSQL's percentile_cont), every name_metrics_hourly row with its job
// or event executions, and every invocation's counts with its children's. Hours before the retention horizon have no detail rows left and are skipped.
VerifyReport verify_database(pqxx::connection& conn);

}  // namespace edpipe::load
