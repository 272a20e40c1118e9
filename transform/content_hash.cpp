#include "transform/content_hash.h"

#include <cstring>

#include "core/json_text.h"

namespace edpipe::transform {
namespace {
inline uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }
inline uint64_t fmix(uint64_t k) { return UuidHash::mix(k); }  // murmur3's finaliser
constexpr uint64_t c1 = 0x87c37b91114253d5ULL, c2 = 0x4cf5ad432745937fULL;

// MurmurHash3_x64_128 in its three parts, so that a key can be fed in pieces.
inline void mix_block(const uint8_t* p, uint64_t& h1, uint64_t& h2) noexcept {
  uint64_t k1, k2;
  std::memcpy(&k1, p, 8);
  std::memcpy(&k2, p + 8, 8);
  k1 *= c1; k1 = rotl(k1, 31); k1 *= c2; h1 ^= k1;
  h1 = rotl(h1, 27); h1 += h2; h1 = h1 * 5 + 0x52dce729;
  k2 *= c2; k2 = rotl(k2, 33); k2 *= c1; h2 ^= k2;
  h2 = rotl(h2, 31); h2 += h1; h2 = h2 * 5 + 0x38495ab5;
}

// The last len % 16 bytes and the finalisation.
void finish(const uint8_t* tail, uint64_t len, uint64_t h1, uint64_t h2, uint64_t out[2]) noexcept {
  uint64_t k1 = 0, k2 = 0;
  switch (len & 15) {
    case 15: k2 ^= uint64_t(tail[14]) << 48; [[fallthrough]];
    case 14: k2 ^= uint64_t(tail[13]) << 40; [[fallthrough]];
    case 13: k2 ^= uint64_t(tail[12]) << 32; [[fallthrough]];
    case 12: k2 ^= uint64_t(tail[11]) << 24; [[fallthrough]];
    case 11: k2 ^= uint64_t(tail[10]) << 16; [[fallthrough]];
    case 10: k2 ^= uint64_t(tail[9]) << 8; [[fallthrough]];
    case 9: k2 ^= uint64_t(tail[8]); k2 *= c2; k2 = rotl(k2, 33); k2 *= c1; h2 ^= k2; [[fallthrough]];
    case 8: k1 ^= uint64_t(tail[7]) << 56; [[fallthrough]];
    case 7: k1 ^= uint64_t(tail[6]) << 48; [[fallthrough]];
    case 6: k1 ^= uint64_t(tail[5]) << 40; [[fallthrough]];
    case 5: k1 ^= uint64_t(tail[4]) << 32; [[fallthrough]];
    case 4: k1 ^= uint64_t(tail[3]) << 24; [[fallthrough]];
    case 3: k1 ^= uint64_t(tail[2]) << 16; [[fallthrough]];
    case 2: k1 ^= uint64_t(tail[1]) << 8; [[fallthrough]];
    case 1: k1 ^= uint64_t(tail[0]); k1 *= c1; k1 = rotl(k1, 31); k1 *= c2; h1 ^= k1;
  }
  h1 ^= len; h2 ^= len;
  h1 += h2; h2 += h1;
  h1 = fmix(h1); h2 = fmix(h2);
  h1 += h2; h2 += h1;
  out[0] = h1;
  out[1] = h2;
}
}  // namespace

void murmur3_x64_128(const void* key, size_t len, uint64_t seed, uint64_t out[2]) noexcept {
  const auto* data = static_cast<const uint8_t*>(key);
  const size_t nblocks = len / 16;
  uint64_t h1 = seed, h2 = seed;
  for (size_t i = 0; i < nblocks; ++i) mix_block(data + i * 16, h1, h2);
  finish(data + nblocks * 16, len, h1, h2, out);
}

ContentHasher& ContentHasher::absorb(const uint8_t* p, size_t n) noexcept {
  // Top the gathered bytes up to whole blocks (the room left allows it: raw() came here because
  // n is larger), mix them, then mix the input's whole blocks where they lie.
  const size_t top_up = (16 - gathered_ % 16) % 16;
  std::memcpy(gather_ + gathered_, p, top_up);
  gathered_ += top_up;
  p += top_up;
  n -= top_up;
  uint64_t h1 = h1_, h2 = h2_;  // locals: the input's bytes may alias the members
  for (size_t i = 0; i < gathered_; i += 16) mix_block(gather_ + i, h1, h2);
  mixed_ += gathered_;
  for (; n >= 16; p += 16, n -= 16, mixed_ += 16) mix_block(p, h1, h2);
  h1_ = h1;
  h2_ = h2;
  std::memcpy(gather_, p, n);
  gathered_ = n;
  return *this;
}

ContentHasher& ContentHasher::text(std::string_view s) noexcept {
  const auto n = static_cast<uint64_t>(s.size());
  raw(&n, sizeof n);
  return raw(s.data(), s.size());
}

ContentHasher& ContentHasher::json_value(std::string_view json) {
  // The canonical form's length goes before it: it is written out first, to a scratch buffer
  // that each thread keeps (no allocation per key).
  thread_local std::string canonical;
  canonical.clear();
  if (append_canonical_json(canonical, json)) {
    u8('J');
    return text(canonical);
  }
  return u8('T').text(json);  // as text: never equal to a canonical form
}

void ContentHasher::digest(uint64_t out[2]) const noexcept {
  uint64_t h1 = h1_, h2 = h2_;
  const size_t whole = gathered_ / 16 * 16;
  for (size_t i = 0; i < whole; i += 16) mix_block(gather_ + i, h1, h2);
  finish(gather_ + whole, mixed_ + gathered_, h1, h2, out);
}

int64_t ContentHasher::rank() const noexcept {
  uint64_t h[2];
  digest(h);
  return static_cast<int64_t>(h[0]);
}

Uuid ContentHasher::name_uuid() const noexcept {
  uint64_t h[2];
  digest(h);
  Uuid id;
  std::memcpy(id.bytes.data(), h, 16);
  id.bytes[6] = static_cast<uint8_t>((id.bytes[6] & 0x0F) | 0x80);  // version 8
  id.bytes[8] = static_cast<uint8_t>((id.bytes[8] & 0x3F) | 0x80);  // RFC 9562 variant
  return id;
}

namespace {
void put_error(ContentHasher& h, const std::optional<ingest::ErrorInfo>& e) {
  h.opt(e, [](ContentHasher& x, const ingest::ErrorInfo& v) { x.opt_text(v.message).opt_text(v.stack); });
}
void put_json(ContentHasher& h, const std::optional<ingest::JsonText>& j) { h.opt_text(j); }  // as written: ranks only
}  // namespace

// Each body's fields in declaration order, behind a tag of its type.
ContentRank content_rank(const ingest::InvocationStart& b) {
  ContentHasher h;
  h.u8(uint8_t(ingest::RecordType::InvocationStart)).text(b.source_function).opt_text(b.source_system).opt_text(b.source_table);
  h.opt_text(b.source_operation).opt_uuid(b.source_event_id).opt_i64(b.source_event_time);
  put_json(h, b.source_event_payload);
  h.opt_text(b.source_user_email).opt_text(b.source_user_role).opt_uuid(b.source_job_id);
  h.opt(b.auto_load_modules, [](ContentHasher& x, bool v) { x.u8(v); });
  h.opt_text(b.event_modules_directory);
  put_json(h, b.context);
  return h.rank();
}
ContentRank content_rank(const ingest::InvocationEnd& b) {
  ContentHasher h;
  h.u8(uint8_t(ingest::RecordType::InvocationEnd)).u8(uint8_t(b.status)).opt_i64(b.duration_ms);
  put_error(h, b.error);
  return h.rank();
}
ContentRank content_rank(const ingest::DetectionStart& b) {
  ContentHasher h;
  h.u8(uint8_t(ingest::RecordType::DetectionStart)).uuid(b.event_execution_id).text(b.event_name).opt_text(b.event_module_path);
  return h.rank();
}
ContentRank content_rank(const ingest::DetectionEnd& b) {
  ContentHasher h;
  h.u8(uint8_t(ingest::RecordType::DetectionEnd)).uuid(b.event_execution_id).text(b.event_name).u8(b.detected);
  h.opt_i64(b.duration_ms);
  put_error(h, b.error);
  return h.rank();
}
ContentRank content_rank(const ingest::HandlerStart& b) {
  ContentHasher h;
  h.u8(uint8_t(ingest::RecordType::HandlerStart)).uuid(b.event_execution_id).text(b.event_name);
  return h.rank();
}
ContentRank content_rank(const ingest::HandlerEnd& b) {
  ContentHasher h;
  h.u8(uint8_t(ingest::RecordType::HandlerEnd)).uuid(b.event_execution_id).text(b.event_name).opt_i64(b.duration_ms);
  put_error(h, b.error);
  return h.rank();
}
ContentRank content_rank(const ingest::JobStart& b) {
  ContentHasher h;
  h.u8(uint8_t(ingest::RecordType::JobStart)).uuid(b.job_execution_id).uuid(b.event_execution_id).text(b.job_name);
  h.opt_text(b.job_function_name);
  put_json(h, b.job_options);
  return h.rank();
}
ContentRank content_rank(const ingest::JobEnd& b) {
  ContentHasher h;
  h.u8(uint8_t(ingest::RecordType::JobEnd)).uuid(b.job_execution_id).uuid(b.event_execution_id).text(b.job_name);
  h.u8(uint8_t(b.status)).opt_i64(b.duration_ms);
  put_json(h, b.result);
  put_error(h, b.error);
  return h.rank();
}

ContentRank content_rank(const JobLogRow& r) {
  ContentHasher h;
  h.u8(uint8_t(ingest::RecordType::JobLog)).i64(r.ts).opt_uuid(r.log.job_execution_id).u8(uint8_t(r.log.level));
  h.text(r.log.message);
  put_json(h, r.log.data);
  h.opt_text(r.log.source).opt_i64(r.log.seq).opt_text(r.correlation_id);
  return h.rank();
}

Uuid log_row_id_by_seq(const Uuid& invocation_id, int64_t seq) {
  ContentHasher h;
  h.u8('s').uuid(invocation_id).i64(seq);
  return h.name_uuid();
}

Uuid log_identity(const Uuid& invocation_id, const std::optional<Uuid>& job_execution_id, Timestamp ts, ingest::LogLevel level,
                  std::string_view message, const std::optional<ingest::JsonText>& data, const std::optional<ingest::Text>& source) {
  ContentHasher h;
  h.u8('c');
  // The owner: the job, or the invocation for an invocation-level line.
  if (job_execution_id) h.u8('j').uuid(*job_execution_id);
  else h.u8('i').uuid(invocation_id);
  h.i64(ts).u8(uint8_t(level)).text(message);
  h.opt(data, [](ContentHasher& x, const ingest::JsonText& j) { x.json_value(j); });
  h.opt_text(source);
  return h.name_uuid();
}

Uuid log_row_id(const Uuid& identity, uint32_t occurrence) {
  ContentHasher h;
  h.u8('o').uuid(identity).i64(occurrence);
  return h.name_uuid();
}

Uuid log_row_id(const JobLogRow& r) {
  if (r.log.seq) return log_row_id_by_seq(r.invocation_id, *r.log.seq);
  return log_row_id(log_identity(r.invocation_id, r.log.job_execution_id, r.ts, r.log.level, r.log.message, r.log.data,
                                 r.log.source),
                    r.occurrence);
}

}  // namespace edpipe::transform
