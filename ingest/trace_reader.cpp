#include "ingest/trace_reader.h"

#include "ingest/byte_source.h"
#include "ingest/line_reader.h"
#include "ingest/record_decoder.h"

namespace edpipe::ingest {

struct TraceReader::Current {
  std::unique_ptr<ByteSource> source;
  std::unique_ptr<LineReader> lines;
  std::vector<OverlongLine> overlong;
};

TraceReader::TraceReader(std::vector<InputSpec> inputs, FramingOptions framing)
    : inputs_(std::move(inputs)), decoder_(std::make_unique<RecordDecoder>(std::move(framing))) {
  uint64_t total = 0;
  bool known = true;
  for (const auto& in : inputs_) {
    if (in.size) total += *in.size;
    else known = false;
  }
  if (known) total_size_ = total;
}

TraceReader::~TraceReader() = default;

uint64_t TraceReader::raw_bytes_consumed() const noexcept {
  return finished_raw_bytes_ + (cur_ && cur_->source ? cur_->source->raw_bytes_consumed() : 0);
}

void TraceReader::close_current() {
  if (cur_ && cur_->source) finished_raw_bytes_ += cur_->source->raw_bytes_consumed();
  cur_.reset();
  current_ = -1;
}

bool TraceReader::open_next() {
  while (next_input_ < inputs_.size()) {
    size_t i = next_input_++;
    try {
      auto c = std::make_unique<Current>();
      c->source = open_byte_source(inputs_[i].path);
      c->lines = std::make_unique<LineReader>(*c->source);
      cur_ = std::move(c);
      current_ = static_cast<int64_t>(i);
      return true;
    } catch (const InputError& e) {
      failures_.push_back(e);
    }
  }
  return false;
}

bool TraceReader::next(IngestBatch& batch) {
  batch.clear();
  for (;;) {
    if (!cur_ && !open_next()) return false;
    const auto input = static_cast<uint32_t>(current_);
    LineBlock block;
    bool more = false;
    try {
      more = cur_->lines->next(block, cur_->overlong);
    } catch (const InputError& e) {
      failures_.push_back(e);
    }
    // Lines too long for the buffer were skipped by the reader: they are rejected here.
    for (auto& o : cur_->overlong) {
      batch.reject(RejectedLine::too_long({input, o.line, o.offset}, o.head, o.size, kMaxLineBytes), true);
      batch.bytes += o.size;
    }
    cur_->overlong.clear();
    if (more) {
      // One block per batch, and the reader's buffer is next touched after the batch is cleared.
      block.outlives_batch = true;
      decoder_->decode(block, input, batch);
      return true;
    }
    close_current();
    if (batch.counts.total > 0) return true;
  }
}

}  // namespace edpipe::ingest
