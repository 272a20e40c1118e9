#include "load/copy_writer.h"

#include <libpq-fe.h>

#include <cstring>
#include <memory>

namespace edpipe::load {
namespace {

// Microseconds from the Unix epoch to PostgreSQL's (2000-01-01 UTC).
constexpr int64_t kPostgresEpochMicros = 946'684'800'000'000;
// jsonb's binary form: a version byte, then the JSON text.
constexpr char kJsonbVersion = 1;
// PGCOPY\n\377\r\n\0, then flags and the header extension's length (both 0).
constexpr char kHeader[19] = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', '\377', '\r', '\n', '\0', 0, 0, 0, 0, 0, 0, 0, 0};
constexpr char kTrailer[2] = {'\377', '\377'};  // a field count of -1

template <class T>
void put_be(std::string& out, T v) {
  using U = std::make_unsigned_t<T>;
  const U u = static_cast<U>(v);
  char bytes[sizeof(T)];
  for (size_t i = 0; i < sizeof(T); ++i) bytes[i] = static_cast<char>(u >> (8 * (sizeof(T) - 1 - i)));
  out.append(bytes, sizeof(T));
}

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

void CopyWriter::open_row() {
  if (row_open_) return;
  row_start_ = buf_.size();
  buf_.append(2, '\0');  // the field count, set by end_row()
  fields_ = 0;
  row_open_ = true;
}

void CopyWriter::field_header(int32_t size) {
  open_row();
  ++fields_;
  put_be(buf_, size);
}

void CopyWriter::field(const void* data, size_t size) {
  field_header(static_cast<int32_t>(size));
  buf_.append(static_cast<const char*>(data), size);
}

CopyWriter& CopyWriter::text(std::string_view s) {
  field(s.data(), s.size());
  return *this;
}

CopyWriter& CopyWriter::json(std::string_view s) {
  field_header(static_cast<int32_t>(s.size() + 1));
  buf_.push_back(kJsonbVersion);
  buf_.append(s.data(), s.size());
  return *this;
}

CopyWriter& CopyWriter::null() {
  field_header(-1);
  return *this;
}

CopyWriter& CopyWriter::uuid(const Uuid& u) {
  field(u.bytes.data(), u.bytes.size());  // both in network byte order
  return *this;
}

template <class T>
CopyWriter& CopyWriter::fixed_width(T v) {
  field_header(sizeof(T));
  put_be(buf_, v);
  return *this;
}

CopyWriter& CopyWriter::timestamp(Timestamp ts) { return fixed_width<int64_t>(ts - kPostgresEpochMicros); }
// PostgreSQL counts days from 2000-01-01, 10,957 days after 1970-01-01.
CopyWriter& CopyWriter::date(int32_t days) { return fixed_width<int32_t>(days - 10957); }
CopyWriter& CopyWriter::int16(int16_t v) { return fixed_width(v); }
CopyWriter& CopyWriter::int32(int32_t v) { return fixed_width(v); }
CopyWriter& CopyWriter::int64(int64_t v) { return fixed_width(v); }

CopyWriter& CopyWriter::boolean(bool b) {
  field_header(1);
  buf_.push_back(b ? 1 : 0);
  return *this;
}

void CopyWriter::end_row() {
  open_row();
  buf_[row_start_] = static_cast<char>(fields_ >> 8);
  buf_[row_start_ + 1] = static_cast<char>(fields_ & 0xff);
  row_open_ = false;
  ++rows_;
}

void CopyWriter::clear() noexcept {
  buf_.clear();
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
  for (size_t at = 0; at < buf_.size(); at += kPiece) put(buf_.data() + at, std::min(kPiece, buf_.size() - at));
  put(kTrailer, sizeof kTrailer);
  if (PQputCopyEnd(conn, nullptr) != 1) throw_copy_error(conn, nullptr, query);
  PGresult* res = PQgetResult(conn);
  if (!res || PQresultStatus(res) != PGRES_COMMAND_OK) throw_copy_error(conn, res, query);
  PQclear(res);
  drain_results(conn);
  clear();
}

}  // namespace edpipe::load
