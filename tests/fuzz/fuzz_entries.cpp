#include "fuzz_entries.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <simdjson.h>

#include "ingest/line_framing.h"
#include "ingest/line_reader.h"
#include "ingest/record_decoder.h"
#include "transform/privacy_filter.h"
#include "transform/row_tally.h"
#include "transform/trace_assembler.h"

namespace edpipe::fuzz {
namespace {

[[noreturn]] void broken(const char* what) {
  std::fprintf(stderr, "invariant broken: %s\n", what);
  std::abort();
}

// An in-memory input handed out in small, uneven reads: lines straddle every block boundary.
class ChoppedSource final : public ingest::ByteSource {
 public:
  ChoppedSource(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  size_t read(char* buf, size_t n) override {
    const size_t k = std::min({n, size_ - pos_, static_cast<size_t>(1 + (pos_ * 7919) % 97)});
    std::copy(data_ + pos_, data_ + pos_ + k, buf);
    pos_ += k;
    return k;
  }
  uint64_t raw_bytes_consumed() const noexcept override { return pos_; }

 private:
  const uint8_t* data_;
  size_t size_, pos_ = 0;
};

ingest::FramingOptions framing_for(uint8_t selector) {
  ingest::FramingOptions f;
  switch (selector % kFramings) {
    case 0: f.format = ingest::LogFormat::Auto; break;
    case 1: f.format = ingest::LogFormat::Ndjson; break;
    case 2: f.format = ingest::LogFormat::Lambda; break;
    case 3: f.format = ingest::LogFormat::Netlify; break;
    case 4: f.format = ingest::LogFormat::Docker; break;
    case 5: f.format = ingest::LogFormat::Kubectl; break;
    default:
      f.format = ingest::LogFormat::Regex;
      f.line_regex = R"(^\[[^]]*\] (?P<json>\{.*\})$)";
  }
  return f;
}

const std::vector<const simdjson::implementation*>& supported_stage1() {
  static const std::vector<const simdjson::implementation*> supported = [] {
    std::vector<const simdjson::implementation*> v;
    for (const simdjson::implementation* impl : simdjson::get_available_implementations())
      if (impl->supported_by_runtime_system()) v.push_back(impl);
    return v;
  }();
  return supported;
}

// Decoders take the active implementation when they are made; it is put back when done.
class Stage1Choice {
 public:
  explicit Stage1Choice(uint8_t selector) : before_(simdjson::get_active_implementation()) {
    const auto& choices = supported_stage1();
    simdjson::get_active_implementation() = choices[(selector / kFramings) % choices.size()];
  }
  ~Stage1Choice() { simdjson::get_active_implementation() = before_; }
  Stage1Choice(const Stage1Choice&) = delete;
  Stage1Choice& operator=(const Stage1Choice&) = delete;

 private:
  const simdjson::implementation* before_;
};

uint64_t lines_in(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  return static_cast<uint64_t>(std::count(data, data + size, '\n')) + (data[size - 1] != '\n' ? 1 : 0);
}

// Decodes the whole input through a LineReader; returns every line's fate.
ingest::IngestBatch read_all(const uint8_t* data, size_t size, const ingest::FramingOptions& framing, size_t read_size,
                             ingest::DecodePath path = ingest::DecodePath::Structural) {
  ChoppedSource source(data, size);
  ingest::LineReader reader(source, read_size, 1 << 16);
  ingest::RecordDecoder decoder(framing, path);
  ingest::IngestBatch all;
  ingest::LineBlock block;
  std::vector<ingest::OverlongLine> overlong;
  while (reader.next(block, overlong)) {
    decoder.decode(block, 0, all);
  }
  for (const auto& o : overlong) {  // as TraceReader does: a rejected line each
    ingest::RejectedLine r;
    r.pos = {0, o.line, o.offset};
    r.reason = ingest::RejectReason::LineTooLong;
    all.rejected.push_back(std::move(r));
    all.counts.total++;
    all.counts.rejected++;
  }
  return all;
}

}  // namespace

size_t stage1_choices() { return supported_stage1().size(); }

void record_reader(const uint8_t* data, size_t size) {
  if (size == 0) return;
  const ingest::FramingOptions framing = framing_for(data[0]);
  const Stage1Choice stage1(data[0]);
  ++data;
  --size;
  const ingest::IngestBatch a = read_all(data, size, framing, 256);
  if (!a.counts.adds_up()) broken("lines != records + non_record + rejected");
  if (a.counts.total != lines_in(data, size)) broken("a line was lost or counted twice");
  if (a.records.size() != a.counts.records || a.rejected.size() != a.counts.rejected) broken("counts and contents differ");
  for (const auto& r : a.rejected)
    if (r.pos.line == 0 || r.pos.line > a.counts.total) broken("a rejected line's number is out of range");
  // Another cut of the same bytes decides every line the same way.
  const ingest::IngestBatch b = read_all(data, size, framing, 4096);
  if (b.counts.records != a.counts.records || b.counts.rejected != a.counts.rejected ||
      b.counts.non_record != a.counts.non_record)
    broken("the fates depend on how the input is cut into blocks");
  // The structural reader decides every line as the exact path does, record for record.
  const ingest::IngestBatch g = read_all(data, size, framing, 256, ingest::DecodePath::Exact);
  if (g.records.size() != a.records.size() || g.rejected.size() != a.rejected.size() ||
      g.counts.non_record != a.counts.non_record)
    broken("the structural reader and the exact path decide lines differently");
  for (size_t i = 0; i < a.records.size(); ++i) {
    const ingest::TraceRecord &x = a.records[i], &y = g.records[i];
    if (x.pos.line != y.pos.line || x.ts != y.ts || x.invocation_id != y.invocation_id ||
        x.correlation_id != y.correlation_id || !(x.body == y.body))
      broken("the structural reader and the exact path read a record differently");
  }
  for (size_t i = 0; i < a.rejected.size(); ++i)
    if (a.rejected[i].pos.line != g.rejected[i].pos.line || a.rejected[i].reason != g.rejected[i].reason ||
        a.rejected[i].detail != g.rejected[i].detail)
      broken("the structural reader and the exact path reject a line differently");
}

void transform(const uint8_t* data, size_t size) {
  if (size == 0) return;
  const size_t cut_at = data[0];
  ++data;
  --size;
  ingest::IngestBatch batch = read_all(data, size, {}, 1024);
  transform::PrivacyOptions po;
  po.redact_patterns = {R"([\w.+-]+@[\w-]+\.[\w.]+)"};
  po.redact_fields = {"password"};
  po.max_json_bytes = 512;
  transform::PrivacyFilter(po).filter(batch.records, batch.text);

  auto run = [&](size_t cut) {
    transform::TraceAssembler assembler;
    transform::RowTally tally;
    std::vector<ingest::TraceRecord> first(batch.records.begin(), batch.records.begin() + static_cast<std::ptrdiff_t>(cut));
    std::vector<ingest::TraceRecord> second(batch.records.begin() + static_cast<std::ptrdiff_t>(cut), batch.records.end());
    transform::RowBatch rows;
    assembler.add(first);
    assembler.take_all(rows);  // a flush in the middle: the rest comes as later fragments
    tally.add(rows);
    rows = {};
    assembler.add(second);
    assembler.take_all(rows);
    tally.add(rows);
    return tally.finish(transform::AbandonRule{assembler.watermark(), transform::kDefaultAbandonAfter});
  };
  const transform::TallyResult whole = run(batch.records.size());
  const transform::TallyResult split = run(std::min(cut_at, batch.records.size()));
  // Job logs are left out: identical lines in two fragments collapse (a documented limit).
  if (whole.invocations != split.invocations || whole.event_executions != split.event_executions ||
      whole.job_executions != split.job_executions || whole.invocations_by_status != split.invocations_by_status ||
      whole.events_by_status != split.events_by_status || whole.jobs_by_status != split.jobs_by_status)
    broken("fragments merged differently from one piece");
}

}  // namespace edpipe::fuzz
