#pragma once
// The decoder's fast path: the wire format's fields of a record read straight from simdjson's
// stage-1 index (the offsets of a text's structural characters and of the first byte of each
// scalar), without the On-Demand walk. Internal to ingest.
//
// It fills the same RawFields as collect_fields() (record_fields.h) and is held to it: for every
// record it reads, collect_fields() gives the same fields (tests/ingest/structural_fields_test.cpp
// and the record reader fuzzer compare both). Whatever it is not sure to read exactly as
// collect_fields() would is left to that exact path (Read::Unsure): keys with escapes, an
// `error` that is neither a string nor an object of scalars, `-0` and integers beyond 18
// digits, nesting deeper than 64, and any text that is not well-formed JSON, whose rejection
// and its reason the exact path decides.
#include <simdjson.h>

#include <cstdint>
#include <cstring>
#include <memory>

#include "ingest/record_fields.h"

namespace edpipe::ingest::detail {

// The stage-1 index of one text, which may hold many records separated by blanks.
class StructuralIndex {
 public:
  StructuralIndex();
  // Indexes text[0, len); text[len, len + SIMDJSON_PADDING) must be readable. False when stage
  // 1 refuses the text (invalid UTF-8, an unclosed string, ...): each record is then decided
  // alone by the exact path.
  bool build(const char* text, size_t len);
  const char* text() const noexcept { return text_; }
  const uint32_t* offsets() const noexcept { return impl_->structural_indexes.get(); }
  uint32_t count() const noexcept { return impl_->n_structural_indexes; }
  // Whether text[b, e) holds a backslash. The calls on one index come in increasing order of b:
  // the text is searched once, not once a string.
  bool has_backslash(const char* b, const char* e) noexcept {
    if (backslash_ < b) {
      const void* found = std::memchr(b, '\\', static_cast<size_t>(end_ - b));
      backslash_ = found ? static_cast<const char*>(found) : end_;
    }
    return backslash_ < e;
  }
  // Unescapes the string whose opening quote is at `quote` into dst; nullptr on a bad escape.
  uint8_t* unescape(const char* quote, uint8_t* dst) const noexcept {
    return impl_->parse_string(reinterpret_cast<const uint8_t*>(quote) + 1, dst);
  }

 private:
  std::unique_ptr<simdjson::internal::dom_parser_implementation> impl_;
  const char* text_ = nullptr;
  const char* end_ = nullptr;
  const char* backslash_ = nullptr;  // the first backslash at or after the last search's start
};

class StructuralFieldReader {
 public:
  enum class Read { Done, Unsure };
  // Reads the record whose structural offsets are index.offsets()[first, stop): its `{` must be
  // the first and its `}` the last. Views in `fields` point into the indexed text or into this
  // reader's buffer of unescaped strings, valid until the next call.
  Read read(StructuralIndex& index, uint32_t first, uint32_t stop, RawFields& fields);

 private:
  struct Walk;
  std::unique_ptr<uint8_t[]> unescaped_;
  size_t unescaped_capacity_ = 0;
};

}  // namespace edpipe::ingest::detail
