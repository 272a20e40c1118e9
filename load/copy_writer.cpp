#include "load/copy_writer.h"

#include <libpq-fe.h>

#include <algorithm>
#include <cstring>
#include <memory>

namespace edpipe::load {
namespace {

// PGCOPY\n\377\r\n\0, then flags and the header extension's length (both 0).
constexpr char kHeader[19] = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', '\377', '\r', '\n', '\0', 0, 0, 0, 0, 0, 0, 0, 0};
constexpr char kTrailer[2] = {'\377', '\377'};  // a field count of -1

// libpq's connection under a libpqxx transaction. largeobject is libpqxx 6.4's one class that
// may reach it; its accessor is protected, so a subclass lends it out. libpqxx 7 dropped this
// accessor: there this breaks at compile time (load/CMakeLists.txt asks for 6.4.x).
struct RawConnection : pqxx::largeobject {
  static pqxx::internal::pq::PGconn* of(const pqxx::dbtransaction& tx) { return raw_connection(tx); }
};

// Reads the connection's remaining results so that it is ready for the next statement. A COPY
// still open (the data could not all be sent) is ended with an error, which the server rolls
// back, instead of waiting on it.
void drain_results(PGconn* conn) {
  while (PGresult* r = PQgetResult(conn)) {
    const bool copying = PQresultStatus(r) == PGRES_COPY_IN;
    PQclear(r);
    if (copying && PQputCopyEnd(conn, "edpipe stopped sending this COPY") != 1) break;
  }
}

[[noreturn]] void throw_copy_error(PGconn* conn, PGresult* res, const std::string& query) {
  std::string message = res ? PQresultErrorMessage(res) : "";
  if (message.empty()) message = PQerrorMessage(conn);
  const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  const std::string sqlstate = state ? state : "";
  if (res) PQclear(res);
  drain_results(conn);
  if (sqlstate.empty() && PQstatus(conn) != CONNECTION_OK) throw pqxx::broken_connection(message);
  throw pqxx::sql_error(message, query, sqlstate.empty() ? nullptr : sqlstate.c_str());
}

}  // namespace

void CopyWriter::grow(size_t n) {
  const size_t capacity = std::max({size_ + n, 2 * capacity_, size_t{64 * 1024}});
  auto data = std::make_unique_for_overwrite<char[]>(capacity);
  if (size_) std::memcpy(data.get(), data_.get(), size_);
  data_ = std::move(data);
  capacity_ = capacity;
}

void CopyWriter::end_row() {
  open_row();
  put_be(data_.get() + row_start_, fields_);
  row_open_ = false;
  ++rows_;
}

void CopyWriter::clear() noexcept {
  size_ = 0;
  rows_ = 0;
  row_open_ = false;
}

void CopyWriter::copy_into(pqxx::dbtransaction& tx, const std::string& table, const std::vector<std::string>& columns) {
  if (rows_ == 0) return;
  std::string query = "COPY " + tx.quote_name(table);
  if (!columns.empty()) {
    query += " (";
    for (size_t i = 0; i < columns.size(); ++i) query += (i ? ", " : "") + tx.quote_name(columns[i]);
    query += ')';
  }
  query += " FROM STDIN (FORMAT binary)";
  tx.exec0(query);  // the server now waits for the data

  PGconn* conn = RawConnection::of(tx);
  auto put = [&](const char* data, size_t size) {
    if (PQputCopyData(conn, data, static_cast<int>(size)) != 1) throw_copy_error(conn, nullptr, query);
  };
  // The server reads the data as one stream: pieces need not end at rows. 256 KiB pieces keep
  // libpq's copy of each in the cache.
  constexpr size_t kPiece = 256 * 1024;
  put(kHeader, sizeof kHeader);
  for (size_t at = 0; at < size_; at += kPiece) put(data_.get() + at, std::min(kPiece, size_ - at));
  put(kTrailer, sizeof kTrailer);
  if (PQputCopyEnd(conn, nullptr) != 1) throw_copy_error(conn, nullptr, query);
  PGresult* res = PQgetResult(conn);
  if (!res || PQresultStatus(res) != PGRES_COMMAND_OK) throw_copy_error(conn, res, query);
  PQclear(res);
  drain_results(conn);
  clear();
}

}  // namespace edpipe::load
