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

FileOwnership::FileOwnership(const std::string& conninfo, RetryBound bound)
    : session_(conninfo, bound, [this](pqxx::connection& c) { take_every_lock(c); }) {
  session_.run([](pqxx::connection&) {});  // connected now: a database that is not there says so first
}
FileOwnership::~FileOwnership() = default;  // closing the connection releases every lock

namespace {
bool try_lock(pqxx::connection& c, const std::pair<uint64_t, uint64_t>& file) {
  pqxx::nontransaction tx(c);
  return tx.exec_params(sql::kTryLockFile, sql::file_lock_key(file.first, file.second))[0][0].as<bool>();
}
}  // namespace

void FileOwnership::take_every_lock(pqxx::connection& c) {
  for (const auto& [file, path] : held_)
    if (!try_lock(c, file))
      throw OwnershipError(path + ": another edpipe took this file while the connection to the database was lost; "
                           "this one stops (its positions so far are saved, and the other goes on from them)");
}

void FileOwnership::claim(const ingest::FilePosition& file) {
  std::lock_guard lock(mu_);
  const std::pair<uint64_t, uint64_t> key{file.device, file.inode};
  if (held_.count(key)) return;
  if (!session_.run([&](pqxx::connection& c) { return try_lock(c, key); }))
    throw OwnershipError(file.path + ": another edpipe is following this file (it holds the file's lock in the "
                         "database); stop it first, or follow other files");
  held_.emplace(key, file.path);
}

void FileOwnership::keep() {
  std::lock_guard lock(mu_);
  if (session_.alive()) return;
  session_.drop();
  session_.run([](pqxx::connection&) {});  // a new session takes every lock first
}

void FileOwnership::save_positions(const std::vector<ingest::FilePosition>& positions) {
  std::lock_guard lock(mu_);
  session_.run([&](pqxx::connection& c) {
    pqxx::work tx(c);
    save_file_positions(tx, positions);
    tx.commit();
  });
}

std::vector<ingest::FilePosition> FileOwnership::saved_positions() {
  std::lock_guard lock(mu_);
  return session_.run([](pqxx::connection& c) { return read_file_positions(c); });
}

}  // namespace edpipe::load
