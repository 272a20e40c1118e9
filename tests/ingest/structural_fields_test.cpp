// The structural reader (the decoder's fast path) is held to the exact path: every line, decoded
// both ways, has the same fate, the same record and the same rejection. And it must be the path
// that well-formed records take, or its speed is never had.
#include <gtest/gtest.h>

#include <random>

#include "ingest/record_decoder.h"
#include "test_support.h"

namespace edpipe::ingest {
namespace {

struct Decoded {
  IngestBatch batch;
  uint64_t exact_lines = 0;
};

// Decodes the lines as one block, as the reader hands them on: the fast path sees them together.
Decoded decode_block(const std::vector<std::string>& lines, DecodePath path) {
  std::string text;
  for (const auto& l : lines) text += l + "\n";
  std::string buf = text + std::string(kBlockPadding, ' ');
  LineBlock block;
  block.data = buf.data();
  block.size = text.size();
  block.line_count = lines.size();
  RecordDecoder decoder({}, path);
  Decoded d;
  decoder.decode(block, 0, d.batch);
  d.exact_lines = decoder.exact_path_lines();
  // The records view `buf`, which dies here: keep their text in the batch's arena.
  for (auto& r : d.batch.records) {
    std::visit([&](auto& body) { body = kept_in(body, d.batch.text); }, r.body);
    if (r.correlation_id) r.correlation_id = d.batch.text.keep(*r.correlation_id);
  }
  return d;
}

void expect_same(const IngestBatch& fast, const IngestBatch& exact, const std::string& context) {
  ASSERT_EQ(fast.counts.total, exact.counts.total) << context;
  EXPECT_EQ(fast.counts.records, exact.counts.records) << context;
  EXPECT_EQ(fast.counts.non_record, exact.counts.non_record) << context;
  EXPECT_EQ(fast.counts.rejected, exact.counts.rejected) << context;
  ASSERT_EQ(fast.records.size(), exact.records.size()) << context;
  for (size_t i = 0; i < fast.records.size(); ++i) {
    const TraceRecord& a = fast.records[i];
    const TraceRecord& b = exact.records[i];
    EXPECT_EQ(a.pos.line, b.pos.line) << context;
    EXPECT_EQ(a.ts, b.ts) << context << " line " << a.pos.line;
    EXPECT_EQ(a.invocation_id, b.invocation_id) << context << " line " << a.pos.line;
    EXPECT_EQ(a.correlation_id, b.correlation_id) << context << " line " << a.pos.line;
    EXPECT_TRUE(a.body == b.body) << context << " line " << a.pos.line;
  }
  ASSERT_EQ(fast.rejected.size(), exact.rejected.size()) << context;
  for (size_t i = 0; i < fast.rejected.size(); ++i) {
    EXPECT_EQ(fast.rejected[i].pos.line, exact.rejected[i].pos.line) << context;
    EXPECT_EQ(fast.rejected[i].reason, exact.rejected[i].reason) << context;
    EXPECT_EQ(fast.rejected[i].detail, exact.rejected[i].detail) << context;
    EXPECT_EQ(fast.rejected[i].raw, exact.rejected[i].raw) << context;
  }
}

std::string lines_of(const std::vector<std::string>& lines) {
  std::string s;
  for (const auto& l : lines) s += l + "\n";
  return s;
}

gen::GeneratorOptions corpus(uint64_t seed, uint64_t invocations) {
  gen::GeneratorOptions o;
  o.seed = seed;
  o.invocations = invocations;
  o.payload_columns = 6;
  o.failure_rate = o.job_failure_rate = 0.2;  // error objects and strings in quantity
  return o;
}

TEST(StructuralFields, GeneratedRecordsTakeTheFastPathAndDecodeAsTheExactPathDoes) {
  gen::GeneratedTruth truth;
  const auto lines = testing::generated_lines(corpus(7, 300), &truth);
  const Decoded fast = decode_block(lines, DecodePath::Structural);
  const Decoded exact = decode_block(lines, DecodePath::Exact);
  expect_same(fast.batch, exact.batch, "generated corpus");
  EXPECT_EQ(fast.batch.counts.records, truth.record_lines);
  // Only the malformed lines the generator mixes in may need the exact path.
  EXPECT_LE(fast.exact_lines, truth.malformed_lines);
  EXPECT_GT(exact.exact_lines, truth.record_lines / 2);  // the generic path really is the other one
}

// Lines that the fast path must read or leave alone, each next to well-formed records (a broken
// line must not change how its neighbours are read).
TEST(StructuralFields, OddShapesAreDecidedAsTheExactPathDecidesThem) {
  const std::string inv = R"("invocation_id":"550e8400-e29b-41d4-a716-446655440000")";
  const std::string ts = R"("ts":"2026-11-20T10:15:00.123Z")";
  const std::string job = R"("job_execution_id":"f0000001-0000-4000-8000-000000000001")";
  const std::string log = R"({"type":"job.log",)" + ts + "," + inv + "," + job;
  const std::string end = R"({"type":"job.end",)" + ts + "," + inv + "," + job +
                          R"(,"event_execution_id":"e0000001-0000-4000-8000-000000000001","job_name":"j")";
  const std::string start = R"({"type":"invocation.start",)" + ts + "," + inv + R"(,"source_function":"fn")";
  const std::vector<std::string> odd = {
      log + R"(,"level":"info","message":"plain"})",
      log + R"(,"level":"info","message":"quote \" and \\ and \n and \u00e9 and \ud83d\ude00"})",
      log + R"(,"level":"info","message":"bad escape \x"})",
      log + R"(,"level":"info","mess\u0061ge":"escaped key"})",
      log + R"(,"level":"info","message":"m","data":{"a":[1,2.5,-3e2,true,false,null,"s\"",{}],"b":[]}})",
      log + R"(,"level":"info","message":"m","data":{"a" 1}})",
      log + R"(,"level":"info","message":"m","data":{"a":tru}})",
      log + R"(,"level":"info","message":"m","data":{"a":01}})",
      log + R"(,"level":"info","message":"m","data":[1,]})",
      log + R"(,"level":"info","message":"m","data":{"a":1,}})",
      log + R"(,"level":"info","message":"m","data":"text","seq":3})",
      log + R"(,"level":"info","message":"m","seq":-0})",
      log + R"(,"level":"info","message":"m","seq":12345678901234567890})",
      log + R"(,"level":"info","message":"m","seq":1.5})",
      log + R"(,"level":"info","message":"m","seq":1e400})",
      log + R"(,"level":"info","message":5})",
      log + R"(,"level":"info","message":{"a":1}})",
      log + R"(,"level":"info","message":"m","level":"warn"})",
      log + R"(,"level":"info","message":"m"} trailing)",
      log + R"(,"level":"info","message":"m"}{"type":"job.log"})",
      log + R"(,"level":"info","message":"unclosed})",
      log + R"(,"level":"info","message":"m","unknown":{"deep":[[[[{"x":"y"}]]]]}})",
      " { \"type\" : \"job.log\" , " + ts + " , " + inv + " , \"message\" : \"spaced\" , \"level\" : \"info\" } ",
      "{}",
      "{\"type\":\"job.log\"",
      end + R"(,"status":"failed","error":{"message":"boom","stack":"at x\nat y","code":7}})",
      end + R"(,"status":"failed","error":{"message":null,"stack":["a"]}})",
      end + R"(,"status":"failed","error":{"message":12,"stack":true}})",
      end + R"(,"status":"failed","error":"just a string"})",
      end + R"(,"status":"failed","error":["a"]})",
      end + R"(,"status":"completed","duration_ms":12.75,"result":{"ok":true}})",
      end + R"(,"status":"completed","duration_ms":"12"})",
      end + R"(,"status":"completed","duration_ms":-5})",
      end + R"(,"status":"completed","duration_ms":-12.5})",
      end + R"(,"status":"completed","duration_ms":1E2})",
      end + R"(,"status":"completed","duration_ms":0.1e-2})",
      end + R"(,"status":"completed","duration_ms":4e-320})",
      end + R"(,"status":"completed","duration_ms":123456789012345678})",
      log + R"(,"level":"info","message":"m","seq":-1})",
      R"({"type":"job.log","ts":1795169700123,)" + inv + R"(,"level":"info","message":"epoch ms"})",
      R"({"type":"job.log","ts":-1795169700123,)" + inv + R"(,"level":"info","message":"before 1970"})",
      R"({"type":"job.log","ts":1795169700123.5,)" + inv + R"(,"level":"info","message":"fraction"})",
      R"({"type":"job.log","v":-1,)" + ts + "," + inv + R"(,"level":"info","message":"version"})",
      start + R"(,"source_event_payload":{"id":"5e000001-0000-4000-8000-000000000001","table":{"name":"moves"},)"
              R"("event":{"op":"UPDATE","session_variables":{"x-hasura-user-email":"a\u0040b.c","x-hasura-role":"r"}},)"
              R"("created_at":"2025-10-05T12:00:00.123456"} })",
      start + R"(,"source_event_payload":{"id":5,"id":"5e000001-0000-4000-8000-000000000001","table":"t",)"
              R"("table":{"name":{"x":1},"name":"later"},"event":{"op":["U"],"session_variables":7}}})",
      start + R"(,"source_event_payload":{"ev\u0065nt":{"op":"X"}}})",
      start + R"(,"source_event_payload":[1,2]})",
      start + R"(,"context":{"k":[1,2]},"auto_load_modules":true,"v":1})",
      start + R"(,"context":"not an object"})",
      start + ",\"context\":" + std::string(70, '[') + std::string(70, ']') + "}",
      start + ",\"context\":" + std::string(1100, '[') + std::string(1100, ']') + "}",
      start + ",\"source_user_email\":\"\xff\xfe\"}",
  };
  for (const auto& line : odd) {
    const std::vector<std::string> around = {log + R"(,"level":"info","message":"before"})", line,
                                             log + R"(,"level":"info","message":"after"})"};
    expect_same(decode_block(around, DecodePath::Structural).batch, decode_block(around, DecodePath::Exact).batch,
                line.substr(0, 300));
  }
  // All of them in one block, as a reader would hand them on.
  expect_same(decode_block(odd, DecodePath::Structural).batch, decode_block(odd, DecodePath::Exact).batch,
              "all in one block");
}

// A line of megabytes grows the reader's buffers, and the short lines after it give them back:
// both read as the exact path reads them.
TEST(StructuralFields, LongLinesBetweenShortOnesDecodeAsTheExactPathDoes) {
  const std::string head =
      R"({"type":"job.log","ts":"2026-11-20T10:15:00.123Z","invocation_id":"550e8400-e29b-41d4-a716-446655440000",)"
      R"("level":"info",)";
  std::string escaped;
  for (int i = 0; i < 200000; ++i) escaped += R"(line\n\")" + std::to_string(i) + R"(\" )";
  std::string nested = "[";
  for (int i = 0; i < 150000; ++i) nested += (i ? "," : "") + std::string(R"({"k":)") + std::to_string(i) + "}";
  nested += "]";
  const std::vector<std::string> lines = {
      head + R"("message":")" + escaped + R"("})",
      head + R"("message":"short 1"})",
      head + R"("message":"m","data":)" + nested + "}",
      head + R"("message":"short 2","data":{"a":"\u00e9"}})",
      head + R"("message":"short 3"})",
  };
  ASSERT_GT(lines[0].size(), 2u << 20);
  const Decoded fast = decode_block(lines, DecodePath::Structural);
  expect_same(fast.batch, decode_block(lines, DecodePath::Exact).batch, "long lines");
  EXPECT_EQ(fast.batch.counts.records, lines.size());
  EXPECT_EQ(fast.exact_lines, 0u);
  // Line by line too, as the tailer hands them on: the buffers grow and shrink between calls.
  RecordDecoder decoder;
  IngestBatch one_by_one;
  for (size_t i = 0; i < lines.size(); ++i) decoder.decode_line(lines[i], SourcePos{0, i + 1, 0}, one_by_one);
  EXPECT_EQ(one_by_one.counts.records, lines.size());
  EXPECT_EQ(decoder.exact_path_lines(), 0u);
  EXPECT_EQ(std::get<JobLog>(one_by_one.records[3].body).message, "short 2");
}

// Random edits of generated lines (bytes replaced by JSON's own characters, removed, repeated),
// in blocks with their neighbours: every fate and every record is the exact path's.
TEST(StructuralFields, MutatedLinesAreDecidedAsTheExactPathDecidesThem) {
  const auto lines = testing::generated_lines(corpus(11, 40));
  std::mt19937_64 rng(20261207);
  const std::string alphabet = "\"\\{}[]:,0123456789-+.eEtrufalsn \t\x01\xc3\xa9\xff";
  size_t changed = 0;
  for (int round = 0; round < 400; ++round) {
    std::vector<std::string> block;
    const size_t from = rng() % lines.size();
    for (size_t k = 0; k < 8; ++k) {
      std::string line = lines[(from + k) % lines.size()];
      if (rng() % 2 == 0 && !line.empty()) {
        for (int edits = 1 + static_cast<int>(rng() % 3); edits > 0; --edits) {
          const size_t at = rng() % line.size();
          switch (rng() % 3) {
            case 0: line[at] = alphabet[rng() % alphabet.size()]; break;
            case 1: line.erase(at, 1 + rng() % 4); break;
            default: line.insert(at, line.substr(at, 1 + rng() % 8));
          }
          if (line.empty()) break;
        }
        ++changed;
      }
      block.push_back(line);
    }
    const Decoded fast = decode_block(block, DecodePath::Structural);
    const Decoded exact = decode_block(block, DecodePath::Exact);
    expect_same(fast.batch, exact.batch, "round " + std::to_string(round) + ":\n" + lines_of(block).substr(0, 2000));
    if (::testing::Test::HasFailure()) break;  // one block's report is enough to read
  }
  EXPECT_GT(changed, 1000u);
}

}  // namespace
}  // namespace edpipe::ingest
