#include "cli/gen_command.h"

#include <zlib.h>

#include <boost/program_options.hpp>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>

#include "cli/arguments.h"
#include "gen/corpus_generator.h"
#include "cli/run_summary.h"
#include "ingest/line_framing.h"

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
  ~OutputFile() {
    try {
      close();  // after an error: the first one is what is reported
    } catch (const std::exception&) {
    }
  }
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

// Upper bound of --invocations: ~10 TB of output, far beyond any disk; the free-space check
// below is what refuses a corpus that does not fit.
constexpr uint64_t kMaxInvocations = 1'000'000'000;

po::typed_value<std::string>* rate(double& target, const std::string& option) {
  return number_option(target, 0.0, 1.0, option, "RATE");
}

// What the generator writes per invocation, measured: ~7 KB plus the two row images of the
// payload (~140 bytes per column); gzip keeps about a sixth.
double estimated_bytes(const gen::GeneratorOptions& g, bool gzip) {
  const double per_invocation = 7000 + 140.0 * g.payload_columns + 60.0 * g.console_rate;
  return double(g.invocations) * per_invocation / (gzip ? 6 : 1);
}

// What the command line asks for.
struct GenFlags {
  gen::GeneratorOptions options;
  std::string out_dir = ".", prefix = "trace", start, span, format_name = "ndjson";
  bool gzip = false, truth = false, no_seq = false, random_ids = false;
  ingest::LogFormat format = ingest::LogFormat::Ndjson;
};

po::options_description gen_options(GenFlags& f) {
  gen::GeneratorOptions& g = f.options;
  po::options_description visible(kUsage);
  visible.add_options()
      ("help,h", "show this help and exit")
      ("out,o", po::value(&f.out_dir)->value_name("DIR")->default_value("."), "directory to write the files to (created)")
      ("prefix", po::value(&f.prefix)->value_name("PREFIX")->default_value("trace"), "file names: PREFIX-0001.ndjson (.log when framed), ...")
      ("gzip", po::bool_switch(&f.gzip), "write .ndjson.gz files")
      ("format", po::value(&f.format_name)->value_name("FORMAT")->default_value("ndjson"),
       "frame every line as this platform writes it: ndjson, lambda, netlify, docker, kubectl")
      ("seed", number_option(g.seed, uint64_t{0}, UINT64_MAX, "seed"), "random seed")
      ("invocations", number_option(g.invocations, uint64_t{1}, kMaxInvocations, "invocations"),
       "number of invocations (~10 KB each with the default payloads)")
      ("functions", number_option(g.functions, 1u, 10000u, "functions"), "number of distinct source functions")
      ("files", number_option(g.files, 1u, 100000u, "files"),
       "number of output files (consecutive time slices; at most one per invocation)")
      ("interleave", number_option(g.interleave, 1u, 1000000u, "interleave"), "invocations in flight at once, interleaved in a file")
      ("failure-rate", rate(g.failure_rate, "failure-rate"), "share of invocations that end failed")
      ("job-failure-rate", rate(g.job_failure_rate, "job-failure-rate"), "share of jobs that fail")
      ("detection-error-rate", rate(g.detection_error_rate, "detection-error-rate"), "share of event detections that throw")
      ("abandon-rate", rate(g.abandon_rate, "abandon-rate"), "share of invocations cut off before their end (timeouts, crashes)")
      ("chain-rate", rate(g.chain_rate, "chain-rate"), "share of invocations caused by an earlier job (source_job_id)")
      ("console-rate", number_option(g.console_rate, 0.0, 100.0, "console-rate", "PER_INVOCATION"),
       "plain console / logger lines per invocation, on average (0-100)")
      ("malformed-rate", rate(g.malformed_rate, "malformed-rate"), "extra malformed lines (torn JSON, bad ts, bad UUID) per record line")
      ("disorder-rate", rate(g.disorder_rate, "disorder-rate"), "share of records swapped with their neighbour")
      ("payload-columns", number_option(g.payload_columns, 0u, 1000u, "payload-columns"),
       "columns per row image in the Hasura payloads (24 gives ~1.5 KB; 0-1000)")
      ("no-seq", po::bool_switch(&f.no_seq), "write job.log records without `seq` (as older emitters do)")
      ("log-repeat-rate", rate(g.log_repeat_rate, "log-repeat-rate"),
       "share of job.log lines followed at the same ts by a copy: identical, or with other data or source")
      ("random-ids", po::bool_switch(&f.random_ids),
       "random UUIDv4 ids, as emitters that use randomUUID() write them (default: UUIDv7, the invocation's start "
       "in their first bits, as edpipe's emitter writes them)")
      ("start", po::value(&f.start)->value_name("TIME"), "ts of the first invocation (default 2026-11-20T00:00:00Z)")
      ("span", po::value(&f.span)->value_name("DURATION"),
       "spread the invocations' starts evenly over this time, e.g. 24h for a day of traffic (default: back to back, as --interleave gives)")
      ("truth", po::bool_switch(&f.truth), "print what was generated (the counts a load must reproduce) as JSON");
  return visible;
}

// The flags that depend on each other, checked once all are read.
void check_flags(GenFlags& f) {
  gen::GeneratorOptions& g = f.options;
  if (!f.start.empty()) g.start = parse_time_arg(f.start, "start");
  if (!f.span.empty()) g.span = parse_duration(f.span, "span");
  g.write_seq = !f.no_seq;
  g.time_ordered_ids = !f.random_ids;
  const auto format = ingest::log_format_from_name(f.format_name);
  if (!format || *format == ingest::LogFormat::Auto || *format == ingest::LogFormat::Regex)
    throw UsageError("--format: expected ndjson, lambda, netlify, docker or kubectl, got '" + f.format_name + "'");
  f.format = *format;
  if (g.files > g.invocations)
    throw UsageError("--files: " + std::to_string(g.files) + " files need at least as many invocations (--invocations " +
                     std::to_string(g.invocations) + ")");
}

// The output directory, made; a corpus that cannot fit is refused before the first byte (the
// disk may be shared). Returns an error message, or "" when the corpus can be written.
std::string prepare_output(const GenFlags& f) {
  std::error_code ec;
  std::filesystem::create_directories(f.out_dir, ec);
  if (ec) return f.out_dir + ": " + ec.message();
  const double estimate = estimated_bytes(f.options, f.gzip);
  const auto space = std::filesystem::space(f.out_dir, ec);
  if (!ec && estimate > 0.9 * double(space.available))
    return "gen: the corpus would take about " + human_bytes(estimate) + ", and " + f.out_dir + " has " +
           human_bytes(double(space.available)) + " free: write fewer invocations";
  return "";
}

// Writes the corpus into its files, framed as the platform would frame it.
gen::GeneratedTruth write_corpus(const GenFlags& f) {
  std::vector<std::unique_ptr<OutputFile>> files(f.options.files);
  auto file_for = [&](uint32_t i) -> OutputFile& {
    if (!files[i]) {
      char name[64];
      std::snprintf(name, sizeof name, "-%04u.%s%s", i + 1, f.format == ingest::LogFormat::Ndjson ? "ndjson" : "log",
                    f.gzip ? ".gz" : "");
      files[i] = std::make_unique<OutputFile>((std::filesystem::path(f.out_dir) / (f.prefix + name)).string(), f.gzip);
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
  const gen::GeneratedTruth t = gen::generate(f.options, [&](uint32_t i, std::string_view line) {
    if (f.format == ingest::LogFormat::Ndjson) {
      file_for(i).write(line);
      return;
    }
    std::string line_ts;
    field(line, "\"ts\":\"", line_ts);
    if (!line_ts.empty() && std::isdigit(static_cast<unsigned char>(line_ts[0]))) ts = line_ts;  // not a bad record's
    field(line, "\"invocation_id\":\"", request_id);
    file_for(i).write(ingest::frame_line(f.format, line, ts, request_id));
  });
  for (auto& file : files)
    if (file) file->close();
  return t;
}

void print_truth(const gen::GeneratedTruth& t) {
  std::cout << "{\"lines\":" << t.lines << ",\"record_lines\":" << t.record_lines << ",\"plain_lines\":" << t.plain_lines
            << ",\"malformed_lines\":" << t.malformed_lines << ",\"invocations\":" << t.invocations
            << ",\"event_executions\":" << t.event_executions << ",\"job_executions\":" << t.job_executions
            << ",\"job_logs\":" << t.job_logs << ",\"distinct_job_logs\":" << t.distinct_job_logs
            << ",\"invocations_completed\":" << t.invocations_completed
            << ",\"invocations_failed\":" << t.invocations_failed << ",\"invocations_without_end\":" << t.invocations_cut
            << ",\"jobs_completed\":" << t.jobs_completed << ",\"jobs_failed\":" << t.jobs_failed
            << ",\"jobs_without_end\":" << t.jobs_cut << ",\"events_detected\":" << t.events_detected
            << ",\"chained_invocations\":" << t.chained << "}\n";
}

}  // namespace

int run_gen(const std::vector<std::string>& args) {
  GenFlags f;
  const po::options_description visible = gen_options(f);
  const po::variables_map vm = parse_command("gen", args, visible);
  if (vm.count("help")) {
    std::cout << visible << "\nExample:\n  edpipe gen --invocations 20000 --files 4 --gzip -o /tmp/corpus\n";
    return kExitOk;
  }
  check_flags(f);
  if (const std::string refused = prepare_output(f); !refused.empty()) {
    std::cerr << "edpipe: " << refused << "\n";
    return kExitInputError;
  }
  try {
    const gen::GeneratedTruth t = write_corpus(f);
    if (f.truth) print_truth(t);
    else
      std::cerr << "edpipe gen: " << t.invocations << " invocations, " << t.lines << " lines in " << f.options.files
                << " file" << (f.options.files == 1 ? "" : "s") << " under " << f.out_dir << "\n";
  } catch (const std::exception& e) {
    std::cerr << "edpipe: " << e.what() << "\n";
    return kExitInputError;
  }
  return kExitOk;
}

}  // namespace edpipe::cli
