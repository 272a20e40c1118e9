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
#include <string>
#include <string_view>
#include <vector>

#include "core/timestamp.h"
#include "core/uuid.h"

namespace edpipe::load {

class CopyWriter {
 public:
  CopyWriter& text(std::string_view s);
  CopyWriter& json(std::string_view s);  // for jsonb columns: the JSON text
  CopyWriter& null();
  CopyWriter& uuid(const Uuid& u);
  CopyWriter& timestamp(Timestamp ts);  // timestamptz
  CopyWriter& date(int32_t days);       // date, as days since 1970-01-01
  CopyWriter& int16(int16_t v);         // smallint
  CopyWriter& int32(int32_t v);         // integer
  CopyWriter& int64(int64_t v);         // bigint
  CopyWriter& boolean(bool b);
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
  void open_row();
  template <class T>
  CopyWriter& fixed_width(T v);  // an integer field in network byte order
  void field(const void* data, size_t size);
  void field_header(int32_t size);
  std::string buf_;
  size_t row_start_ = 0;  // where the open row's field count goes
  uint16_t fields_ = 0;   // fields written to the open row
  size_t rows_ = 0;
  bool row_open_ = false;
};

}  // namespace edpipe::load
