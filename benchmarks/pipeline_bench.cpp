// Throughput of the stages over a ~1 GB generated corpus, beside the ceiling: a bare simdjson
// document-stream pass over the same bytes that reads only `type` and `invocation_id`.
//
//   build/benchmarks/pipeline_bench                 # generates build/bench-corpus/ on first run
//   EDPIPE_BENCH_CORPUS=/path/file.ndjson build/benchmarks/pipeline_bench
#include <benchmark/benchmark.h>
#include <simdjson.h>
#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "gen/corpus_generator.h"
#include "ingest/trace_reader.h"
#include "transform/row_tally.h"
#include "transform/trace_assembler.h"

namespace {
using namespace edpipe;
namespace fs = std::filesystem;

// The corpus: records only (no console or malformed lines), so that the ceiling's document
// stream can read the very same bytes. ~10 KB per invocation: 95,000 invocations ≈ 1 GB.
std::string corpus_path() {
  if (const char* p = std::getenv("EDPIPE_BENCH_CORPUS")) return p;
  const fs::path dir = EDPIPE_BENCH_DIR;
  const fs::path file = dir / "clean-0001.ndjson";
  if (!fs::exists(file)) {
    fs::create_directories(dir);
    std::fprintf(stderr, "generating %s (~1 GB) ...\n", file.c_str());
    gen::GeneratorOptions o;
    o.invocations = 95000;
    o.functions = 6;
    o.interleave = 16;
    o.console_rate = 0;
    o.malformed_rate = 0;
    std::ofstream out(file, std::ios::binary);
    std::string buf;
    gen::generate(o, [&](uint32_t, std::string_view line) {
      buf.append(line);
      buf.push_back('\n');
      if (buf.size() > (1 << 20)) {
        out << buf;
        buf.clear();
      }
    });
    out << buf;
  }
  return file.string();
}

const std::string& corpus() {
  static const std::string path = corpus_path();
  return path;
}

// The corpus in memory, for the in-memory references (loaded once, shared).
const simdjson::padded_string& corpus_bytes() {
  static const simdjson::padded_string data = simdjson::padded_string::load(corpus()).value_unsafe();
  return data;
}

uint64_t file_size() { return fs::file_size(corpus()); }

void report_peak_rss(benchmark::State& state) {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  state.counters["peak_rss_MiB"] = double(ru.ru_maxrss) / 1024.0;
}

// One document stream over the in-memory corpus per iteration; `read_document` returns how
// many items it read from a document, or an error message.
template <class ReadDocument>
void stream_in_memory(benchmark::State& state, const char* counter, ReadDocument&& read_document) {
  const simdjson::padded_string& data = corpus_bytes();
  simdjson::ondemand::parser parser;
  for (auto _ : state) {
    simdjson::ondemand::document_stream stream;
    if (parser.iterate_many(data, 4 << 20).get(stream)) state.SkipWithError("iterate_many failed");
    uint64_t items = 0, bytes_seen = 0;
    for (auto doc : stream) {
      if (const char* error = read_document(doc, items, bytes_seen)) {
        state.SkipWithError(error);
        break;
      }
    }
    benchmark::DoNotOptimize(bytes_seen);
    state.counters[counter] = double(items);
  }
  state.SetBytesProcessed(int64_t(state.iterations() * data.size()));
}

void BM_Ceiling_DocumentStream_InMemory(benchmark::State& state) {
  stream_in_memory(state, "records", [](auto& doc, uint64_t& docs, uint64_t& bytes) -> const char* {
    std::string_view type, id;
    if (doc["type"].get_string().get(type) || doc["invocation_id"].get_string().get(id))
      return "document without type/invocation_id";
    ++docs;
    bytes += id.size() + type.size();
    return nullptr;
  });
}

// A second reference: the same document stream, visiting every top-level member of every
// record (each key, each value skipped unread), as any reader that validates a record's fields
// must. It bounds what can be reached by anything that reads every field On-Demand.
void BM_Reference_EveryMember_InMemory(benchmark::State& state) {
  stream_in_memory(state, "members", [](auto& doc, uint64_t& members, uint64_t& bytes) -> const char* {
    simdjson::ondemand::object obj;
    if (doc.get_object().get(obj)) return "a document that is not an object";
    for (auto m : obj) {
      std::string_view key;
      if (m.unescaped_key().get(key)) return "bad key";
      ++members;
      bytes += key.size();
    }
    return nullptr;
  });
}

template <class Sink>
void run_stages(benchmark::State& state, Sink&& sink) {
  uint64_t records = 0;
  for (auto _ : state) {
    auto set = ingest::expand_inputs({corpus()});
    ingest::TraceReader reader(set.inputs);
    ingest::IngestBatch batch;
    records = 0;
    sink.begin();
    while (reader.next(batch)) {
      records += batch.counts.records;
      sink.feed(batch);
    }
    sink.end();
  }
  state.SetBytesProcessed(int64_t(state.iterations() * file_size()));
  state.counters["records_per_s"] = benchmark::Counter(double(records) * state.iterations(), benchmark::Counter::kIsRate);
  report_peak_rss(state);
}

struct NoSink {
  void begin() {}
  void feed(ingest::IngestBatch&) {}
  void end() {}
};

struct TransformSink {
  std::unique_ptr<transform::TraceAssembler> assembler;
  transform::RowBatch rows;
  void begin() { assembler = std::make_unique<transform::TraceAssembler>(); }
  void feed(ingest::IngestBatch& b) {
    assembler->add(b.records);
    assembler->take_ready(rows);
    rows = {};
  }
  void end() { assembler->take_all(rows); }
};

struct DryRunSink {
  std::unique_ptr<transform::TraceAssembler> assembler;
  std::unique_ptr<transform::RowTally> tally;
  transform::RowBatch rows;
  void begin() {
    assembler = std::make_unique<transform::TraceAssembler>();
    tally = std::make_unique<transform::RowTally>();
  }
  void feed(ingest::IngestBatch& b) {
    assembler->add(b.records);
    assembler->take_ready(rows);
    tally->add(rows);
    rows = {};
  }
  void end() {
    assembler->take_all(rows);
    tally->add(rows);
    benchmark::DoNotOptimize(tally->finish(transform::AbandonRule{assembler->watermark()}));
  }
};

void BM_Ingest_FromFile(benchmark::State& state) { run_stages(state, NoSink{}); }
void BM_IngestTransform_FromFile(benchmark::State& state) { run_stages(state, TransformSink{}); }
void BM_DryRun_FromFile(benchmark::State& state) { run_stages(state, DryRunSink{}); }

BENCHMARK(BM_Ceiling_DocumentStream_InMemory)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);
BENCHMARK(BM_Reference_EveryMember_InMemory)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);
BENCHMARK(BM_Ingest_FromFile)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);
BENCHMARK(BM_IngestTransform_FromFile)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);
BENCHMARK(BM_DryRun_FromFile)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

}  // namespace

BENCHMARK_MAIN();
