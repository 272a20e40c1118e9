#pragma once
// The read positions of followed files in PostgreSQL (edpipe_file_positions), and the advisory
// locks that make one edpipe the only owner of the files it follows.
#include <memory>
#include <pqxx/pqxx>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "ingest/file_position.h"

namespace edpipe::load {

// Upserts the positions: called inside the transaction that loads the rows they complete.
void save_file_positions(pqxx::work& tx, const std::vector<ingest::FilePosition>& positions);
std::vector<ingest::FilePosition> read_file_positions(pqxx::connection& conn);

// Another edpipe follows this file.
class OwnershipError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Session advisory locks, one per followed file (device + inode), held on a connection of their
// own for as long as the process runs: a second `edpipe tail` on the same files is refused, and
// a process that dies releases them with its connection.
class FileOwnership {
 public:
  explicit FileOwnership(const std::string& conninfo);
  ~FileOwnership();
  // Takes the file's lock; throws OwnershipError when another session holds it.
  void claim(const ingest::FilePosition& file);
  // The positions saved so far, read on this same connection.
  std::vector<ingest::FilePosition> saved_positions() { return read_file_positions(*conn_); }

 private:
  std::unique_ptr<pqxx::connection> conn_;
  std::set<std::pair<uint64_t, uint64_t>> held_;
};

}  // namespace edpipe::load
