#include "ingest/dead_letter.h"

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "core/json_text.h"

namespace edpipe::ingest {

DeadLetterWriter::DeadLetterWriter(const std::string& path) : path_(path) {
  file_ = path == "-" ? stdout : std::fopen(path.c_str(), "a");
  if (!file_) throw std::runtime_error(path + ": cannot open dead-letter file: " + std::strerror(errno));
}

DeadLetterWriter::~DeadLetterWriter() {
  if (file_ && file_ != stdout) std::fclose(file_);
}

std::string DeadLetterWriter::to_json(const RejectedLine& r, const std::string& input_name) {
  std::string out = "{\"kind\":\"line\",\"file\":";
  append_json_string(out, input_name);
  out += ",\"line\":" + std::to_string(r.pos.line);
  out += ",\"offset\":" + std::to_string(r.pos.offset);
  out += ",\"reason\":\"";
  out += reject_reason_code(r.reason);
  out += "\",\"detail\":";
  append_json_string(out, r.detail);
  out += ",\"raw\":";
  append_json_string(out, r.raw);
  if (!is_valid_utf8(r.raw)) {
    out += ",\"raw_base64\":\"";  // `raw` had to replace bytes: the exact bytes are here
    out += base64_encode(r.raw);
    out += '"';
  }
  out += ",\"raw_bytes\":" + std::to_string(r.raw_size);
  if (r.raw.size() < r.raw_size) out += ",\"raw_truncated\":true";
  out += "}\n";
  return out;
}

void DeadLetterWriter::put(const std::string& s) {
  std::lock_guard lock(mu_);
  if (std::fwrite(s.data(), 1, s.size(), file_) != s.size())
    throw std::runtime_error(path_ + ": cannot write dead-letter file: " + std::strerror(errno));
}

void DeadLetterWriter::write(const RejectedLine& line, const std::string& input_name) { put(to_json(line, input_name)); }

void DeadLetterWriter::write_raw(const std::string& s) { put(s); }

void DeadLetterWriter::flush() {
  std::lock_guard lock(mu_);
  if (std::fflush(file_) != 0)
    throw std::runtime_error(path_ + ": cannot write dead-letter file: " + std::strerror(errno));
}

}  // namespace edpipe::ingest
