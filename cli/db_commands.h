#pragma once
#include <string>
#include <vector>

namespace edpipe::cli {

// `edpipe migrate up [N] | down [N] | status`; returns the exit status.
int run_migrate(const std::vector<std::string>& args);
// `edpipe verify`; returns the exit status (3 when the database differs from its rows).
int run_verify(const std::vector<std::string>& args);
int run_prune(const std::vector<std::string>& args);

constexpr const char* kDbOptionHelp =
    "the database: a libpq URI (postgresql://user@host/db) or key=value string; default: DATABASE_URL, "
    "else the PG* environment (PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD, PGPASSFILE, ~/.pgpass)";

}  // namespace edpipe::cli
