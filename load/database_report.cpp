#include "load/database_report.h"

#include "load/load_sql.h"
#include "load/rollup_store.h"

namespace edpipe::load {
namespace {
// One scan per table: the rows by status, their total, and `also` (a count(...) expression)
// summed over the statuses. Returns the total.
template <size_t N, class E>
uint64_t count_by_status(pqxx::read_transaction& tx, const char* table, std::array<uint64_t, N>& out, E first,
                         const char* also = "0", uint64_t* also_total = nullptr) {
  uint64_t total = 0;
  for (const auto& r : tx.exec(std::string("SELECT status, count(*), ") + also + " FROM " + table + " GROUP BY status")) {
    total += r[1].as<uint64_t>();
    if (also_total) *also_total += r[2].as<uint64_t>();
    for (size_t i = 0; i < N; ++i)
      if (status_name(static_cast<decltype(first)>(i)) == r[0].as<std::string>()) out[i] = r[1].as<uint64_t>();
  }
  return total;
}
}  // namespace

transform::TallyResult read_database_tally(pqxx::connection& conn, const std::set<transform::RollupKey>* only_hours,
                                           bool count_always) {
  transform::TallyResult t;
  pqxx::read_transaction tx(conn);
  // A partitioned table (migration 016) has no estimate of its own: its partitions' are summed.
  const auto estimates = tx.exec(
      "SELECT (SELECT sum(greatest(c.reltuples, 0))::bigint FROM pg_class c WHERE c.oid = t.name::regclass "
      "OR c.oid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = t.name::regclass)) "
      "FROM (VALUES (1, 'invocations'), (2, 'event_executions'), (3, 'job_executions'), (4, 'job_logs')) t(n, name) ORDER BY n");
  uint64_t estimated = 0;
  for (const auto& r : estimates) estimated += r[0].as<uint64_t>();
  if (!count_always && estimated > kCountedTotalsUpTo && estimates.size() == 4) {
    t.rows_estimated = true;
    t.invocations = estimates[0][0].as<uint64_t>();
    t.event_executions = estimates[1][0].as<uint64_t>();
    t.job_executions = estimates[2][0].as<uint64_t>();
    t.job_logs = estimates[3][0].as<uint64_t>();
  } else {
    t.invocations = count_by_status(tx, "invocations", t.invocations_by_status, transform::InvocationStatus::Running,
                                    "count(source_job_ref)", &t.chained_invocations);
    t.event_executions = count_by_status(tx, "event_executions", t.events_by_status, transform::EventStatus::Detecting);
    t.job_executions = count_by_status(tx, "job_executions", t.jobs_by_status, transform::JobStatus::Running);
    t.job_logs = tx.exec("SELECT count(*) FROM job_logs")[0][0].as<uint64_t>();
  }
  RollupStore store(tx);
  for (auto& [k, r] : store.read_all()) {
    ++t.hourly_rows;
    if (!only_hours || only_hours->count(k)) t.rollups[k] = std::move(r);
  }
  return t;
}

Timestamp read_watermark(pqxx::connection& conn) {
  pqxx::read_transaction tx(conn);
  auto r = tx.exec(sql::kReadWatermark);
  return r.empty() ? 0 : r[0][0].as<int64_t>();
}

}  // namespace edpipe::load
