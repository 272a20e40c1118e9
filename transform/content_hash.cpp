#include "transform/content_hash.h"

#include <cstring>

#include "core/json_text.h"

namespace edpipe::transform {
namespace {
inline uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }
inline uint64_t fmix(uint64_t k) { return UuidHash::mix(k); }  // murmur3's finaliser
}  // namespace

void murmur3_x64_128(const void* key, size_t len, uint64_t seed, uint64_t out[2]) noexcept {
  const auto* data = static_cast<const uint8_t*>(key);
  const size_t nblocks = len / 16;
  uint64_t h1 = seed, h2 = seed;
  constexpr uint64_t c1 = 0x87c37b91114253d5ULL, c2 = 0x4cf5ad432745937fULL;
  for (size_t i = 0; i < nblocks; ++i) {
    uint64_t k1, k2;
    std::memcpy(&k1, data + i * 16, 8);
    std::memcpy(&k2, data + i * 16 + 8, 8);
    k1 *= c1; k1 = rotl(k1, 31); k1 *= c2; h1 ^= k1;
    h1 = rotl(h1, 27); h1 += h2; h1 = h1 * 5 + 0x52dce729;
    k2 *= c2; k2 = rotl(k2, 33); k2 *= c1; h2 ^= k2;
    h2 = rotl(h2, 31); h2 += h1; h2 = h2 * 5 + 0x38495ab5;
  }
  const uint8_t* tail = data + nblocks * 16;
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

ContentHasher& ContentHasher::text(std::string_view s) {
  const auto n = static_cast<uint64_t>(s.size());
  raw(&n, sizeof n);
  return raw(s.data(), s.size());
}

ContentHasher& ContentHasher::json_value(std::string_view json) {
  u8('J');
  const size_t mark = buf_.size();
  buf_.append(8, '\0');  // the length, once known
  if (!append_canonical_json(buf_, json)) {
    buf_[mark - 1] = 'T';  // as text: never equal to a canonical form
    buf_.append(json);
  }
  const auto n = static_cast<uint64_t>(buf_.size() - mark - 8);
  std::memcpy(buf_.data() + mark, &n, sizeof n);
  return *this;
}

void ContentHasher::digest(uint64_t out[2]) const noexcept {
  murmur3_x64_128(buf_.data(), buf_.size(), 0x65647069706531ULL /* "edpipe1" */, out);
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
