#include "copy_writer.h"

#include <charconv>
#include <cstring>
#include <memory>
#include <pqxx/tablewriter>

namespace edpipe {

void CopyWriter::separator() {
  if (row_open_) buf_.push_back('\t');
  row_open_ = true;
}

CopyWriter& CopyWriter::text(std::string_view s) {
  separator();
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const char* esc = c == '\\' ? "\\\\" : c == '\t' ? "\\t" : c == '\n' ? "\\n" : c == '\r' ? "\\r" : nullptr;
    if (!esc) continue;
    buf_.append(s.data() + start, i - start);
    buf_.append(esc, 2);
    start = i + 1;
  }
  buf_.append(s.data() + start, s.size() - start);
  return *this;
}

CopyWriter& CopyWriter::null() {
  separator();
  buf_.append("\\N", 2);
  return *this;
}

CopyWriter& CopyWriter::uuid(const Uuid& u) {
  separator();
  u.append_to(buf_);
  return *this;
}

CopyWriter& CopyWriter::timestamp(Timestamp ts) {
  separator();
  append_rfc3339(buf_, ts);
  return *this;
}

CopyWriter& CopyWriter::integer(int64_t v) {
  separator();
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, v);
  buf_.append(digits, end);
  return *this;
}

CopyWriter& CopyWriter::boolean(bool b) {
  separator();
  buf_.push_back(b ? 't' : 'f');
  return *this;
}

void CopyWriter::end_row() {
  buf_.push_back('\n');
  row_open_ = false;
  ++rows_;
}

void CopyWriter::clear() noexcept {
  buf_.clear();
  rows_ = 0;
  row_open_ = false;
}

void CopyWriter::copy_into(pqxx::transaction_base& tx, const std::string& table, const std::vector<std::string>& columns) {
  if (rows_ == 0) return;
  // Sent in pieces of whole rows: the copies the library makes of each stay in the cache.
  constexpr size_t kPiece = 256 * 1024;
  {
    auto writer = columns.empty() ? std::make_unique<pqxx::tablewriter>(tx, table)
                                  : std::make_unique<pqxx::tablewriter>(tx, table, columns.begin(), columns.end());
    const char* data = buf_.data();
    size_t at = 0;
    while (at < buf_.size()) {
      // A raw newline only ever ends a row: text() escapes those inside values.
      size_t end = buf_.size();
      if (at + kPiece < buf_.size()) {
        const void* nl = memrchr(data + at, '\n', kPiece);
        if (!nl) nl = std::memchr(data + at + kPiece, '\n', buf_.size() - at - kPiece);
        end = static_cast<size_t>(static_cast<const char*>(nl) - data) + 1;
      }
      piece_.assign(data + at, end - at - 1);  // write_raw_line adds the row's newline itself
      writer->write_raw_line(piece_);
      at = end;
    }
    writer->complete();
  }
  clear();
}

}  // namespace edpipe
