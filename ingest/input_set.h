#pragma once
// Turns the command line's INPUT arguments into the ordered list of inputs to read.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace edpipe::ingest {

struct InputSpec {
  std::string path;                 // "-" for stdin
  std::optional<uint64_t> size;     // on-disk size where known (progress, ETA)
};

struct InputSetResult {
  std::vector<InputSpec> inputs;
  std::vector<std::string> errors;    // "PATH: reason" for arguments that name nothing readable
  std::vector<std::string> warnings;  // "PATH: reason" for arguments that name nothing to read
};

// A file path as given; a directory: its *.ndjson, *.jsonl, *.log files and their .gz forms,
// recursively, in path order; a glob pattern (*, ?, [...]) expanded in name order; "-" stdin.
InputSetResult expand_inputs(const std::vector<std::string>& args);

bool is_trace_file_name(const std::string& name);

}  // namespace edpipe::ingest
