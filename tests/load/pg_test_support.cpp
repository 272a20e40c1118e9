#include "pg_test_support.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "ingest/record_decoder.h"
#include "load/migrator.h"
#include "load/pg_connection.h"
#include "load/verifier.h"

namespace edpipe::testing {
namespace fs = std::filesystem;

namespace {
std::atomic<int> g_counter{0};  // database names

std::unique_ptr<pqxx::connection> admin() { return std::make_unique<pqxx::connection>("dbname=postgres"); }
}  // namespace

TestDatabase::TestDatabase(bool migrate) {
  name_ = "edpipe_t_" + std::to_string(::getpid()) + "_" + std::to_string(++g_counter);
  {
    auto a = admin();
    pqxx::nontransaction tx(*a);
    tx.exec("DROP DATABASE IF EXISTS " + name_);
    tx.exec("CREATE DATABASE " + name_ + " TEMPLATE template0");
  }
  conninfo_ = "dbname=" + name_;
  if (migrate) {
    load::Migrator m(conn());
    m.up();
  }
}

TestDatabase::~TestDatabase() {
  conn_.reset();
  try {
    auto a = admin();
    pqxx::nontransaction tx(*a);
    tx.exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
  } catch (...) {
  }
}

pqxx::connection& TestDatabase::conn() {
  if (!conn_ || !conn_->is_open()) conn_ = std::make_unique<pqxx::connection>(conninfo_);
  return *conn_;
}

int64_t TestDatabase::count(const std::string& sql) {
  pqxx::read_transaction tx(conn());
  return tx.exec(sql)[0][0].as<int64_t>();
}

std::string TestDatabase::dump() { return dump_tables(conn()); }

std::string dump_tables(pqxx::connection& conn) {
  pqxx::read_transaction tx(conn);
  std::string out;
  const std::pair<const char*, const char*> tables[] = {
      {"invocations", "id"}, {"event_executions", "id"}, {"job_executions", "id"}, {"job_logs", "id"},
      {"metrics_hourly", "hour_bucket, source_function"}, {"name_metrics_hourly", "kind, hour_bucket, source_function, name"},
      {"edpipe_watermark", "id"}};
  for (const auto& [table, order] : tables) {
    out += std::string("== ") + table + "\n";
    const std::string drop = std::string(table) == "metrics_hourly" ? " - 'id' - 'created_at' - 'updated_at'" : " - 'updated_at'";
    for (const auto& r : tx.exec(std::string("SELECT (to_jsonb(t)") + drop + ")::text FROM " + table + " t ORDER BY " + order))
      out += r[0].as<std::string>() + "\n";
  }
  return out;
}

load::LoaderStats load_lines(const std::string& conninfo, const std::vector<std::string>& lines, size_t batch_rows,
                       std::vector<size_t> cuts, std::vector<std::string>* dead_letters, int connections) {
  load::LoaderOptions options;
  options.connections = connections;
  load::RowLoader loader(conninfo, options, [&](const std::string& j) {
    if (dead_letters) dead_letters->push_back(j);
  });
  loader.open();
  std::vector<transform::RowBatch> pending;
  size_t pending_rows = 0;
  auto flush = [&] {
    loader.load(transform::RowBatch::concat(std::move(pending)));
    pending.clear();
    pending_rows = 0;
  };
  feed_pipeline(lines, std::move(cuts), transform::AssemblerOptions{}, [&](transform::RowBatch& rows) {
    pending_rows += rows.row_count();
    pending.push_back(std::move(rows));
    if (pending_rows >= batch_rows) flush();
  });
  flush();
  loader.finish();
  return loader.stats();
}

// Dumps of thousands of rows: on a difference, each table's row counts and its first differing
// row, not a diff of megabytes.
std::string dump_difference(const std::string& got, const std::string& want) {
  auto tables = [](const std::string& dump) {
    std::map<std::string, std::vector<std::string_view>> out;
    std::vector<std::string_view>* rows = nullptr;
    for (size_t at = 0; at < dump.size();) {
      const size_t end = dump.find('\n', at);
      const std::string_view line(dump.data() + at, (end == std::string::npos ? dump.size() : end) - at);
      if (line.starts_with("== ")) rows = &out[std::string(line.substr(3))];
      else if (rows) rows->push_back(line);
      at = end == std::string::npos ? dump.size() : end + 1;
    }
    return out;
  };
  const auto g = tables(got), w = tables(want);
  std::string out;
  for (const auto& [table, want_rows] : w) {
    const auto it = g.find(table);
    const std::vector<std::string_view> none;
    const auto& got_rows = it == g.end() ? none : it->second;
    if (got_rows == want_rows) continue;
    out += table + ": " + std::to_string(got_rows.size()) + " rows, the truth has " + std::to_string(want_rows.size());
    for (size_t i = 0; i < std::max(got_rows.size(), want_rows.size()); ++i)
      if (i >= got_rows.size() || i >= want_rows.size() || got_rows[i] != want_rows[i]) {
        out += "; first difference at row " + std::to_string(i) + ":\n  got  " +
               std::string(i < got_rows.size() ? got_rows[i].substr(0, 300) : "(none)") + "\n  want " +
               std::string(i < want_rows.size() ? want_rows[i].substr(0, 300) : "(none)");
        break;
      }
    out += "\n";
  }
  return out;
}

fs::path write_corpus(const std::string& name, const std::vector<std::string>& lines, int files) {
  const fs::path dir = fs::temp_directory_path() / (name + "-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const size_t per = (lines.size() + files - 1) / files;
  for (int f = 0; f < files; ++f) {
    std::ofstream out(dir / ("trace-" + std::to_string(f) + ".ndjson"));
    for (size_t i = f * per; i < std::min(lines.size(), (f + 1) * per); ++i) out << lines[i] << "\n";
  }
  return dir;
}

GrowingFiles::GrowingFiles(const fs::path& corpus, int files, const fs::path& dir, std::mt19937& rng, size_t max_chunk)
    : chunks_(files), out_(files) {
  for (int f = 0; f < files; ++f) {
    const std::string name = "trace-" + std::to_string(f) + ".ndjson";
    std::ifstream in(corpus / name);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (size_t at = 0; at < text.size();) {
      const size_t end = std::min(text.size(), at + std::uniform_int_distribution<size_t>(20'000, max_chunk)(rng));
      chunks_[f].push_back(text.substr(at, end - at));
      at = end;
    }
  }
  for (int f = 0; f < files; ++f) out_[f].open(dir / ("trace-" + std::to_string(f) + ".ndjson"));
}

bool GrowingFiles::write_step() {
  bool more = false;
  for (size_t f = 0; f < chunks_.size(); ++f)
    if (step_ < chunks_[f].size()) {
      out_[f] << chunks_[f][step_] << std::flush;
      more = true;
    }
  ++step_;
  return more;
}

void GrowingFiles::close() {
  for (auto& o : out_) o.close();
}

CommandResult run_edpipe(const std::string& args, const std::string& env) {
  return run_command(env + " " + EDPIPE_BINARY + " " + args);
}

BackgroundCommand::BackgroundCommand(const std::string& command) {
  static std::atomic<int> counter{0};
  out_ = (fs::temp_directory_path() / ("bg-" + std::to_string(::getpid()) + "-" + std::to_string(++counter) + ".out")).string();
  pid_ = ::fork();
  if (pid_ == 0) {
    const std::string full = "exec " + command + " >" + out_ + " 2>&1";
    ::execl("/bin/sh", "sh", "-c", full.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
}

BackgroundCommand::~BackgroundCommand() {
  if (status_ == -2 && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  std::error_code ec;
  fs::remove(out_, ec);
}

bool BackgroundCommand::running() {
  if (status_ != -2) return false;
  int st = 0;
  if (::waitpid(pid_, &st, WNOHANG) == pid_) {
    status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return false;
  }
  return true;
}

void BackgroundCommand::signal(int sig) {
  if (status_ == -2) ::kill(pid_, sig);
}

int BackgroundCommand::wait(int timeout_s) {
  for (int i = 0; i < timeout_s * 20 && running(); ++i) ::usleep(50'000);
  if (running()) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    status_ = -1;
  }
  return status_;
}

std::string BackgroundCommand::output() const {
  std::ifstream f(out_);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

}  // namespace edpipe::testing

// The fixture's server: its settings come from the env file `scripts/pg` wrote.
int main(int argc, char** argv) {
  std::ifstream env(std::string(EDPIPE_TEST_PG_DIR) + "/env");
  std::string line;
  if (std::getline(env, line)) {
    std::istringstream words(line);
    std::string kv;
    while (words >> kv) {
      auto eq = kv.find('=');
      if (eq != std::string::npos) ::setenv(kv.substr(0, eq).c_str(), kv.substr(eq + 1).c_str(), 1);
    }
  }
  ::unsetenv("DATABASE_URL");
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
