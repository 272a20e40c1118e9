#pragma once
// The read positions of followed files in PostgreSQL (edpipe_file_positions), and the advisory
// locks that make one edpipe the only owner of the files it follows.
#include <map>
#include <memory>
#include <mutex>
#include <pqxx/pqxx>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "ingest/file_position.h"
#include "load/pg_connection.h"

namespace edpipe::load {

// Upserts the positions: called inside the transaction that loads the rows they complete.
void save_file_positions(pqxx::work& tx, const std::vector<ingest::FilePosition>& positions);
std::vector<ingest::FilePosition> read_file_positions(pqxx::connection& conn);

// Another edpipe follows this file.
class OwnershipError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Session advisory locks, one per followed file (device + inode), held by one session of their
// own for as long as the process runs: a second `edpipe tail` on the same files is refused, and
// a process that dies releases them with its connection. The read positions are written by that
// same session, so that only the owner of a file ever moves its position.
//
// A server that crashes or restarts ends the session and its locks with it. Every new session
// takes every lock again before it does anything else; if another process took one meanwhile,
// this one stops (OwnershipError) instead of writing a position for a file it no longer owns.
// keep() notices a lost session without a round trip, so that the locks are back within a
// follow loop's turn of the server's return, and a second tail started after that is refused.
class FileOwnership {
 public:
  explicit FileOwnership(const std::string& conninfo, RetryBound bound = {});
  ~FileOwnership();
  // Takes the file's lock; throws OwnershipError when another session holds it.
  void claim(const ingest::FilePosition& file);
  // Cheap while the session lives; once it is lost, connects again (within the retry bound) and
  // takes every lock again. Throws OwnershipError when another process holds one of them now.
  void keep();
  // Saves the positions in a transaction of their own, on the session holding the locks.
  void save_positions(const std::vector<ingest::FilePosition>& positions);
  // The positions saved so far.
  std::vector<ingest::FilePosition> saved_positions();

 private:
  void take_every_lock(pqxx::connection& c);
  std::mutex mu_;  // claim() and keep() come from the reader, save_positions() from the loader
  std::map<std::pair<uint64_t, uint64_t>, std::string> held_;  // device, inode -> path
  RetryingSession session_;
};

}  // namespace edpipe::load
