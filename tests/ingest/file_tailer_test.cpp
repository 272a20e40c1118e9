#include <gtest/gtest.h>
#include <sys/stat.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>

#include "ingest/file_tailer.h"
#include "test_support.h"

namespace edpipe::ingest {
namespace {
namespace fs = std::filesystem;

std::string record(int i) {
  char id[40];
  std::snprintf(id, sizeof id, "4efa1823-5092-4b22-9a45-%012d", i);
  return std::string(R"({"v":1,"type":"job.log","ts":"2026-11-20T10:00:00.000Z","invocation_id":")") + id +
         R"(","level":"info","message":"line )" + std::to_string(i) + "\"}";
}

class TailerTest : public testing::TempDirTest {
 protected:

  void append(const fs::path& p, const std::string& text) {
    std::ofstream f(p, std::ios::app | std::ios::binary);
    f << text;
  }
  TailOptions options(std::string pattern) {
    TailOptions o;
    o.patterns = {std::move(pattern)};
    o.rescan_interval = std::chrono::milliseconds(0);  // rescan at every poll
    o.rotate_wait = std::chrono::milliseconds(0);
    return o;
  }
  // Polls until nothing new arrives; returns the records (by message) and the line count.
  std::vector<std::string> drain(FileTailer& t, uint64_t* lines = nullptr) {
    std::vector<std::string> messages;
    IngestBatch b;
    for (int idle = 0; idle < 3;) {
      if (!t.poll(b)) ++idle;
      if (lines) *lines += b.counts.total;
      for (auto& r : b.records) messages.emplace_back(std::get<JobLog>(r.body).message);
    }
    return messages;
  }
};

TEST_F(TailerTest, PartialLineWaitsForItsNewline) {
  const fs::path f = dir_ / "app.log";
  append(f, record(1) + "\n" + record(2).substr(0, 30));
  FileTailer t(options(f.string()), {}, {});
  EXPECT_EQ(drain(t), std::vector<std::string>{"line 1"});
  auto cps = t.positions();
  ASSERT_EQ(cps.size(), 1u);
  EXPECT_EQ(cps[0].offset, record(1).size() + 1);  // just past the complete line
  EXPECT_EQ(cps[0].line, 1u);
  append(f, record(2).substr(30) + "\n");
  EXPECT_EQ(drain(t), std::vector<std::string>{"line 2"});
  EXPECT_EQ(t.positions()[0].offset, fs::file_size(f));
}

TEST_F(TailerTest, ResumesFromASavedPositionAndStartsOverOnAnotherFile) {
  const fs::path f = dir_ / "app.log";
  append(f, record(1) + "\n" + record(2) + "\n");
  std::vector<FilePosition> saved;
  {
    FileTailer t(options(f.string()), {}, {});
    EXPECT_EQ(drain(t).size(), 2u);
    saved = t.positions();
  }
  append(f, record(3) + "\n");
  {
    FileTailer t(options(f.string()), {}, saved);
    uint64_t lines = 0;
    EXPECT_EQ(drain(t, &lines), std::vector<std::string>{"line 3"});
    EXPECT_EQ(lines, 1u);
    EXPECT_EQ(t.positions()[0].line, 3u);
  }
  {
    TailOptions o = options(f.string());
    o.from_beginning = true;
    FileTailer t(o, {}, saved);
    EXPECT_EQ(drain(t).size(), 3u);
  }
  // Same inode, different first bytes (rewritten in place): the saved position is not its.
  {
    std::ofstream w(f, std::ios::in | std::ios::out | std::ios::binary);
    w << "X";
  }
  FileTailer t(options(f.string()), {}, saved);
  uint64_t lines = 0;
  drain(t, &lines);
  EXPECT_EQ(lines, 3u);
}

TEST_F(TailerTest, RenameRotationReadsTheOldFileToItsEndThenTheNewOne) {
  const fs::path f = dir_ / "app.log";
  append(f, record(1) + "\n");
  FileTailer t(options(f.string()), {}, {});
  EXPECT_EQ(drain(t).size(), 1u);
  append(f, record(2) + "\n" + record(3));  // the last line unfinished at rotation
  fs::rename(f, dir_ / "app.log.1");
  append(f, record(4) + "\n");
  auto got = drain(t);
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<std::string>{"line 2", "line 3", "line 4"}));  // line 3: a definite end
  EXPECT_EQ(t.followed_files(), 1u);
}

TEST_F(TailerTest, CopytruncateStartsOver) {
  const fs::path f = dir_ / "app.log";
  append(f, record(1) + "\n" + record(2) + "\n");
  FileTailer t(options(f.string()), {}, {});
  EXPECT_EQ(drain(t).size(), 2u);
  fs::copy_file(f, dir_ / "app.log.1");
  fs::resize_file(f, 0);
  append(f, record(3) + "\n");
  EXPECT_EQ(drain(t), std::vector<std::string>{"line 3"});
  EXPECT_EQ(t.positions()[0].line, 1u);
  // Truncated and written past the old position before the next look: the first bytes changed.
  fs::resize_file(f, 0);
  append(f, record(4) + "\n" + record(5) + "\n");
  auto got = drain(t);
  EXPECT_EQ(got, (std::vector<std::string>{"line 4", "line 5"}));
}

TEST_F(TailerTest, NewFilesMatchingTheGlobArePickedUp) {
  append(dir_ / "a.ndjson", record(1) + "\n");
  FileTailer t(options((dir_ / "*.ndjson").string()), {}, {});
  EXPECT_EQ(drain(t).size(), 1u);
  append(dir_ / "b.ndjson", record(2) + "\n");
  append(dir_ / "c.txt", record(3) + "\n");  // not matched
  EXPECT_EQ(drain(t), std::vector<std::string>{"line 2"});
  EXPECT_EQ(t.followed_files(), 2u);
}

TEST_F(TailerTest, GzipResumesAtItsUncompressedOffset) {
  const fs::path f = dir_ / "old.ndjson.gz";
  {
    gzFile gz = gzopen(f.c_str(), "wb");
    std::string text;
    for (int i = 1; i <= 5; ++i) text += record(i) + "\n";
    gzwrite(gz, text.data(), static_cast<unsigned>(text.size()));
    gzclose(gz);
  }
  FileTailer t(options(f.string()), {}, {});
  EXPECT_EQ(drain(t).size(), 5u);
  auto cps = t.positions();
  ASSERT_EQ(cps.size(), 1u);
  FilePosition half = cps[0];
  half.offset = 2 * (record(1).size() + 1);  // two lines in (all records are the same size)
  half.line = 2;
  FileTailer resumed(options(f.string()), {}, {half});
  EXPECT_EQ(drain(resumed), (std::vector<std::string>{"line 3", "line 4", "line 5"}));
}

TEST_F(TailerTest, ClaimRefusalStopsTheFollow) {
  append(dir_ / "app.log", record(1) + "\n");
  FileTailer t(options((dir_ / "app.log").string()), {}, {},
               [](const FilePosition& f) { throw std::runtime_error(f.path + ": owned elsewhere"); });
  IngestBatch b;
  EXPECT_THROW(t.poll(b), std::runtime_error);
}

}  // namespace
}  // namespace edpipe::ingest
