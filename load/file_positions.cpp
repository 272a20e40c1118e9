#include "file_positions.h"

#include "pg_connection.h"

namespace edpipe {
namespace {

// bigint columns hold the unsigned values bit for bit.
int64_t as_bigint(uint64_t v) { return static_cast<int64_t>(v); }
uint64_t from_bigint(int64_t v) { return static_cast<uint64_t>(v); }

// The lock key: both halves of (device, inode) folded into one bigint, in a key space of its own.
int64_t lock_key(uint64_t device, uint64_t inode) {
  uint64_t h = 0x6564706970655f66ULL;  // "edpipe_f"
  for (uint64_t v : {device, inode}) {
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  }
  return static_cast<int64_t>(h);
}

}  // namespace

void save_file_positions(pqxx::work& tx, const std::vector<FileCheckpoint>& positions) {
  for (const auto& p : positions) {
    tx.exec_params0(
        "INSERT INTO edpipe_file_positions (device, inode, head_hash, head_bytes, byte_offset, line_number, path) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7) "
        "ON CONFLICT (device, inode) DO UPDATE SET head_hash = EXCLUDED.head_hash, head_bytes = EXCLUDED.head_bytes, "
        "byte_offset = EXCLUDED.byte_offset, line_number = EXCLUDED.line_number, path = EXCLUDED.path, "
        "updated_at = now()",
        as_bigint(p.device), as_bigint(p.inode), as_bigint(p.head_hash), static_cast<int64_t>(p.head_bytes),
        as_bigint(p.offset), as_bigint(p.line), p.path);
  }
}

std::vector<FileCheckpoint> read_file_positions(pqxx::connection& conn) {
  pqxx::read_transaction tx(conn);
  std::vector<FileCheckpoint> out;
  for (const auto& r : tx.exec("SELECT device, inode, head_hash, head_bytes, byte_offset, line_number, path "
                               "FROM edpipe_file_positions")) {
    FileCheckpoint p;
    p.device = from_bigint(r[0].as<int64_t>());
    p.inode = from_bigint(r[1].as<int64_t>());
    p.head_hash = from_bigint(r[2].as<int64_t>());
    p.head_bytes = static_cast<uint32_t>(r[3].as<int64_t>());
    p.offset = from_bigint(r[4].as<int64_t>());
    p.line = from_bigint(r[5].as<int64_t>());
    p.path = r[6].as<std::string>();
    out.push_back(std::move(p));
  }
  return out;
}

FileOwnership::FileOwnership(const std::string& conninfo) : conn_(open_connection(conninfo)) {}
FileOwnership::~FileOwnership() = default;  // closing the connection releases every lock

void FileOwnership::claim(const FileCheckpoint& file) {
  if (held_.count({file.device, file.inode})) return;
  pqxx::nontransaction tx(*conn_);
  const bool got =
      tx.exec_params("SELECT pg_try_advisory_lock($1)", lock_key(file.device, file.inode))[0][0].as<bool>();
  if (!got)
    throw OwnershipError(file.path + ": another edpipe is following this file (it holds the file's lock in the "
                         "database); stop it first, or follow other files");
  held_.insert({file.device, file.inode});
}

}  // namespace edpipe
