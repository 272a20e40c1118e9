#include "cli/follow_loop.h"

#include <signal.h>
#include <time.h>

#include <atomic>
#include <iostream>

namespace edpipe::cli {
namespace {

std::atomic<bool> g_stop{false};

extern "C" void on_stop_signal(int) { g_stop.store(true); }

// Sleeps up to `d`; a stop signal cuts it short (no SA_RESTART: nanosleep returns EINTR).
void nap(std::chrono::milliseconds d) {
  timespec ts{static_cast<time_t>(d.count() / 1000), static_cast<long>((d.count() % 1000) * 1000000)};
  ::nanosleep(&ts, nullptr);
}

}  // namespace

void install_stop_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
}

bool stop_requested() noexcept { return g_stop.load(); }

void run_follow_loop(ingest::FileTailer& tailer, PipelineRun& run, const FollowSettings& settings, ProgressMeter& progress) {
  using Clock = std::chrono::steady_clock;
  auto next_flush = Clock::now() + settings.flush_interval;
  auto flush = [&] { run.flush(settings.save_positions ? tailer.positions() : std::vector<ingest::FilePosition>{}); };
  ingest::IngestBatch batch;
  while (!stop_requested()) {
    if (settings.each_turn) settings.each_turn();
    const bool got = tailer.poll(batch);
    for (const auto& e : tailer.take_errors()) {
      progress.finish();
      std::cerr << "edpipe: " << e.what() << "\n";
      run.summary().input_errors.push_back(e.what());
    }
    if (batch.counts.total > 0) run.consume(batch, [&](uint32_t i) { return tailer.input_name(i); });
    progress.update(tailer.bytes_read(), run.summary().lines.records);
    if (Clock::now() >= next_flush) {
      flush();
      next_flush = Clock::now() + settings.flush_interval;
    }
    if (tailer.finished() || (settings.exit_on_eof && !got && tailer.caught_up())) break;
    if (!got) nap(std::min<std::chrono::milliseconds>(
                  settings.idle_sleep,
                  std::chrono::duration_cast<std::chrono::milliseconds>(next_flush - Clock::now()) +
                      std::chrono::milliseconds(1)));
  }
  flush();  // what was read before the stop commits with its positions
}

void follow_to_the_end(ingest::FileTailer& tailer, PipelineRun& run, const FollowSettings& settings) {
  ProgressMeter progress(run.show_progress(), std::nullopt);
  run.set_progress(&progress);
  run_follow_loop(tailer, run, settings, progress);
  run.finish();
  progress.finish();
  run.set_progress(nullptr);
  run.summary().raw_bytes = tailer.bytes_read();
}

}  // namespace edpipe::cli
