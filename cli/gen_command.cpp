#include "gen_command.h"

#include <zlib.h>

#include <boost/program_options.hpp>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>

#include "arguments.h"
#include "gen/corpus_generator.h"
#include "line_framing.h"

namespace edpipe::cli {
namespace po = boost::program_options;

namespace {

const char* kUsage =
    "Usage: edpipe gen [OPTIONS]\n"
    "\n"
    "Write a realistic synthetic corpus of event detector trace logs: overlapping invocations,\n"
    "Hasura event payloads, detection errors, failed jobs, abandoned invocations, job chains,\n"
    "console lines and malformed lines. The same seed and options give the same bytes.\n"
    "\n"
    "Options";

// One output file, plain or gzip, written through a large buffer.
class OutputFile {
 public:
  OutputFile(const std::string& path, bool gzip) : path_(path) {
    if (gzip) {
      gz_ = gzopen(path.c_str(), "wb6");
      if (!gz_) throw std::runtime_error(path + ": " + std::strerror(errno));
      gzbuffer(gz_, 1 << 20);
    } else {
      file_ = std::fopen(path.c_str(), "wb");
      if (!file_) throw std::runtime_error(path + ": " + std::strerror(errno));
      std::setvbuf(file_, nullptr, _IOFBF, 1 << 20);
    }
  }
  ~OutputFile() { close(); }
  void write(std::string_view line) {
    buf_.append(line);
    buf_.push_back('\n');
    if (buf_.size() >= (1 << 20)) drain();
  }
  void close() {
    if (!gz_ && !file_) return;
    drain();
    bool ok = gz_ ? gzclose(gz_) == Z_OK : std::fclose(file_) == 0;
    gz_ = nullptr;
    file_ = nullptr;
    if (!ok) throw std::runtime_error(path_ + ": write failed");
  }

 private:
  void drain() {
    if (buf_.empty()) return;
    bool ok = gz_ ? gzwrite(gz_, buf_.data(), static_cast<unsigned>(buf_.size())) == static_cast<int>(buf_.size())
                  : std::fwrite(buf_.data(), 1, buf_.size(), file_) == buf_.size();
    if (!ok) throw std::runtime_error(path_ + ": write failed: " + std::strerror(errno));
    buf_.clear();
  }
  std::string path_, buf_;
  gzFile gz_ = nullptr;
  std::FILE* file_ = nullptr;
};

}  // namespace

int run_gen(const std::vector<std::string>& args) {
  gen::GeneratorOptions g;
  std::string out_dir = ".", prefix = "trace", start;
  bool gzip = false, truth = false, no_seq = false;
  std::string format_name = "ndjson";
  po::options_description visible(kUsage);
  visible.add_options()
      ("help,h", "show this help and exit")
      ("out,o", po::value(&out_dir)->value_name("DIR")->default_value("."), "directory to write the files to (created)")
      ("prefix", po::value(&prefix)->default_value("trace"), "file names: PREFIX-0001.ndjson (.log when framed), ...")
      ("gzip", po::bool_switch(&gzip), "write .ndjson.gz files")
      ("format", po::value(&format_name)->value_name("FORMAT")->default_value("ndjson"),
       "frame every line as this platform writes it: ndjson, lambda, netlify, docker, kubectl")
      ("seed", po::value(&g.seed)->default_value(g.seed), "random seed")
      ("invocations", po::value(&g.invocations)->default_value(g.invocations), "number of invocations")
      ("functions", po::value(&g.functions)->default_value(g.functions), "number of distinct source functions")
      ("files", po::value(&g.files)->default_value(g.files), "number of output files (consecutive time slices)")
      ("interleave", po::value(&g.interleave)->default_value(g.interleave), "invocations in flight at once, interleaved in a file")
      ("failure-rate", po::value(&g.failure_rate)->default_value(g.failure_rate), "share of invocations that end failed")
      ("job-failure-rate", po::value(&g.job_failure_rate)->default_value(g.job_failure_rate), "share of jobs that fail")
      ("detection-error-rate", po::value(&g.detection_error_rate)->default_value(g.detection_error_rate),
       "share of event detections that throw")
      ("abandon-rate", po::value(&g.abandon_rate)->default_value(g.abandon_rate),
       "share of invocations cut off before their end (timeouts, crashes)")
      ("chain-rate", po::value(&g.chain_rate)->default_value(g.chain_rate),
       "share of invocations caused by an earlier job (source_job_id)")
      ("console-rate", po::value(&g.console_rate)->default_value(g.console_rate),
       "plain console / logger lines per invocation, on average")
      ("malformed-rate", po::value(&g.malformed_rate)->default_value(g.malformed_rate),
       "extra malformed lines (torn JSON, bad ts, bad UUID) per record line")
      ("disorder-rate", po::value(&g.disorder_rate)->default_value(g.disorder_rate), "share of records swapped with their neighbour")
      ("payload-columns", po::value(&g.payload_columns)->default_value(g.payload_columns),
       "columns per row image in the Hasura payloads (24 gives ~1.5 KB)")
      ("no-seq", po::bool_switch(&no_seq), "write job.log records without `seq` (as older emitters do)")
      ("log-repeat-rate", po::value(&g.log_repeat_rate)->default_value(g.log_repeat_rate),
       "share of job.log lines followed at the same ts by a copy: identical, or with other data or source")
      ("start", po::value(&start)->value_name("TIME"), "ts of the first invocation (default 2026-11-20T00:00:00Z)")
      ("truth", po::bool_switch(&truth), "print what was generated (the counts a load must reproduce) as JSON");
  const po::variables_map vm = parse_command("gen", args, visible);
  if (vm.count("help")) {
    std::cout << visible << "\nExample:\n  edpipe gen --invocations 20000 --files 4 --gzip -o /tmp/corpus\n";
    return kExitOk;
  }
  if (!start.empty()) g.start = parse_time_arg(start, "start");
  g.write_seq = !no_seq;
  const auto format = log_format_from_name(format_name);
  if (!format || *format == LogFormat::Auto || *format == LogFormat::Regex)
    throw UsageError("--format: expected ndjson, lambda, netlify, docker or kubectl, got '" + format_name + "'");
  if (g.files == 0 || g.files > 100000) throw UsageError("--files: must be between 1 and 100000");
  for (double r : {g.failure_rate, g.job_failure_rate, g.detection_error_rate, g.abandon_rate, g.chain_rate,
                   g.malformed_rate, g.disorder_rate, g.log_repeat_rate})
    if (r < 0 || r > 1) throw UsageError("rates must be between 0 and 1");

  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec) {
    std::cerr << "edpipe: " << out_dir << ": " << ec.message() << "\n";
    return kExitInputError;
  }
  try {
    std::vector<std::unique_ptr<OutputFile>> files(g.files);
    auto file_for = [&](uint32_t i) -> OutputFile& {
      if (!files[i]) {
        char name[64];
        std::snprintf(name, sizeof name, "-%04u.%s%s", i + 1, *format == LogFormat::Ndjson ? "ndjson" : "log",
                      gzip ? ".gz" : "");
        files[i] = std::make_unique<OutputFile>((std::filesystem::path(out_dir) / (prefix + name)).string(), gzip);
        if (i > 0 && files[i - 1]) files[i - 1]->close();  // slices are written one after another
      }
      return *files[i];
    };
    // Framed lines carry the time and request id of the record they wrap (of the one before,
    // for console lines), as the platform would stamp them.
    std::string ts = "2026-11-20T00:00:00.000Z", request_id = "00000000-0000-0000-0000-000000000000";
    auto field = [](std::string_view line, std::string_view key, std::string& into) {
      const size_t at = line.find(key);
      if (at == std::string_view::npos) return;
      const size_t end = line.find('"', at + key.size());
      if (end != std::string_view::npos) into.assign(line.substr(at + key.size(), end - at - key.size()));
    };
    const gen::GeneratedTruth t = gen::generate(g, [&](uint32_t f, std::string_view line) {
      if (*format == LogFormat::Ndjson) {
        file_for(f).write(line);
        return;
      }
      std::string line_ts;
      field(line, "\"ts\":\"", line_ts);
      if (!line_ts.empty() && std::isdigit(static_cast<unsigned char>(line_ts[0]))) ts = line_ts;  // not a bad record's
      field(line, "\"invocation_id\":\"", request_id);
      file_for(f).write(frame_line(*format, line, ts, request_id));
    });
    for (auto& f : files)
      if (f) f->close();
    if (truth) {
      std::cout << "{\"lines\":" << t.lines << ",\"record_lines\":" << t.record_lines << ",\"plain_lines\":" << t.plain_lines
                << ",\"malformed_lines\":" << t.malformed_lines << ",\"invocations\":" << t.invocations
                << ",\"event_executions\":" << t.event_executions << ",\"job_executions\":" << t.job_executions
                << ",\"job_logs\":" << t.job_logs << ",\"distinct_job_logs\":" << t.distinct_job_logs
                << ",\"invocations_completed\":" << t.invocations_completed
                << ",\"invocations_failed\":" << t.invocations_failed << ",\"invocations_without_end\":" << t.invocations_cut
                << ",\"jobs_completed\":" << t.jobs_completed << ",\"jobs_failed\":" << t.jobs_failed
                << ",\"jobs_without_end\":" << t.jobs_cut << ",\"events_detected\":" << t.events_detected
                << ",\"chained_invocations\":" << t.chained << "}\n";
    } else {
      std::cerr << "edpipe gen: " << t.invocations << " invocations, " << t.lines << " lines in " << g.files << " file"
                << (g.files == 1 ? "" : "s") << " under " << out_dir << "\n";
    }
  } catch (const std::exception& e) {
    std::cerr << "edpipe: " << e.what() << "\n";
    return kExitInputError;
  }
  return kExitOk;
}

}  // namespace edpipe::cli
