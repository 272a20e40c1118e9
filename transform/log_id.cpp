#include "log_id.h"

#include <cstring>
#include <string>

#include "uuid.h"

namespace edpipe {
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

Uuid log_row_id(const Uuid& invocation_id, const std::optional<Uuid>& job_execution_id, Timestamp ts,
                LogLevel level, std::string_view message, uint32_t occurrence) noexcept {
  // Fixed-width fields first, then the message: no two tuples encode alike. Most messages
  // fit the buffer on the stack; a longer one is hashed from a string of its own.
  const Uuid& owner = job_execution_id ? *job_execution_id : invocation_id;
  constexpr size_t kHead = 16 + 1 + sizeof ts + 1 + sizeof occurrence;
  char stack[512];
  std::string heap;
  char* key = stack;
  if (kHead + message.size() > sizeof stack) {
    heap.resize(kHead + message.size());
    key = heap.data();
  }
  char* p = key;
  std::memcpy(p, owner.bytes.data(), 16);
  p += 16;
  *p++ = job_execution_id ? 'j' : 'i';
  std::memcpy(p, &ts, sizeof ts);
  p += sizeof ts;
  *p++ = static_cast<char>(level);
  std::memcpy(p, &occurrence, sizeof occurrence);
  p += sizeof occurrence;
  if (!message.empty()) std::memcpy(p, message.data(), message.size());
  uint64_t h[2];
  murmur3_x64_128(key, kHead + message.size(), 0x65647069706531ULL /* "edpipe1" */, h);
  Uuid id;
  std::memcpy(id.bytes.data(), h, 16);
  id.bytes[6] = static_cast<uint8_t>((id.bytes[6] & 0x0F) | 0x80);  // version 8
  id.bytes[8] = static_cast<uint8_t>((id.bytes[8] & 0x3F) | 0x80);  // RFC 9562 variant
  return id;
}

}  // namespace edpipe
