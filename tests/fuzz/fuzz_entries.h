#pragma once
// The fuzzers' entry points, shared by the libFuzzer targets (tests/fuzz/*_fuzzer.cpp, built with
// -DEDPIPE_FUZZ=ON) and by the regression test that replays every saved crasher in the normal
// suite. A broken invariant aborts, so that the fuzzer reports it like a crash.
#include <cstddef>
#include <cstdint>

namespace edpipe::fuzz {

// Framing + parsing + validation: the input is a file of lines (its first byte picks the
// --format, and simdjson's stage-1 implementation: see stage1_choices()). Every line must end in
// exactly one count, however the bytes are cut into blocks.
void record_reader(const uint8_t* data, size_t size);

// record_reader's selector byte s picks the framing, s % kFramings, and the stage-1
// implementation, (s / kFramings) % stage1_choices(): how many this CPU runs. Each marks
// structure its own way (the fallback's scalar runs do not stop at a quote), and the structural
// reader must agree with the exact path under all of them.
constexpr uint8_t kFramings = 7;
size_t stage1_choices();

// Transform: the lines' records, through the privacy filter (with redaction) and the assembler,
// fed in one piece and in two fragments; both must give the same rows and rollups.
void transform(const uint8_t* data, size_t size);

}  // namespace edpipe::fuzz
