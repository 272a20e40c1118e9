#pragma once
// Numbered schema migrations (schema/migrations/NNN_name.{up,down}.sql, embedded at build time).
// Each runs in one transaction with its own verification; schema_migrations records what is applied.
#include <pqxx/pqxx>
#include <stdexcept>
#include <string>
#include <vector>

namespace edpipe::load {

struct Migration {
  int version;
  const char* name;
  const char* up_sql;
  const char* down_sql;
};
const std::vector<Migration>& all_migrations();

// A migration's SQL cut into its statements, each without the `;` that ends it: Citus takes DDL
// on distributed tables one statement at a time. Knows comments, quoted strings and identifiers,
// and dollar quoting (function bodies, DO blocks); blank pieces are left out.
std::vector<std::string> split_sql_statements(const std::string& sql);

// Whether the database has the citus extension: migrations then place the tables they create.
bool has_citus(pqxx::connection& conn);

// The database is not migrated (far enough): names `edpipe migrate up`.
class SchemaError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
// The schema version of the database (0: never migrated), read without creating anything.
int schema_version(pqxx::connection& conn);
// Throws SchemaError unless the database is at the version this edpipe needs.
void require_latest_schema(pqxx::connection& conn);
// The version the schema has once every migration is applied: what edpipe needs.
int latest_migration_version();

struct MigrationStatus {
  int version;
  std::string name;
  bool applied;
  std::string applied_at;  // "" when not applied
};

class Migrator {
 public:
  explicit Migrator(pqxx::connection& conn) : conn_(conn) {}
  std::vector<MigrationStatus> status();
  int current_version();
  // Applies the next `count` pending migrations (all when count < 0); returns those applied.
  std::vector<MigrationStatus> up(int count = -1);
  // Reverts the last `count` applied migrations (1 by default); returns those reverted.
  std::vector<MigrationStatus> down(int count = 1);
  int latest_version() const;

 private:
  void ensure_table();
  pqxx::connection& conn_;
};

}  // namespace edpipe::load
