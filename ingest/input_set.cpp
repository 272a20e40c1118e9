#include "ingest/input_set.h"

#include <glob.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

namespace edpipe::ingest {
namespace fs = std::filesystem;

bool is_trace_file_name(const std::string& name) {
  auto ends_with = [&](std::string_view suffix) {
    return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  for (std::string_view ext : {".ndjson", ".jsonl", ".log"}) {
    if (ends_with(ext)) return true;
    if (ends_with(std::string(ext) + ".gz")) return true;
  }
  return false;
}

namespace {

void add_path(const std::string& path, InputSetResult& out) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    out.errors.push_back(path + ": " + std::strerror(errno));
    return;
  }
  if (S_ISDIR(st.st_mode)) {
    std::vector<std::string> found;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(path, fs::directory_options::skip_permission_denied, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_regular_file(ec) && is_trace_file_name(it->path().filename().string()))
        found.push_back(it->path().string());
    }
    if (ec) out.errors.push_back(path + ": " + ec.message());
    if (found.empty() && !ec)
      out.warnings.push_back(path + ": a directory with no *.ndjson, *.jsonl or *.log file (nor their .gz) in it");
    std::sort(found.begin(), found.end());
    for (auto& f : found) {
      struct stat fst;
      std::optional<uint64_t> size;
      if (::stat(f.c_str(), &fst) == 0) size = static_cast<uint64_t>(fst.st_size);
      out.inputs.push_back({f, size});
    }
    return;
  }
  std::optional<uint64_t> size;
  if (S_ISREG(st.st_mode)) size = static_cast<uint64_t>(st.st_size);
  out.inputs.push_back({path, size});
}

bool has_glob_chars(const std::string& s) { return s.find_first_of("*?[") != std::string::npos; }

}  // namespace

InputSetResult expand_inputs(const std::vector<std::string>& args) {
  InputSetResult out;
  for (const auto& arg : args) {
    if (arg == "-") {
      out.inputs.push_back({"-", std::nullopt});
      continue;
    }
    struct stat st;
    if (has_glob_chars(arg) && ::stat(arg.c_str(), &st) != 0) {
      glob_t g;
      std::memset(&g, 0, sizeof g);
      int rc = ::glob(arg.c_str(), 0, nullptr, &g);  // glob(3) sorts its matches
      if (rc == GLOB_NOMATCH) out.errors.push_back(arg + ": no file matches this pattern");
      else if (rc != 0) out.errors.push_back(arg + ": cannot expand pattern");
      else
        for (size_t i = 0; i < g.gl_pathc; ++i) add_path(g.gl_pathv[i], out);
      globfree(&g);
      continue;
    }
    add_path(arg, out);
  }
  return out;
}

}  // namespace edpipe::ingest
