#pragma once
// The loop of `tail` (and of `load -` on a pipe): read what arrives, flush on a clock.
#include <chrono>
#include <functional>

#include "cli/pipeline_run.h"
#include "cli/progress_meter.h"
#include "ingest/file_tailer.h"

namespace edpipe::cli {

struct FollowSettings {
  std::chrono::milliseconds flush_interval{5000};
  std::chrono::milliseconds idle_sleep{200};  // between polls when nothing arrived
  bool exit_on_eof = false;                   // stop once every file is read to its end
  bool save_positions = true;                 // send the read positions with each flush
  // Called every turn of the loop (tail: the files' locks taken again after a lost session).
  std::function<void()> each_turn;
};

// SIGINT and SIGTERM ask the loop to stop: it finishes the batch in hand, commits, returns.
void install_stop_handlers();
bool stop_requested() noexcept;

// Runs until a stop is requested, stdin (when it is the only input) ends, or with exit_on_eof
// every file is read to its end. Every flush_interval, the invocations still open load as
// `running` and the positions of the lines read so far commit with them.
void run_follow_loop(ingest::FileTailer& tailer, PipelineRun& run, const FollowSettings& settings, ProgressMeter& progress);
// The loop with a progress line, then the run finished (everything loaded).
void follow_to_the_end(ingest::FileTailer& tailer, PipelineRun& run, const FollowSettings& settings);

}  // namespace edpipe::cli
