#include "load/migrator.h"

#include <algorithm>
#include <cctype>
#include <functional>
#include <map>

#include "load/load_sql.h"
#include "load/log_rekey.h"

namespace edpipe::load {
namespace {
constexpr const char* kCreateMigrationsTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())";

// Where the tables go on Citus, run after a migration's SQL (and its data step) in its
// transaction, nothing elsewhere: the detail tables distributed by invocation and co-located
// (one invocation's rows on one worker), the rollups and the bookkeeping local on the
// coordinator. The tables of 001 become distributable in 014, which places them; 016 makes them
// again (partitioned by day) and places them again.
struct Placement {
  const char* table;
  const char* column;
  const char* colocate_with;  // "none": a co-location group of its own
};
const std::map<int, std::vector<Placement>>& placements() {
  static const std::vector<Placement> kDetailTables = {{"invocations", "id", "none"},
                                                        {"event_executions", "invocation_id", "invocations"},
                                                        {"job_executions", "invocation_id", "invocations"},
                                                        {"job_logs", "invocation_id", "invocations"}};
  static const std::map<int, std::vector<Placement>> kPlacements = {{14, kDetailTables}, {16, kDetailTables}};
  return kPlacements;
}

// A migration that distributes or undistributes a table and then creates or drops a function
// (which Citus sends to every node) must run over one connection per node.
constexpr const char* kOneConnectionPerNode = "SET LOCAL citus.multi_shard_modify_mode TO 'sequential'";

void distribute(pqxx::work& tx, const Placement& p) {
  tx.exec_params("SELECT create_distributed_table($1::regclass, $2, colocate_with => $3)", std::string(p.table),
                 std::string(p.column), std::string(p.colocate_with));
}

// A table that a migration placed and its down made again goes back where the migration before
// it had placed it.
std::vector<Placement> placements_before(int version, const std::vector<Placement>& undone) {
  std::vector<Placement> out;
  for (const auto& u : undone)
    for (auto it = placements().rbegin(); it != placements().rend(); ++it) {
      if (it->first >= version) continue;
      const auto p = std::find_if(it->second.begin(), it->second.end(),
                                  [&](const Placement& q) { return std::string(q.table) == u.table; });
      if (p != it->second.end()) {
        out.push_back(*p);
        break;
      }
    }
  return out;
}

void run_statements(pqxx::work& tx, const std::string& sql) {
  for (const auto& statement : split_sql_statements(sql)) tx.exec(statement);
}

// Steps that SQL alone cannot do, run after a migration's SQL in its transaction.
const std::map<int, std::function<void(pqxx::work&)>>& data_steps() {
  static const std::map<int, std::function<void(pqxx::work&)>> kSteps = {
      {7, [](pqxx::work& tx) { rekey_job_logs(tx); }},
  };
  return kSteps;
}
}  // namespace

std::vector<std::string> split_sql_statements(const std::string& sql) {
  std::vector<std::string> out;
  size_t start = 0, i = 0;
  // A piece of only blanks and comments is no statement.
  auto has_code = [](const std::string& piece) {
    for (size_t k = 0; k < piece.size();) {
      if (piece.compare(k, 2, "--") == 0) {
        k = piece.find('\n', k);
        if (k == std::string::npos) return false;
      } else if (piece.compare(k, 2, "/*") == 0) {
        k = piece.find("*/", k + 2);
        if (k == std::string::npos) return false;
        k += 2;
      } else if (std::isspace(static_cast<unsigned char>(piece[k]))) {
        ++k;
      } else {
        return true;
      }
    }
    return false;
  };
  auto flush = [&](size_t end) {
    std::string piece = sql.substr(start, end - start);
    if (has_code(piece)) out.push_back(std::move(piece));
    start = end + 1;
  };
  while (i < sql.size()) {
    const char c = sql[i];
    if (c == '-' && sql.compare(i, 2, "--") == 0) {
      i = sql.find('\n', i);
      if (i == std::string::npos) break;
    } else if (c == '/' && sql.compare(i, 2, "/*") == 0) {
      i = sql.find("*/", i + 2);
      if (i == std::string::npos) break;
      i += 2;
    } else if (c == '\'' || c == '"') {
      // '' inside a string (and "" inside an identifier) is the quote itself: the scan simply
      // leaves and enters again.
      i = sql.find(c, i + 1);
      if (i == std::string::npos) break;
      ++i;
    } else if (c == '$') {
      // $tag$ ... $tag$, the tag an identifier or empty; a $1 parameter is no quote.
      size_t j = i + 1;
      while (j < sql.size() && (std::isalnum(static_cast<unsigned char>(sql[j])) || sql[j] == '_')) ++j;
      if (j < sql.size() && sql[j] == '$' && !(j > i + 1 && std::isdigit(static_cast<unsigned char>(sql[i + 1])))) {
        const std::string tag = sql.substr(i, j - i + 1);
        i = sql.find(tag, j + 1);
        if (i == std::string::npos) break;
        i += tag.size();
      } else {
        i = j;
      }
    } else if (c == ';') {
      flush(i);
      ++i;
    } else {
      ++i;
    }
  }
  if (start < sql.size()) flush(sql.size());
  return out;
}

bool has_citus(pqxx::connection& conn) {
  pqxx::read_transaction tx(conn);
  return !tx.exec("SELECT 1 FROM pg_extension WHERE extname = 'citus'").empty();
}

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
  const bool citus = has_citus(conn_);
  std::vector<MigrationStatus> done;
  for (const auto& m : all_migrations()) {
    if (count >= 0 && static_cast<int>(done.size()) >= count) break;
    pqxx::work tx(conn_);
    tx.exec(sql::kLockMigrations);  // one migrator at a time, whatever the number of edpipes
    if (!tx.exec_params("SELECT 1 FROM schema_migrations WHERE version = $1", m.version).empty()) continue;
    if (citus) tx.exec(kOneConnectionPerNode);
    run_statements(tx, m.up_sql);
    if (auto step = data_steps().find(m.version); step != data_steps().end()) step->second(tx);
    if (auto placed = placements().find(m.version); citus && placed != placements().end())
      for (const auto& p : placed->second) distribute(tx, p);
    tx.exec_params("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.version, std::string(m.name));
    tx.commit();
    done.push_back({m.version, m.name, true, ""});
  }
  return done;
}

std::vector<MigrationStatus> Migrator::down(int count) {
  ensure_table();
  const bool citus = has_citus(conn_);
  std::vector<MigrationStatus> done;
  const auto& all = all_migrations();
  for (auto it = all.rbegin(); it != all.rend() && static_cast<int>(done.size()) < count; ++it) {
    pqxx::work tx(conn_);
    tx.exec(sql::kLockMigrations);  // one migrator at a time, whatever the number of edpipes
    if (tx.exec_params("SELECT 1 FROM schema_migrations WHERE version = $1", it->version).empty()) continue;
    if (citus) tx.exec(kOneConnectionPerNode);
    // A distributed table is made local again before its migration is undone.
    const auto placed = placements().find(it->version);
    const bool replaced = citus && placed != placements().end();
    if (replaced)
      for (auto p = placed->second.rbegin(); p != placed->second.rend(); ++p)
        tx.exec_params("SELECT undistribute_table($1::regclass)", std::string(p->table));
    run_statements(tx, it->down_sql);
    if (replaced)
      for (const auto& p : placements_before(it->version, placed->second)) distribute(tx, p);
    tx.exec_params("DELETE FROM schema_migrations WHERE version = $1", it->version);
    tx.commit();
    done.push_back({it->version, it->name, false, ""});
  }
  return done;
}

}  // namespace edpipe::load
