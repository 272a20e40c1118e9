#include "ingest/record_decoder.h"

#include <simdjson.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "ingest/record_fields.h"
#include "ingest/structural_fields.h"

namespace edpipe::ingest {
namespace {

constexpr size_t kGroupBytes = 64 * 1024;  // one stage-1 index per group: stays in the cache

struct Candidate {
  size_t begin, end;  // [begin, end) within the block: from the `{` to the end of the record
  SourcePos pos;
  size_t line_begin, line_end;  // the whole line (no \r\n), for the dead-letter output
  int32_t saved = -1;           // framed lines: index of the line's original text in `saved_lines`
};

}  // namespace

struct RecordDecoder::Impl {
  Impl(FramingOptions f, DecodePath p) : framer(std::move(f)), path(p) {}
  LineFramer framer;
  DecodePath path;
  simdjson::ondemand::parser parser;
  detail::StructuralIndex group_index, line_index;
  detail::StructuralFieldReader structural;
  detail::FieldValidator validator;
  detail::RawFields fields;
  std::vector<Candidate> candidates;
  std::vector<std::string> saved_lines;  // framed lines keep their prefix for the dead-letter output
  std::vector<Candidate> wrapped;        // Docker wrappers, decoded after the stream
  bool input_outlives_batch = false;     // of the text being decoded now
  uint64_t exact_lines = 0;

  std::string_view raw_of(const char* data, const Candidate& c) const {
    if (c.saved >= 0) return saved_lines[static_cast<size_t>(c.saved)];
    return std::string_view(data + c.line_begin, c.line_end - c.line_begin);
  }

  // Docker json-file: {"log":"<the function's line>\n","stream":…,"time":…}. The inner line is
  // decoded like a line of its own, at the wrapper's position.
  void decode_wrapped(std::string_view line, SourcePos pos, IngestBatch& out) {
    std::string padded(line);
    padded.append(simdjson::SIMDJSON_PADDING, ' ');
    simdjson::ondemand::document doc;
    simdjson::ondemand::object obj;
    std::string_view inner;
    auto e = parser.iterate(simdjson::padded_string_view(padded.data(), line.size(), padded.size())).get(doc);
    if (!e) e = doc.get_object().get(obj);
    if (!e) {
      simdjson::ondemand::value log;
      simdjson::ondemand::json_type type{};
      e = obj.find_field_unordered("log").get(log);
      if (!e) e = log.type().get(type);
      if (e == simdjson::NO_SUCH_FIELD || (!e && type != simdjson::ondemand::json_type::string)) {
        out.counts.non_record++;
        return;
      }
      if (!e) e = log.get_string().get(inner);
    }
    if (e) {
      reject(out, pos, reason_for(e), "Docker log wrapper: " + detail_for(e), line);
      return;
    }
    while (!inner.empty() && (inner.back() == '\n' || inner.back() == '\r')) inner.remove_suffix(1);
    std::string text(inner);  // the parser's string buffer is reused by the next parse
    size_t q = 0;
    while (q < text.size() && (text[q] == ' ' || text[q] == '\t')) ++q;
    if (q == text.size() || text[q] != '{') {
      out.counts.non_record++;
      return;
    }
    const size_t len = text.size() - q;
    text.append(simdjson::SIMDJSON_PADDING, ' ');
    const bool outlives = std::exchange(input_outlives_batch, false);  // `text` dies here
    decode_one(text.data() + q, len, text.size() - q, pos, line, out);
    input_outlives_batch = outlives;
  }

  void reject(IngestBatch& out, SourcePos pos, RejectReason reason, std::string detail, std::string_view raw) {
    out.reject(RejectedLine::broken(pos, reason, std::move(detail), raw), false);
  }

  void take_verdict(detail::Verdict&& v, IngestBatch& out, SourcePos pos, std::string_view raw) {
    if (std::holds_alternative<detail::Appended>(v)) {
      out.counts.records++;
      out.counts.by_type[static_cast<size_t>(out.records.back().type())]++;
    } else if (auto* nr = std::get_if<detail::NotARecord>(&v)) {
      out.counts.non_record++;
      if (nr->unknown_type) out.counts.unknown_type++;
    } else {
      auto& rej = std::get<detail::Rejection>(v);
      reject(out, pos, rej.reason, std::move(rej.detail), raw);
    }
  }

  static RejectReason reason_for(simdjson::error_code e) {
    if (e == simdjson::UTF8_ERROR) return RejectReason::InvalidUtf8;
    if (e == simdjson::DEPTH_ERROR) return RejectReason::TooDeep;
    return RejectReason::InvalidJson;
  }
  static std::string detail_for(simdjson::error_code e) {
    if (e == simdjson::UTF8_ERROR) return "the line is not valid UTF-8";
    if (e == simdjson::DEPTH_ERROR) return "JSON nested deeper than the parser's limit";
    return std::string("starts with `{` but is not valid JSON (") + simdjson::error_message(e) + ")";
  }

  // The exact path: one line, one parse; any JSON error is this line's own.
  void decode_one(const char* text, size_t len, size_t readable, SourcePos pos, std::string_view raw,
                  IngestBatch& out) {
    simdjson::ondemand::document doc;
    simdjson::ondemand::object obj;
    auto e = parser.iterate(simdjson::padded_string_view(text, len, readable)).get(doc);
    if (!e) e = doc.get_object().get(obj);
    if (!e) e = detail::collect_fields(obj, fields);
    // Anything after the object (`{...} tail`) makes the line torn, not a record.
    if (!e && doc.current_location().error() != simdjson::OUT_OF_BOUNDS) e = simdjson::TRAILING_CONTENT;
    if (e) {
      reject(out, pos, reason_for(e), detail_for(e), raw);
      return;
    }
    take_verdict(validator.validate(fields, pos, out.records, out.text, input_outlives_batch), out, pos, raw);
  }

  // The fast path: the stage-1 index of a group of candidates, each record's fields read from
  // it. A record that does not start where the index expects (an earlier line's unclosed string
  // shifted what stage 1 took for structure), or every record of a group stage 1 refuses, is
  // indexed alone; one the structural reader is not sure of is decided by the exact path.
  void decode_group(const LineBlock& block, size_t first, size_t last, IngestBatch& out) {
    const size_t base = candidates[first].begin;
    const size_t len = candidates[last - 1].end - base;
    if (path == DecodePath::Exact || !group_index.build(block.data + base, len)) {
      for (size_t k = first; k < last; ++k) decode_alone(block, candidates[k], out);
      return;
    }
    const uint32_t* at = group_index.offsets();
    const uint32_t n = group_index.count();
    uint32_t s = 0;
    for (size_t k = first; k < last; ++k) {
      const Candidate& c = candidates[k];
      const size_t b = c.begin - base, e = c.end - base;
      while (s < n && at[s] < b) ++s;
      const auto stop = static_cast<uint32_t>(std::lower_bound(at + s, at + n, e) - at);
      if (s < n && at[s] == b) {
        read_indexed(block, c, group_index, s, stop, out);
      } else {
        decode_alone(block, c, out);
      }
      s = stop;
    }
  }

  void decode_alone(const LineBlock& block, const Candidate& c, IngestBatch& out) {
    if (path == DecodePath::Structural && line_index.build(block.data + c.begin, c.end - c.begin) &&
        line_index.count() > 0) {
      read_indexed(block, c, line_index, 0, line_index.count(), out);
    } else {
      decode_exactly(block, c, out);
    }
  }

  void read_indexed(const LineBlock& block, const Candidate& c, detail::StructuralIndex& index, uint32_t first,
                    uint32_t stop, IngestBatch& out) {
    if (structural.read(index, first, stop, fields) == detail::StructuralFieldReader::Read::Done) {
      take_verdict(validator.validate(fields, c.pos, out.records, out.text, input_outlives_batch), out, c.pos,
                   raw_of(block.data, c));
    } else {
      decode_exactly(block, c, out);
    }
  }

  void decode_exactly(const LineBlock& block, const Candidate& c, IngestBatch& out) {
    ++exact_lines;
    decode_one(block.data + c.begin, c.end - c.begin, block.size + kBlockPadding - c.begin, c.pos,
               raw_of(block.data, c), out);
  }
};

RecordDecoder::RecordDecoder(FramingOptions framing, DecodePath path)
    : impl_(std::make_unique<Impl>(std::move(framing), path)) {}
RecordDecoder::~RecordDecoder() = default;

uint64_t RecordDecoder::exact_path_lines() const noexcept { return impl_->exact_lines; }

void RecordDecoder::decode_line(std::string_view line, SourcePos pos, IngestBatch& out) {
  if (line.empty()) {  // a block of zero bytes holds no line; an empty line is still one
    out.counts.total++;
    out.counts.non_record++;
    return;
  }
  std::string padded(line);
  padded.append(kBlockPadding, ' ');
  LineBlock block;
  block.data = padded.data();
  block.size = line.size();
  block.first_line = pos.line;
  block.offset = pos.offset;
  block.line_count = 1;
  decode(block, pos.input, out);
}

void RecordDecoder::decode(LineBlock& block, uint32_t input_index, IngestBatch& out) {
  Impl& m = *impl_;
  m.candidates.clear();
  m.saved_lines.clear();
  m.wrapped.clear();
  m.input_outlives_batch = block.outlives_batch;
  out.bytes += block.size;

  // Phase 1: classify every line; blank the non-candidates so the candidates form one stream.
  char* data = block.data;
  const char* end = data + block.size;
  uint64_t line_no = block.first_line;
  size_t pos = 0;
  while (data + pos < end) {
    const char* line = data + pos;
    const char* nl = static_cast<const char*>(std::memchr(line, '\n', end - line));
    const char* line_end = nl ? nl : end;
    size_t next = static_cast<size_t>((nl ? nl + 1 : end) - data);
    const char* content_end = line_end;
    if (content_end > line && content_end[-1] == '\r') --content_end;
    SourcePos sp{input_index, line_no, block.offset + pos};
    out.counts.total++;
    const size_t line_len = static_cast<size_t>(content_end - line);
    const size_t line_begin = pos, line_stop = static_cast<size_t>(content_end - data);
    FramedLine f;
    if (line_len > kMaxLineBytes) {
      m.reject(out, sp, RejectReason::LineTooLong,
               "line of " + std::to_string(line_len) + " bytes exceeds the limit of " +
                   std::to_string(kMaxLineBytes) + " bytes",
               std::string_view(line, line_len));
    } else {
      f = m.framer.frame(std::string_view(line, line_len));
      if (f.kind == FramedLine::NotRecord) out.counts.non_record++;
    }
    if (f.kind == FramedLine::Json) {
      Candidate c{line_begin + f.begin, line_begin + f.end, sp, line_begin, line_stop};
      if (f.begin > 0 || f.end < line_len) {
        // Keep the line as read for the dead-letter output, then blank the framing around the record.
        c.saved = static_cast<int32_t>(m.saved_lines.size());
        m.saved_lines.emplace_back(line, line_len);
        std::memset(const_cast<char*>(line), ' ', f.begin);
        std::memset(const_cast<char*>(line) + f.end, ' ', line_end - line - f.end);
      }
      m.candidates.push_back(c);
    } else {
      if (f.kind == FramedLine::Wrapped) {
        m.wrapped.push_back({0, 0, sp, 0, 0, static_cast<int32_t>(m.saved_lines.size())});
        m.saved_lines.emplace_back(line, line_len);
      }
      std::memset(const_cast<char*>(line), ' ', line_end - line);
    }
    pos = next;
    ++line_no;
  }

  // Phases 2 and 3: groups of candidates through one stage-1 index, line by line on any doubt.
  size_t first = 0;
  while (first < m.candidates.size()) {
    size_t last = first + 1;
    while (last < m.candidates.size() && m.candidates[last].end - m.candidates[first].begin <= kGroupBytes) ++last;
    m.decode_group(block, first, last, out);
    first = last;
  }
  for (const Candidate& w : m.wrapped) m.decode_wrapped(m.raw_of(data, w), w.pos, out);
}

}  // namespace edpipe::ingest
