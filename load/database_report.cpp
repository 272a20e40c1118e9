#include "database_report.h"

#include "rollup_store.h"

namespace edpipe {
namespace {
template <size_t N, class E>
void count_by_status(pqxx::read_transaction& tx, const char* table, std::array<uint64_t, N>& out, E first) {
  for (const auto& r : tx.exec(std::string("SELECT status, count(*) FROM ") + table + " GROUP BY status"))
    for (size_t i = 0; i < N; ++i)
      if (status_name(static_cast<decltype(first)>(i)) == r[0].as<std::string>()) out[i] = r[1].as<uint64_t>();
}
}  // namespace

TallyResult read_database_tally(pqxx::connection& conn, const std::set<RollupKey>& hours) {
  TallyResult t;
  pqxx::read_transaction tx(conn);
  auto n = tx.exec(
      "SELECT (SELECT count(*) FROM invocations), (SELECT count(*) FROM event_executions), "
      "(SELECT count(*) FROM job_executions), (SELECT count(*) FROM job_logs), "
      "(SELECT count(*) FROM invocations WHERE source_job_ref IS NOT NULL)")[0];
  t.invocations = n[0].as<uint64_t>();
  t.event_executions = n[1].as<uint64_t>();
  t.job_executions = n[2].as<uint64_t>();
  t.job_logs = n[3].as<uint64_t>();
  t.chained_invocations = n[4].as<uint64_t>();
  count_by_status(tx, "invocations", t.invocations_by_status, InvocationStatus::Running);
  count_by_status(tx, "event_executions", t.events_by_status, EventStatus::Detecting);
  count_by_status(tx, "job_executions", t.jobs_by_status, JobStatus::Running);
  RollupStore store(tx);
  for (auto& [k, r] : store.read_all())
    if (hours.empty() || hours.count(k)) t.rollups[k] = std::move(r);
  return t;
}

Timestamp read_watermark(pqxx::connection& conn) {
  pqxx::read_transaction tx(conn);
  auto r = tx.exec("SELECT (extract(epoch FROM watermark) * 1000000)::bigint FROM edpipe_watermark");
  return r.empty() ? 0 : r[0][0].as<int64_t>();
}

}  // namespace edpipe
