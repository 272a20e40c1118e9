#pragma once
// A seeded generator of realistic event-detector logs: for samples, tests and benchmarks.
//
// Invocations start one after another and overlap in time (`interleave` in flight at once); each
// file holds a contiguous slice of them, lines in ts order as a function would print them, with
// plain console lines, structured-logger lines and (as extra lines) malformed records mixed in.
// It also returns the ground truth (GeneratedTruth) that the pipeline must reproduce.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/timestamp.h"

namespace edpipe::gen {

struct GeneratorOptions {
  uint64_t seed = 1;
  uint64_t invocations = 1000;
  uint32_t functions = 3;
  uint32_t files = 1;
  uint32_t interleave = 8;            // invocations in flight at once
  Timestamp span = 0;                 // µs the starts are spread over (0: as tight as interleave allows)
  double failure_rate = 0.05;         // invocations ending `failed`
  double job_failure_rate = 0.05;
  double detection_error_rate = 0.02;
  double abandon_rate = 0.02;         // invocations cut off before their end
  double chain_rate = 0.10;           // invocations caused by an earlier job (source_job_id)
  double console_rate = 1.0;          // plain console lines per invocation, on average
  double malformed_rate = 0.001;      // extra malformed lines, per record line
  double disorder_rate = 0.01;        // records swapped with their neighbour
  Timestamp start = 1'795'132'800'000'000;  // 2026-11-20T00:00:00Z
  uint32_t payload_columns = 24;      // columns per Hasura row image (~1.5 KB payloads)
  bool write_seq = true;              // `seq` on every job.log (false: the emitters that write none)
  double log_repeat_rate = 0.0;       // a job.log followed, at the same ts, by a copy: identical, or
                                      // differing only in data or only in source
  // Ids as edpipe's emitter writes them, UUIDv7: the invocation's start in their first 48 bits
  // (ms), so a day's ids are neighbours in a B-tree. false: random UUIDv4, as emitters that
  // use randomUUID() write them. (The random draws are the same either way: a seed gives the
  // same corpus but for the ids' first bits.)
  bool time_ordered_ids = true;
};

struct GeneratedTruth {
  uint64_t lines = 0, record_lines = 0, plain_lines = 0, malformed_lines = 0;
  uint64_t invocations = 0, event_executions = 0, job_executions = 0, job_logs = 0;
  uint64_t distinct_job_logs = 0;  // job.log lines that differ in something stored besides seq
  uint64_t invocations_completed = 0, invocations_failed = 0, invocations_cut = 0;
  uint64_t jobs_completed = 0, jobs_failed = 0, jobs_cut = 0;
  uint64_t events_detected = 0;
  uint64_t chained = 0;
  Timestamp newest_ts = 0;
};

// Receives every line (no newline) with the index of the file it belongs to.
using LineSink = std::function<void(uint32_t file, std::string_view line)>;

GeneratedTruth generate(const GeneratorOptions& options, const LineSink& sink);

}  // namespace edpipe::gen
