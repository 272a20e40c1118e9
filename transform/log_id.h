#pragma once
// Deterministic ids for job.log rows, which carry none of their own.
#include "row_state.h"

namespace edpipe {

// A name-based UUID (version 8, RFC 9562) from a 128-bit MurmurHash3 of the line's identity:
// its owner (job execution, or the invocation for an invocation-level line), ts, level,
// message and occurrence number. A replay gives the same id; two identical lines differ
// by occurrence.
Uuid log_row_id(const Uuid& invocation_id, const std::optional<Uuid>& job_execution_id, Timestamp ts,
                LogLevel level, std::string_view message, uint32_t occurrence) noexcept;

// 128-bit MurmurHash3 (x64 variant).
void murmur3_x64_128(const void* data, size_t len, uint64_t seed, uint64_t out[2]) noexcept;

}  // namespace edpipe
