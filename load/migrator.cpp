#include "load/migrator.h"

#include <algorithm>
#include <functional>
#include <map>

#include "load/load_sql.h"
#include "load/log_rekey.h"

namespace edpipe::load {
namespace {
constexpr const char* kCreateMigrationsTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())";

// Steps that SQL alone cannot do, run after a migration's SQL in its transaction.
const std::map<int, std::function<void(pqxx::work&)>>& data_steps() {
  static const std::map<int, std::function<void(pqxx::work&)>> kSteps = {
      {7, [](pqxx::work& tx) { rekey_job_logs(tx); }},
  };
  return kSteps;
}
}  // namespace

void Migrator::ensure_table() {
  pqxx::work tx(conn_);
  tx.exec(sql::kLockMigrations);  // one migrator at a time, whatever the number of edpipes
  tx.exec0(kCreateMigrationsTable);
  tx.commit();
}

int schema_version(pqxx::connection& conn) {
  pqxx::read_transaction tx(conn);
  if (tx.exec("SELECT to_regclass('schema_migrations')")[0][0].is_null()) return 0;
  return tx.exec("SELECT coalesce(max(version), 0) FROM schema_migrations")[0][0].as<int>();
}

void require_latest_schema(pqxx::connection& conn) {
  const int version = schema_version(conn);
  const int needed = latest_migration_version();
  if (version < needed)
    throw SchemaError("the database is at schema version " + std::to_string(version) + ", edpipe needs " +
                      std::to_string(needed) + ": run `edpipe migrate up` first");
  if (version > needed)
    throw SchemaError("the database is at schema version " + std::to_string(version) + ", newer than this edpipe (" +
                      std::to_string(needed) + "): use a newer edpipe");
}

int latest_migration_version() { return all_migrations().empty() ? 0 : all_migrations().back().version; }

int Migrator::latest_version() const { return latest_migration_version(); }

std::vector<MigrationStatus> Migrator::status() {
  ensure_table();
  pqxx::work tx(conn_);
  auto rows = tx.exec("SELECT version, applied_at::text FROM schema_migrations");
  std::vector<MigrationStatus> out;
  for (const auto& m : all_migrations()) {
    MigrationStatus s{m.version, m.name, false, ""};
    for (const auto& r : rows)
      if (r[0].as<int>() == m.version) {
        s.applied = true;
        s.applied_at = r[1].as<std::string>();
      }
    out.push_back(s);
  }
  return out;
}

int Migrator::current_version() {
  int v = 0;
  for (const auto& s : status())
    if (s.applied) v = std::max(v, s.version);
  return v;
}

std::vector<MigrationStatus> Migrator::up(int count) {
  ensure_table();
  std::vector<MigrationStatus> done;
  for (const auto& m : all_migrations()) {
    if (count >= 0 && static_cast<int>(done.size()) >= count) break;
    pqxx::work tx(conn_);
    tx.exec(sql::kLockMigrations);  // one migrator at a time, whatever the number of edpipes
    if (!tx.exec_params("SELECT 1 FROM schema_migrations WHERE version = $1", m.version).empty()) continue;
    tx.exec(m.up_sql);
    if (auto step = data_steps().find(m.version); step != data_steps().end()) step->second(tx);
    tx.exec_params("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.version, std::string(m.name));
    tx.commit();
    done.push_back({m.version, m.name, true, ""});
  }
  return done;
}

std::vector<MigrationStatus> Migrator::down(int count) {
  ensure_table();
  std::vector<MigrationStatus> done;
  const auto& all = all_migrations();
  for (auto it = all.rbegin(); it != all.rend() && static_cast<int>(done.size()) < count; ++it) {
    pqxx::work tx(conn_);
    tx.exec(sql::kLockMigrations);  // one migrator at a time, whatever the number of edpipes
    if (tx.exec_params("SELECT 1 FROM schema_migrations WHERE version = $1", it->version).empty()) continue;
    tx.exec(it->down_sql);
    tx.exec_params("DELETE FROM schema_migrations WHERE version = $1", it->version);
    tx.commit();
    done.push_back({it->version, it->name, false, ""});
  }
  return done;
}

}  // namespace edpipe::load
