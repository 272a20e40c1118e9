#pragma once
// Connecting to PostgreSQL, and telling passing faults from data faults.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
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
  explicit ConnectionError(const std::string& what, bool lasting = false) : std::runtime_error(what), lasting_(lasting) {}
  // The server said no for good (authentication, no such database or role, a malformed
  // connection string): trying again cannot help. Otherwise the server may be starting, in
  // crash recovery, restarting or out of connection slots, and connecting again may work.
  bool lasting() const noexcept { return lasting_; }

 private:
  bool lasting_;
};

// SQLSTATE classes worth retrying with backoff (connection loss, resources, shutdown,
// serialization failure, deadlock).
bool is_transient(const std::string& sqlstate);
// A fault that passes: the connection lost or refused (the server crashed, restarting,
// recovering), a commit whose outcome is unknown, a transient SQLSTATE. Data errors are not.
bool is_passing_fault(const std::exception& e);

// A passing fault that lost our connection (as against one the server answered, such as a
// deadlock, or a Citus worker that did not answer the coordinator): the server crashed, shut
// down or the network dropped.
bool is_connection_loss(const std::exception& e);

// How long passing faults are retried: one bound for connecting and for every statement.
// The bound is per outage: when the database was back between two faults (a try opened a new
// session and lost it, or ran on its session for a while before its fault: a Citus worker
// that crashed again, say), the next fault starts a new outage with a backoff of its own,
// since the piece of work in hand did nothing wrong. Outages in a row are bounded too, so that
// a server that dies on every try still ends the run.
struct RetryBound {
  int max_attempts = 8;          // tries of one piece of work in one outage (about 15 s of backoff)
  int max_outages = 6;           // outages one piece of work meets before it gives up
  int backoff_initial_ms = 100;  // doubling per try, up to 5 s, jittered
  int served_ms = 250;           // a try that ran this long on its session before its fault: back
};

// One connection, opened when needed and opened again after a passing fault. `on_connect` runs
// on every new connection before any work does: the session state that work relies on (settings,
// temp tables, session locks) is set again after every reconnect, never assumed. One thread at a
// time runs work; stop() may come from any thread.
class RetryingSession {
 public:
  RetryingSession(std::string conninfo, RetryBound bound, std::function<void(pqxx::connection&)> on_connect = {});

  // Runs `work` on the connection; after a passing fault drops the connection, backs off and
  // runs it again, up to the bound. Work must be safe to run again: a transaction that failed
  // left nothing, and one whose COMMIT's outcome is unknown may have committed.
  template <class Work>
  auto run(Work&& work) -> decltype(work(std::declval<pqxx::connection&>())) {
    for (int attempt = 1, outages = 1;; ++attempt) {
      const uint64_t connects_before = connects_;
      std::optional<std::chrono::steady_clock::time_point> connected_at;
      try {
        pqxx::connection& c = connection();
        connected_at = std::chrono::steady_clock::now();
        return work(c);
      } catch (const std::exception& e) {
        if (!is_passing_fault(e) || stop_.load()) throw;
        // Our session gone, not a fault the server reported on it (libpqxx throws
        // broken_connection for any 08 SQLSTATE, Citus's "remote node" errors included).
        const bool lost = is_connection_loss(e) && !(conn_ && conn_->is_open());
        const bool served = connected_at && std::chrono::steady_clock::now() - *connected_at >=
                                                std::chrono::milliseconds(bound_.served_ms);
        if (attempt > 1 && (served || (connects_ != connects_before && lost))) {
          attempt = 1;  // the database was back, then failed again: a new outage
          ++outages;
        }
        if (attempt >= bound_.max_attempts || outages >= bound_.max_outages) throw;
        conn_.reset();
        ++retries_;
        back_off(attempt);
      }
    }
  }
  // The open connection, connecting (once, no retry) if there is none.
  pqxx::connection& connection();
  // Whether the open connection is still there, without a round trip (reads what the socket
  // has: a server that died closed it). False when there is none.
  bool alive();
  void drop() noexcept { conn_.reset(); }

  // Ends the retries of the work in hand (its backoff too) and of any later work, until resume().
  void stop() noexcept { stop_.store(true); }
  void resume() noexcept { stop_.store(false); }
  uint64_t retries() const noexcept { return retries_; }
  const std::string& conninfo() const noexcept { return conninfo_; }

 private:
  void back_off(int attempt);
  std::string conninfo_;
  RetryBound bound_;
  std::function<void(pqxx::connection&)> on_connect_;
  std::unique_ptr<pqxx::connection> conn_;
  std::atomic<bool> stop_{false};
  uint64_t retries_ = 0;
  uint64_t connects_ = 0;
};

}  // namespace edpipe::load
