#pragma once
// Connecting to PostgreSQL, and telling passing faults from data faults.
#include <memory>
#include <pqxx/pqxx>
#include <string>

namespace edpipe::load {

// The connection string: --db (a libpq URI or key=value string), else DATABASE_URL, else ""
// (libpq then reads PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD, PGPASSFILE, ~/.pgpass).
std::string resolve_conninfo(const std::string& db_option);

// A connection string, or any text holding one, with the password field of every URI and
// key=value string replaced by "****", and nothing else: fit for messages.
std::string mask_password(const std::string& text);
// An error message with password fields masked, and the password of `conninfo` (or
// PGPASSWORD) where libpq echoes it back as a quoted token.
std::string mask_secrets(std::string text, const std::string& conninfo);

// Opens a connection; throws ConnectionError with a message that never holds the password.
std::unique_ptr<pqxx::connection> open_connection(const std::string& conninfo);

class ConnectionError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// SQLSTATE classes worth retrying with backoff (connection loss, resources, shutdown,
// serialization failure, deadlock).
bool is_transient(const std::string& sqlstate);

}  // namespace edpipe::load
