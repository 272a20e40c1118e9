#pragma once
// Keys derived from content: the ids of job.log rows (which carry none of their own) and the
// ranks that break ties between two records of one lifecycle step.
//
// A rank is a 64-bit hash of everything stored about a record. Two records of one step with the
// same failed-ness and the same ts are ordered by rank, in memory (row_state.cpp), in the dry
// run's tally and in the database (the rank is stored beside the step, load_sql.cpp): one fixed
// content order, whatever the order of arrival. (Two different records with one rank would be
// told apart by their content in memory but not in the database: a 2^-64 chance per tie.)
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "transform/row_state.h"

namespace edpipe::transform {

// 128-bit MurmurHash3 (x64 variant).
void murmur3_x64_128(const void* data, size_t len, uint64_t seed, uint64_t out[2]) noexcept;

// Hashes the byte string of a key. Every variable-length field carries its length and every
// optional its presence, so no two different tuples write the same bytes. The digest is
// murmur3_x64_128 of their concatenation: small fields gather in a block on the stack, and a
// long text (a payload) is hashed where it lies, never copied.
class ContentHasher {
 public:
  static constexpr uint64_t kSeed = 0x65647069706531ULL;  // "edpipe1"

  ContentHasher& raw(const void* p, size_t n) noexcept {
    if (n <= kGather - gathered_) [[likely]] {
      std::memcpy(gather_ + gathered_, p, n);
      gathered_ += n;
      return *this;
    }
    return absorb(static_cast<const uint8_t*>(p), n);
  }
  ContentHasher& u8(uint8_t v) noexcept { return raw(&v, 1); }
  ContentHasher& i64(int64_t v) noexcept { return raw(&v, sizeof v); }
  ContentHasher& uuid(const Uuid& u) noexcept { return raw(u.bytes.data(), 16); }
  ContentHasher& text(std::string_view s) noexcept;
  // A JSON value by what it denotes (append_canonical_json), its text when that cannot be read.
  ContentHasher& json_value(std::string_view json);
  template <class T, class Put>
  ContentHasher& opt(const std::optional<T>& v, Put put) {
    u8(v.has_value());
    if (v) put(*this, *v);
    return *this;
  }
  ContentHasher& opt_text(const std::optional<std::string_view>& s) {
    return opt(s, [](ContentHasher& h, std::string_view v) { h.text(v); });
  }
  ContentHasher& opt_uuid(const std::optional<Uuid>& u) {
    return opt(u, [](ContentHasher& h, const Uuid& v) { h.uuid(v); });
  }
  ContentHasher& opt_i64(const std::optional<int64_t>& v) {
    return opt(v, [](ContentHasher& h, int64_t x) { h.i64(x); });
  }

  // The hash of the bytes so far (more may follow).
  void digest(uint64_t out[2]) const noexcept;
  int64_t rank() const noexcept;  // the first 64 bits, as the database's bigint
  Uuid name_uuid() const noexcept;  // a version 8 (RFC 9562) UUID of the digest

 private:
  static constexpr size_t kGather = 256;  // a multiple of murmur's 16-byte block
  ContentHasher& absorb(const uint8_t* p, size_t n) noexcept;
  uint64_t h1_ = kSeed, h2_ = kSeed;
  uint64_t mixed_ = 0;    // bytes mixed into h1_, h2_: a multiple of 16
  size_t gathered_ = 0;   // bytes waiting in gather_
  uint8_t gather_[kGather];
};

using ContentRank = int64_t;

// The rank of a lifecycle record: a hash of its body (the ts is compared before it).
ContentRank content_rank(const ingest::InvocationStart& b);
ContentRank content_rank(const ingest::InvocationEnd& b);
ContentRank content_rank(const ingest::DetectionStart& b);
ContentRank content_rank(const ingest::DetectionEnd& b);
ContentRank content_rank(const ingest::HandlerStart& b);
ContentRank content_rank(const ingest::HandlerEnd& b);
ContentRank content_rank(const ingest::JobStart& b);
ContentRank content_rank(const ingest::JobEnd& b);
template <class B>
ContentRank content_rank(const std::optional<Stamped<B>>& step) {
  return step ? content_rank(step->body) : 0;
}

// The rank of a log line: everything stored about it (which of two lines with one id is kept).
ContentRank content_rank(const JobLogRow& row);

// A log line's row id. With `seq`: the invocation and seq alone (log_row_id_by_seq). Without:
// its identity, everything stored about the line (owner, ts, level, message, data by value,
// source), and the occurrence number of that exact line within one load. A replay gives the
// same id; lines that differ in anything stored never share one.
Uuid log_row_id_by_seq(const Uuid& invocation_id, int64_t seq);
Uuid log_identity(const Uuid& invocation_id, const std::optional<Uuid>& job_execution_id, Timestamp ts, ingest::LogLevel level,
                  std::string_view message, const std::optional<ingest::JsonText>& data, const std::optional<ingest::Text>& source);
Uuid log_row_id(const Uuid& identity, uint32_t occurrence);
Uuid log_row_id(const JobLogRow& row);  // from the row's seq, or its content and occurrence

}  // namespace edpipe::transform
