#pragma once
// Rows in PostgreSQL's COPY text format, written to a table in large chunks.
//
// libpqxx 6.4's stream_to escapes every non-ASCII byte and copies each row; the (deprecated)
// tablewriter's write_raw_line sends bytes as they are, inside the same transaction. So the
// escaping is done here: only backslash, tab, newline and carriage return; UTF-8 passes through.
#include <pqxx/pqxx>
#include <string>
#include <string_view>
#include <vector>

#include "timestamp.h"
#include "uuid.h"

namespace edpipe {

class CopyWriter {
 public:
  CopyWriter& text(std::string_view s);
  CopyWriter& null();
  CopyWriter& uuid(const Uuid& u);
  CopyWriter& timestamp(Timestamp ts);
  CopyWriter& integer(int64_t v);
  CopyWriter& boolean(bool b);
  void end_row();

  size_t rows() const noexcept { return rows_; }
  bool empty() const noexcept { return rows_ == 0; }
  // COPYs the rows into `table` (columns in table order, or `columns`) and clears the buffer,
  // which keeps its capacity for the next batch.
  void copy_into(pqxx::transaction_base& tx, const std::string& table, const std::vector<std::string>& columns = {});
  // Forgets the rows written (a batch that is tried again starts from nothing).
  void clear() noexcept;

 private:
  void separator();
  std::string buf_;
  std::string piece_;  // a piece of buf_ on its way (the library takes a std::string)
  size_t rows_ = 0;
  bool row_open_ = false;
};

}  // namespace edpipe
