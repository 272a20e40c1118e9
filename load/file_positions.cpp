#include "load/file_positions.h"

#include "load/load_sql.h"
#include "load/pg_connection.h"

namespace edpipe::load {
namespace {

// bigint columns hold the unsigned values bit for bit.
int64_t as_bigint(uint64_t v) { return static_cast<int64_t>(v); }
uint64_t from_bigint(int64_t v) { return static_cast<uint64_t>(v); }

}  // namespace

void save_file_positions(pqxx::work& tx, const std::vector<ingest::FilePosition>& positions) {
  for (const auto& p : positions) {
    tx.exec_params0(sql::kSavePosition, as_bigint(p.device), as_bigint(p.inode), as_bigint(p.head_hash), static_cast<int64_t>(p.head_bytes),
        as_bigint(p.offset), as_bigint(p.line), p.path);
  }
}

std::vector<ingest::FilePosition> read_file_positions(pqxx::connection& conn) {
  pqxx::read_transaction tx(conn);
  std::vector<ingest::FilePosition> out;
  for (const auto& r : tx.exec(sql::kReadPositions)) {
    ingest::FilePosition p;
    p.device = from_bigint(r["device"].as<int64_t>());
    p.inode = from_bigint(r["inode"].as<int64_t>());
    p.head_hash = from_bigint(r["head_hash"].as<int64_t>());
    p.head_bytes = static_cast<uint32_t>(r["head_bytes"].as<int64_t>());
    p.offset = from_bigint(r["byte_offset"].as<int64_t>());
    p.line = from_bigint(r["line_number"].as<int64_t>());
    p.path = r["path"].as<std::string>();
    out.push_back(std::move(p));
  }
  return out;
}

FileOwnership::FileOwnership(const std::string& conninfo) : conn_(open_connection(conninfo)) {}
FileOwnership::~FileOwnership() = default;  // closing the connection releases every lock

void FileOwnership::claim(const ingest::FilePosition& file) {
  if (held_.count({file.device, file.inode})) return;
  pqxx::nontransaction tx(*conn_);
  const bool got =
      tx.exec_params(sql::kTryLockFile, sql::file_lock_key(file.device, file.inode))[0][0].as<bool>();
  if (!got)
    throw OwnershipError(file.path + ": another edpipe is following this file (it holds the file's lock in the "
                         "database); stop it first, or follow other files");
  held_.insert({file.device, file.inode});
}

}  // namespace edpipe::load
