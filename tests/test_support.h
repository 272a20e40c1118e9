#pragma once
// Helpers shared by the tests: in-memory inputs, decoding lines, running the stages.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "gen/corpus_generator.h"
#include "ingest/byte_source.h"
#include "ingest/record_decoder.h"
#include "transform/row_tally.h"
#include "transform/trace_assembler.h"

namespace edpipe::testing {

// A fresh folder for each test, named after the process and the test, removed afterwards.
class TempDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("edpipe-" + std::to_string(::getpid()) + "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

// A ByteSource over a string that hands out at most `chunk` bytes per read (a trickling pipe).
class StringSource : public ingest::ByteSource {
 public:
  explicit StringSource(std::string data, size_t chunk = SIZE_MAX) : data_(std::move(data)), chunk_(chunk) {}
  size_t read(char* buf, size_t n) override {
    size_t k = std::min({n, chunk_, data_.size() - pos_});
    std::memcpy(buf, data_.data() + pos_, k);
    pos_ += k;
    return k;
  }
  uint64_t raw_bytes_consumed() const noexcept override { return pos_; }

 private:
  std::string data_;
  size_t chunk_, pos_ = 0;
};

// An arena for the text of rows a test builds by hand: lives as long as the test program.
inline TextArena& test_text() {
  static TextArena text;
  return text;
}

inline ingest::IngestBatch decode_lines(const std::vector<std::string>& lines) {
  ingest::RecordDecoder decoder;
  ingest::IngestBatch batch;
  uint64_t n = 0;
  for (const auto& l : lines) decoder.decode_line(l, ingest::SourcePos{0, ++n, 0}, batch);
  return batch;
}

// One record, its text kept in test_text().
inline ingest::TraceRecord decode_one(const std::string& line) {
  ingest::IngestBatch b = decode_lines({line});
  EXPECT_EQ(b.records.size(), 1u) << line << (b.rejected.empty() ? "" : " rejected: " + b.rejected[0].detail);
  if (b.records.empty()) return ingest::TraceRecord{};
  ingest::TraceRecord r = b.records[0];
  std::visit([](auto& body) { body = ingest::kept_in(body, test_text()); }, r.body);
  r.correlation_id = test_text().keep(r.correlation_id);
  return r;
}

inline ingest::RejectedLine reject_one(const std::string& line) {
  ingest::IngestBatch b = decode_lines({line});
  EXPECT_EQ(b.rejected.size(), 1u) << line;
  return b.rejected.empty() ? ingest::RejectedLine{} : b.rejected[0];
}

// Rows after merging every fragment by id, as the database would hold them.
struct MergedRows {
  std::map<Uuid, transform::InvocationState> invocations;
  std::map<Uuid, transform::EventExecutionState> events;
  std::map<Uuid, transform::JobExecutionState> jobs;
  std::map<Uuid, transform::JobLogRow> logs;
  size_t fragments = 0;
  std::vector<SharedText> text;  // of every batch added: the rows view it

  void add(const transform::RowBatch& b) {
    text.insert(text.end(), b.text.begin(), b.text.end());
    fragments += b.invocations.size();
    for (const auto& s : b.invocations) fold(invocations, s);
    for (const auto& s : b.event_executions) fold(events, s);
    for (const auto& s : b.job_executions) fold(jobs, s);
    for (const auto& s : b.job_logs) {
      auto [it, fresh] = logs.emplace(s.id, s);
      if (!fresh) it->second = merge(it->second, s);
    }
  }
  template <class M, class S>
  static void fold(M& m, const S& s) {
    auto [it, fresh] = m.emplace(s.id, s);
    if (!fresh) it->second = merge(it->second, s);
  }
  bool operator==(const MergedRows& o) const {
    return invocations == o.invocations && events == o.events && jobs == o.jobs && logs == o.logs;
  }
};

struct PipelineResult {
  MergedRows rows;
  transform::TallyResult tally;
  Timestamp watermark = 0;
};

// One run of the stages, like `edpipe load`: lines through decoder and assembler, batch by
// batch (`cuts` are line indexes where a new batch starts), handing every ready fragment to
// `sink`, the rest at the end. Returns the run's watermark.
inline Timestamp feed_pipeline(const std::vector<std::string>& lines, std::vector<size_t> cuts,
                               transform::AssemblerOptions options, const std::function<void(transform::RowBatch&)>& sink) {
  ingest::RecordDecoder decoder;
  transform::TraceAssembler assembler(options);
  std::sort(cuts.begin(), cuts.end());
  cuts.push_back(lines.size());
  size_t begin = 0;
  for (size_t cut : cuts) {
    if (cut < begin) continue;
    ingest::IngestBatch batch;
    std::string block;
    for (size_t i = begin; i < cut; ++i) block += lines[i] + "\n";
    block.append(ingest::kBlockPadding, ' ');
    ingest::LineBlock lb;
    lb.data = block.data();
    lb.size = block.size() - ingest::kBlockPadding;
    lb.first_line = begin + 1;
    decoder.decode(lb, 0, batch);
    assembler.add(batch.records);
    transform::RowBatch rows;
    assembler.take_ready(rows);
    sink(rows);
    begin = cut;
  }
  transform::RowBatch rest;
  assembler.take_all(rest);
  sink(rest);
  return assembler.watermark();
}

// What a database accumulates over several runs (loads): merged rows and the tally.
class Store {
 public:
  void run(const std::vector<std::string>& lines, std::vector<size_t> cuts = {}, transform::AssemblerOptions options = {}) {
    abandon_after_ = options.abandon_after;
    watermark_ = std::max(watermark_, feed_pipeline(lines, std::move(cuts), options, [&](transform::RowBatch& rows) { add(rows); }));
  }
  PipelineResult result() const {
    return {rows_, tally_.finish(transform::AbandonRule{watermark_, abandon_after_}), watermark_};
  }

 private:
  void add(const transform::RowBatch& rows) {
    rows_.add(rows);
    tally_.add(rows);
  }
  MergedRows rows_;
  transform::RowTally tally_;
  Timestamp watermark_ = transform::kNoLastTs;
  Timestamp abandon_after_ = transform::kDefaultAbandonAfter;
};

// Cut points every `n` lines: batches as `load` reads them.
inline std::vector<size_t> every_n(size_t lines, size_t n) {
  std::vector<size_t> cuts;
  for (size_t i = n; i < lines; i += n) cuts.push_back(i);
  return cuts;
}

inline PipelineResult run_pipeline(const std::vector<std::string>& lines, std::vector<size_t> cuts = {},
                                   transform::AssemblerOptions options = {}) {
  Store store;
  store.run(lines, std::move(cuts), options);
  return store.result();
}

// Two reports of the same rows: counts, statuses and every hourly rollup equal.
inline void expect_same_tally(const transform::TallyResult& a, const transform::TallyResult& b) {
  EXPECT_EQ(a.invocations, b.invocations);
  EXPECT_EQ(a.event_executions, b.event_executions);
  EXPECT_EQ(a.job_executions, b.job_executions);
  EXPECT_EQ(a.job_logs, b.job_logs);
  EXPECT_EQ(a.invocations_by_status, b.invocations_by_status);
  EXPECT_EQ(a.events_by_status, b.events_by_status);
  EXPECT_EQ(a.jobs_by_status, b.jobs_by_status);
  EXPECT_EQ(a.rollups.size(), b.rollups.size());
  EXPECT_TRUE(a.rollups == b.rollups);
}

struct CommandResult {
  int status = -1;
  std::string out, err;
};

// Runs a shell command line with stdin from `stdin_text`; captures exit status and both outputs.
inline CommandResult run_command(const std::string& command, const std::string& stdin_text = "") {
  static std::atomic<int> counter{0};
  const auto dir = std::filesystem::temp_directory_path() / ("edpipe-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string tag = std::to_string(++counter);
  const auto in = dir / ("in" + tag), out = dir / ("out" + tag), err = dir / ("err" + tag);
  std::ofstream(in) << stdin_text;
  const int rc = std::system((command + " <" + in.string() + " >" + out.string() + " 2>" + err.string()).c_str());
  auto slurp = [](const std::filesystem::path& p) {
    std::ifstream f(p);
    return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  };
  return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, slurp(out), slurp(err)};
}

inline std::vector<std::string> generated_lines(const gen::GeneratorOptions& o, gen::GeneratedTruth* truth = nullptr) {
  std::vector<std::string> lines;
  auto t = gen::generate(o, [&](uint32_t, std::string_view l) { lines.emplace_back(l); });
  if (truth) *truth = t;
  return lines;
}

}  // namespace edpipe::testing
