#pragma once
// Helpers for the tests against the throwaway PostgreSQL of the `postgres` CTest fixture.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <pqxx/pqxx>
#include <random>
#include <string>
#include <vector>

#include "load/row_loader.h"
#include "test_support.h"
#include "transform/trace_assembler.h"

namespace edpipe::testing {

// A fresh, migrated database for one test, dropped at the end.
class TestDatabase {
 public:
  explicit TestDatabase(bool migrate = true);
  ~TestDatabase();
  const std::string& conninfo() const { return conninfo_; }
  const std::string& name() const { return name_; }
  pqxx::connection& conn();
  void reconnect() { conn_.reset(); }  // after the server was restarted
  // Every row of every table, one JSON text per row ordered by key, without updated_at (and
  // without metrics_hourly's id and created_at): what must not depend on how it was loaded.
  std::string dump();
  int64_t count(const std::string& sql);

 private:
  std::string name_, conninfo_;
  std::unique_ptr<pqxx::connection> conn_;
};

// Every row of every table of a database, as TestDatabase::dump() gives it.
std::string dump_tables(pqxx::connection& conn);

// One `edpipe load` run, in process: lines through decoder, assembler and RowLoader; a batch is
// sent every `batch_rows` rows; `cuts` split the lines into reads as in run_pipeline; the
// batches load over `connections` lanes.
load::LoaderStats load_lines(const std::string& conninfo, const std::vector<std::string>& lines, size_t batch_rows = 20000,
                       std::vector<size_t> cuts = {}, std::vector<std::string>* dead_letters = nullptr,
                       int connections = load::LoaderOptions{}.connections);

// Two dumps (TestDatabase::dump) told apart: each table whose rows differ, its row counts and
// its first differing row, not a diff of megabytes; "" when they are equal.
std::string dump_difference(const std::string& got, const std::string& want);

// The corpus as `files` files in a folder of its own (under the temp folder, named after `name`
// and the process), lines dealt out in runs: each file keeps a stretch of time, as one
// function's log does.
std::filesystem::path write_corpus(const std::string& name, const std::vector<std::string>& lines, int files);

// The files of a corpus written by write_corpus (trace-0 ... trace-N) written again into `dir`, as
// logs grow: each cut into chunks of random size up to `max_chunk` bytes (anywhere: mid-line
// too), one chunk of every file per step.
class GrowingFiles {
 public:
  GrowingFiles(const std::filesystem::path& corpus, int files, const std::filesystem::path& dir, std::mt19937& rng,
               size_t max_chunk);
  // Appends the next chunk of each file (flushed); false once every file is whole.
  bool write_step();
  void close();

 private:
  std::vector<std::vector<std::string>> chunks_;
  std::vector<std::ofstream> out_;
  size_t step_ = 0;
};

// Runs the edpipe binary with `args` (a shell fragment), extra environment assignments first.
CommandResult run_edpipe(const std::string& args, const std::string& env = "");

// A shell command in the background (its own process, output to a file); waited for, or
// killed, by the test. The destructor kills (SIGKILL) and reaps it if the test did not.
class BackgroundCommand {
 public:
  explicit BackgroundCommand(const std::string& command);
  ~BackgroundCommand();
  BackgroundCommand(const BackgroundCommand&) = delete;
  BackgroundCommand& operator=(const BackgroundCommand&) = delete;
  int pid() const { return pid_; }
  bool running();
  void signal(int sig);
  // The exit status (128 + the signal if one ended it); waits at most `timeout_s`, then kills it
  // and returns -1.
  int wait(int timeout_s = 300);
  std::string output() const;

 private:
  std::string out_;
  int pid_ = -1;
  int status_ = -2;  // not reaped yet
};

}  // namespace edpipe::testing
