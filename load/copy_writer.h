#pragma once
// Rows in PostgreSQL's binary COPY format, written to a table in large chunks.
//
// Binary, not text: the server then reads each value as it is stored (a uuid's 16 bytes, a
// timestamp's microseconds) instead of parsing its text, which takes about a third off its
// COPY time; and text values go out unescaped. The price is that every value must have
// exactly its column's type: an int16 for smallint, int32 for integer, int64 for bigint.
// A mismatch is refused by the server ("incorrect binary data format"), never stored wrong.
//
// libpqxx 6.4 has no binary COPY, so the bytes go through libpq's COPY calls on the
// transaction's own connection.
#include <pqxx/pqxx>

#include <cstring>
#include <memory>
#include <type_traits>
#include <string>
#include <string_view>
#include <vector>

#include "core/timestamp.h"
#include "core/uuid.h"

namespace edpipe::load {

class CopyWriter {
 public:
  CopyWriter& text(std::string_view s) {
    field(s.data(), s.size());
    return *this;
  }
  CopyWriter& json(std::string_view s) {  // for jsonb columns: the JSON text
    char* p = field_room(s.size() + 1);
    *p = kJsonbVersion;
    if (!s.empty()) std::memcpy(p + 1, s.data(), s.size());
    return *this;
  }
  CopyWriter& null() {
    field_header(-1);
    return *this;
  }
  CopyWriter& uuid(const Uuid& u) {
    field(u.bytes.data(), u.bytes.size());  // both in network byte order
    return *this;
  }
  CopyWriter& timestamp(Timestamp ts) { return fixed_width<int64_t>(ts - kPostgresEpochMicros); }  // timestamptz
  // date, as days since 1970-01-01 (PostgreSQL counts from 2000-01-01, 10,957 days later)
  CopyWriter& date(int32_t days) { return fixed_width<int32_t>(days - 10957); }
  CopyWriter& int16(int16_t v) { return fixed_width(v); }  // smallint
  CopyWriter& int32(int32_t v) { return fixed_width(v); }  // integer
  CopyWriter& int64(int64_t v) { return fixed_width(v); }  // bigint
  CopyWriter& boolean(bool b) {
    *field_room(1) = b ? 1 : 0;
    return *this;
  }
  void end_row();

  size_t rows() const noexcept { return rows_; }
  bool empty() const noexcept { return rows_ == 0; }
  // COPYs the rows into `table` (columns in table order, or `columns`) and clears the buffer,
  // which keeps its capacity for the next batch. Errors are thrown as libpqxx's:
  // pqxx::sql_error with the server's SQLSTATE, pqxx::broken_connection.
  void copy_into(pqxx::dbtransaction& tx, const std::string& table, const std::vector<std::string>& columns = {});
  // Forgets the rows written (a batch that is tried again starts from nothing).
  void clear() noexcept;

 private:
  static constexpr int64_t kPostgresEpochMicros = 946'684'800'000'000;  // 2000-01-01 UTC, from 1970's
  static constexpr char kJsonbVersion = 1;  // jsonb's binary form: a version byte, then the JSON text

  // The bytes are written through a pointer into room made ahead: a field is a few bytes, and
  // appending them to a std::string one call at a time cost more than the bytes themselves.
  char* room(size_t n) {
    if (capacity_ - size_ < n) [[unlikely]] grow(n);
    char* p = data_.get() + size_;
    size_ += n;
    return p;
  }
  void grow(size_t n);
  template <class T>  // an integer in network byte order
  static void put_be(char* p, T v) {
    auto u = static_cast<std::make_unsigned_t<T>>(v);
    if constexpr (sizeof(T) == 2) u = __builtin_bswap16(u);
    if constexpr (sizeof(T) == 4) u = __builtin_bswap32(u);
    if constexpr (sizeof(T) == 8) u = __builtin_bswap64(u);
    std::memcpy(p, &u, sizeof u);
  }
  void open_row() {
    if (row_open_) return;
    row_start_ = size_;
    room(2);  // the field count, set by end_row()
    fields_ = 0;
    row_open_ = true;
  }
  // A field's length, then room for its `size` bytes.
  char* field_room(size_t size) {
    open_row();
    ++fields_;
    char* p = room(4 + size);
    put_be(p, static_cast<int32_t>(size));
    return p + 4;
  }
  void field_header(int32_t size) {  // a field without bytes of its own: NULL (-1)
    open_row();
    ++fields_;
    put_be(room(4), size);
  }
  void field(const void* data, size_t size) {
    char* p = field_room(size);
    if (size) std::memcpy(p, data, size);  // an empty view's data may be null
  }
  template <class T>
  CopyWriter& fixed_width(T v) {
    put_be(field_room(sizeof(T)), v);
    return *this;
  }

  std::unique_ptr<char[]> data_;
  size_t size_ = 0, capacity_ = 0;
  size_t row_start_ = 0;  // where the open row's field count goes
  uint16_t fields_ = 0;   // fields written to the open row
  size_t rows_ = 0;
  bool row_open_ = false;
};

}  // namespace edpipe::load
