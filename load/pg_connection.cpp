#include "load/pg_connection.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <random>
#include <regex>
#include <string_view>
#include <thread>

namespace edpipe::load {

std::string resolve_conninfo(const std::string& db_option) {
  if (!db_option.empty()) return db_option;
  if (const char* url = std::getenv("DATABASE_URL"); url && *url) return url;
  return "";
}

namespace {
// postgresql://user:secret@host/db: the password field of a URI, wherever one stands.
const std::regex& uri_password() {
  static const std::regex re(R"((postgres(?:ql)?://[^:/@\s"']*:)([^@\s"']*)(@))");
  return re;
}
// password=secret, password = 'se cret': the password of a key=value string.
const std::regex& kv_password() {
  static const std::regex re(R"(((?:^|\s)password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s]*))", std::regex::icase);
  return re;
}

std::string password_in(const std::string& conninfo) {
  std::smatch m;
  if (std::regex_search(conninfo, m, uri_password())) return m[2];
  if (std::regex_search(conninfo, m, kv_password())) {
    std::string p = m[2];
    if (p.size() >= 2 && p.front() == '\'') p = p.substr(1, p.size() - 2);
    return p;
  }
  return "";
}

// libpq quotes what it echoes back of a connection string (missing "=" after "secret"): a
// password it echoes is a whole quoted token. Only that is masked, and not where the token names
// a user, role or database (for user "bob"), so a password that is also a word of the message (a
// user name, a digit of the address) leaves the message readable and tells nothing.
void mask_quoted(std::string& text, const std::string& secret) {
  if (secret.empty()) return;
  const std::string quoted = "\"" + secret + "\"";
  for (size_t p = 0; (p = text.find(quoted, p)) != std::string::npos;) {
    const std::string before = text.substr(p >= 9 ? p - 9 : 0, p >= 9 ? 9 : p);
    const bool names = before.ends_with("user ") || before.ends_with("role ") || before.ends_with("database ");
    if (names) {
      p += quoted.size();
      continue;
    }
    text.replace(p, quoted.size(), "\"****\"");
    p += 6;
  }
}
}  // namespace

std::string mask_password(const std::string& text) {
  std::string out = std::regex_replace(text, uri_password(), "$1****$3");
  return std::regex_replace(out, kv_password(), "$1****");
}

std::string mask_secrets(std::string text, const std::string& conninfo) {
  text = mask_password(text);
  mask_quoted(text, password_in(conninfo));
  if (const char* env = std::getenv("PGPASSWORD"); env && *env) mask_quoted(text, env);
  return text;
}

std::unique_ptr<pqxx::connection> open_connection(const std::string& conninfo) {
  try {
    return std::make_unique<pqxx::connection>(conninfo);
  } catch (const std::exception& e) {
    std::string why = mask_secrets(e.what(), conninfo);
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    for (auto& c : why)
      if (c == '\n') c = ' ';
    const std::string target = conninfo.empty() ? "the database named by the PG* environment" : mask_password(conninfo);
    // What libpq says when the server answered and refused for good, or the string is wrong.
    // Everything else (refused, no socket, starting up, in recovery, shutting down, too many
    // clients, a timeout) is what a server that crashed or restarts looks like for a while.
    static const char* const kLasting[] = {"authentication failed", "does not exist", "no password supplied",
                                           "pg_hba.conf", "invalid connection option", "missing \"=\"",
                                           "invalid URI", "could not translate host name", "unterminated quoted",
                                           "invalid sslmode", "permission denied"};
    const bool lasting = std::any_of(std::begin(kLasting), std::end(kLasting),
                                     [&](const char* m) { return why.find(m) != std::string::npos; });
    throw ConnectionError("cannot connect to " + target + ": " + why, lasting);
  }
}

bool is_transient(const std::string& s) {
  if (s.size() != 5) return false;
  const std::string cls = s.substr(0, 2);
  // Connection lost, out of resources, server shutting down or restarting, serialization
  // failure, deadlock, statement or lock timeout (a lock held elsewhere for a while), and an
  // I/O error (58030: Citus's "failed to COPY to shard" when a worker dies mid-COPY; on one
  // server a disk that fails for good still ends the run at the retry bound).
  return cls == "08" || cls == "53" || s == "57P01" || s == "57P02" || s == "57P03" || s == "40001" || s == "40P01" ||
         s == "57014" || s == "55P03" || s == "58030";
}

namespace {
// Citus reports two node failures with no SQLSTATE of its own (XX000). The coordinator's own
// postmaster dying (a crash of the node) while a backend waits on the workers: the session ends.
bool is_citus_coordinator_death(const pqxx::sql_error& e) {
  return e.sqlstate() == "XX000" && std::string_view(e.what()).find("postmaster was shut down") != std::string_view::npos;
}
// A worker's connection lost: in a two-phase commit's prepare ("failure on connection marked as
// essential"), or mid-statement, where Citus passes on libpq's message with the context "while
// executing command on host:port".
bool is_citus_worker_lost(const pqxx::sql_error& e) {
  const std::string_view what = e.what();
  if (e.sqlstate() != "XX000") return false;
  if (what.find("failure on connection marked as essential") != std::string_view::npos) return true;
  if (what.find("while executing command on") == std::string_view::npos) return false;
  for (const char* lost : {"SSL SYSCALL error", "SSL error", "server closed the connection unexpectedly", "connection not open",
                           "could not receive data from server", "could not send data to server", "no connection to the server",
                           "terminating connection"})
    if (what.find(lost) != std::string_view::npos) return true;
  return false;
}
}  // namespace

bool is_passing_fault(const std::exception& e) {
  if (auto* s = dynamic_cast<const pqxx::sql_error*>(&e))
    return is_transient(s->sqlstate()) || is_citus_coordinator_death(*s) || is_citus_worker_lost(*s);
  if (dynamic_cast<const pqxx::broken_connection*>(&e) || dynamic_cast<const pqxx::in_doubt_error*>(&e)) return true;
  if (auto* c = dynamic_cast<const ConnectionError*>(&e)) return !c->lasting();
  return dynamic_cast<const pqxx::failure*>(&e) != nullptr;  // e.g. "not connected"
}

bool is_connection_loss(const std::exception& e) {
  // The server ending our session. (An 08 error the server reports, such as Citus's
  // "connection to the remote node ... failed", is a worker away, not our connection lost: its
  // tries count in one outage, backing off as the node recovers.)
  if (auto* s = dynamic_cast<const pqxx::sql_error*>(&e)) {
    const std::string& state = s->sqlstate();
    return state == "57P01" || state == "57P02" || state == "57P03" || is_citus_coordinator_death(*s);
  }
  return dynamic_cast<const pqxx::broken_connection*>(&e) || dynamic_cast<const pqxx::in_doubt_error*>(&e);
}

RetryingSession::RetryingSession(std::string conninfo, RetryBound bound, std::function<void(pqxx::connection&)> on_connect)
    : conninfo_(std::move(conninfo)), bound_(bound), on_connect_(std::move(on_connect)) {}

pqxx::connection& RetryingSession::connection() {
  if (!conn_) {
    auto fresh = open_connection(conninfo_);
    if (on_connect_) on_connect_(*fresh);  // a connection without its session state is never kept
    conn_ = std::move(fresh);
    ++connects_;
  }
  return *conn_;
}

bool RetryingSession::alive() {
  if (!conn_ || !conn_->is_open()) return false;
  try {
    conn_->get_notifs();  // PQconsumeInput: reads what arrived, sees a closed socket
    return conn_->is_open();
  } catch (const std::exception&) {
    return false;
  }
}

void RetryingSession::back_off(int attempt) {
  thread_local std::mt19937 rng(std::random_device{}());
  const int delay = std::min(bound_.backoff_initial_ms << std::min(attempt - 1, 6), 5000);
  const auto until = std::chrono::steady_clock::now() +
                     std::chrono::milliseconds(delay / 2 + std::uniform_int_distribution<int>(0, delay)(rng));
  // In slices, so that stop() ends the wait: a run that failed elsewhere exits at once.
  while (!stop_.load() && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(std::chrono::milliseconds(20),
                                                                              until - std::chrono::steady_clock::now()));
}

}  // namespace edpipe::load
