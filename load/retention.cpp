#include "load/retention.h"

#include <chrono>
#include <map>
#include <numeric>
#include <thread>
#include <vector>

#include "load/load_lane.h"
#include "load/load_sql.h"

namespace edpipe::load {
namespace {

// The point a keep-duration counts back from: the newest record loaded, or the wall clock.
Timestamp reference_point(pqxx::work& tx, bool from_now) {
  const auto r = tx.exec(from_now ? "SELECT (extract(epoch FROM now()) * 1000000)::bigint" : sql::kReadWatermark);
  if (r.empty() || r[0][0].is_null()) return 0;  // nothing loaded: no horizon moves
  return r[0][0].as<int64_t>();
}

std::optional<Timestamp> current_horizon(pqxx::transaction_base& tx) {
  const auto r = tx.exec("SELECT (extract(epoch FROM horizon) * 1000000)::bigint FROM edpipe_retention");
  if (r.empty()) return std::nullopt;
  return r[0][0].as<int64_t>();
}

}  // namespace

bool a_load_runs_beside(pqxx::connection& conn) {
  pqxx::nontransaction tx(conn);
  return tx.exec(sql::kLoadsBeside)[0][0].as<bool>();
}

std::optional<Timestamp> read_horizon(pqxx::connection& conn) {
  pqxx::read_transaction tx(conn);
  return current_horizon(tx);
}

PruneResult prune(pqxx::connection& conn, const PruneOptions& o, const std::function<void(const PruneResult&)>& progress) {
  PruneResult res;
  Timestamp target, base = 0;
  std::optional<Timestamp> before;
  {
    pqxx::work tx(conn);
    base = reference_point(tx, o.from_now);
    target = hour_floor(o.before ? *o.before : base - o.keep);
    before = current_horizon(tx);
    if (!o.before && base == 0) target = before.value_or(0);  // an empty database: nothing to do
    res.horizon = std::max(target, before.value_or(target));
    if (o.dry_run) {
      const auto c = tx.exec_params(sql::kCountPrunable, format_rfc3339(res.horizon))[0];
      res.invocations = c[0].as<uint64_t>();
      res.event_executions = c[1].as<uint64_t>();
      res.job_executions = c[2].as<uint64_t>();
      res.job_logs = c[3].as<uint64_t>();
      if (o.keep_rollups)
        res.rollups = tx.exec_params("SELECT count(*) FROM metrics_hourly WHERE hour_bucket < date_trunc('hour', $1::timestamptz)",
                                     format_rfc3339(base - *o.keep_rollups))[0][0]
                          .as<uint64_t>();
      return res;
    }
  }
  if (target == 0 && !before) return res;
  {
    // Forward only; it waits for the loads in flight (they read it FOR SHARE), and every load
    // after it leaves out what is older.
    pqxx::work tx(conn);
    res.horizon = tx.exec_params(sql::kMoveHorizon, format_rfc3339(target))[0][0].as<int64_t>();
    res.horizon_moved = !before || res.horizon > *before;
    tx.commit();
  }
  std::vector<int> all(kShardCount);
  std::iota(all.begin(), all.end(), 0);
  const std::string lock_all = sql::lock_shards(all);
  constexpr auto kLoadRemembered = std::chrono::seconds(10);
  std::optional<std::chrono::steady_clock::time_point> load_seen;
  // A load beside the prune: rest as long as the last step took, times `rest`.
  auto rest_after = [&](std::chrono::steady_clock::time_point started) {
    // A load holds its shard locks only while it writes a batch, not while it reads the next:
    // one seen in the last seconds is running still.
    const auto now = std::chrono::steady_clock::now();
    if (o.rest > 0 && a_load_runs_beside(conn)) load_seen = now;
    if (o.rest > 0 && load_seen && now - *load_seen < kLoadRemembered) {
      std::this_thread::sleep_for((now - started) * o.rest);
      ++res.rests;
    }
  };
  // First the days whose every invocation is older than the horizon: each dropped whole, its
  // four partitions at once, under every shard lock (a load checks its days under its own).
  std::vector<std::string> days;
  if (o.whole_days) {
    pqxx::read_transaction tx(conn);
    for (const auto& r : tx.exec(sql::kDayPartitions)) days.push_back(r[0].as<std::string>());
  }
  const std::string horizon = format_rfc3339(res.horizon);
  const char* const kTables[] = {"invocations", "event_executions", "job_executions", "job_logs"};
  for (const auto& day : days) {
    if (day + "T00:00:00.000000Z" >= horizon) break;  // a day from the horizon on stays whole
    if (o.max_batches && res.batches >= o.max_batches) break;
    const auto started = std::chrono::steady_clock::now();
    pqxx::work tx(conn);
    tx.exec(lock_all);
    tx.exec(sql::kLockPartitions);
    if (!tx.exec_params(sql::kDaysWithoutPartitions, "{" + day + "}").empty()) continue;  // gone meanwhile
    tx.exec0(sql::kCreateDayKept);
    const uint64_t kept = tx.exec_params0(sql::kFillDayKept, day, horizon).affected_rows();
    const uint64_t n = tx.exec_params1(sql::kCountDay, day)[0].as<uint64_t>() - kept;
    // A day the horizon cuts (invocations that went on past it, or a horizon within the day) is
    // made again with its kept invocations when they are fewer than those that go: copying them
    // costs about what deleting as many rows does. Otherwise the batches below delete.
    if (n == 0 || kept >= n) continue;
    const std::string stamp = tx.exec1("SELECT now()")[0].as<std::string>();
    std::map<std::string, std::string> columns;
    if (kept)
      for (const char* t : kTables) {
        columns[t] = tx.exec_params1(sql::kWrittenColumns, t)[0].as<std::string>();
        tx.exec_params0(sql::save_kept(t, columns[t]), day);
      }
    tx.exec_params0(sql::kRememberDay, day, horizon);
    tx.exec_params0(sql::kUnlinkDay, day, stamp);
    tx.exec_params0(sql::kUnwaitDay, day);
    tx.exec0(sql::drop_day(day));
    if (kept) {  // its span (migration 017) still holds the kept rows' created_at
      tx.exec_params("SELECT edpipe_add_day_partitions($1::date)", day);
      for (const char* t : kTables) tx.exec0(sql::restore_kept(t, columns[t]));
    } else {
      tx.exec_params0(sql::kForgetDaySpan, day);
    }
    tx.commit();
    res.invocations += n;
    ++res.batches;
    ++res.days_dropped;
    if (progress) progress(res);
    rest_after(started);
  }
  for (;;) {
    if (o.max_batches && res.batches >= o.max_batches) {
      res.complete = false;
      break;
    }
    const auto started = std::chrono::steady_clock::now();
    pqxx::work tx(conn);
    tx.exec(lock_all);  // the loaders' order: no deadlock, and none waits longer than one batch
    const std::string stamp = tx.exec1("SELECT now()")[0].as<std::string>();
    const uint64_t n =
        tx.exec_params(sql::kPruneBatch, format_rfc3339(res.horizon), static_cast<int64_t>(o.batch), stamp)[0][0]
            .as<uint64_t>();
    tx.commit();
    res.invocations += n;
    ++res.batches;
    if (progress) progress(res);
    if (n < o.batch) break;
    rest_after(started);
  }
  {
    pqxx::work tx(conn);
    tx.exec_params(sql::kForgetPruned, format_rfc3339(res.horizon));
    if (o.keep_rollups) {
      res.rollups = tx.exec_params(sql::kPruneRollups, format_rfc3339(base - *o.keep_rollups)).affected_rows();
      tx.exec_params("UPDATE edpipe_retention SET rollup_horizon = greatest(rollup_horizon, date_trunc('hour', $1::timestamptz))",
                     format_rfc3339(base - *o.keep_rollups));
    }
    tx.commit();
  }
  if (o.vacuum && res.invocations > 0) {
    pqxx::nontransaction vacuum(conn);  // VACUUM cannot run inside a transaction block
    vacuum.exec("VACUUM (ANALYZE) job_logs, job_executions, event_executions, invocations, edpipe_pruned");
    res.vacuumed = true;
  }
  return res;
}

}  // namespace edpipe::load
