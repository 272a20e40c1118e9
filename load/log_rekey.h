#pragma once
// Migration 007's data step: the job_logs rows stored before it get the identity of lines
// without seq (content_hash.h), so that replaying the input they came from adds no row.
#include <pqxx/pqxx>

namespace edpipe::load {

// Within the migration's transaction. Returns the number of rows whose id changed.
uint64_t rekey_job_logs(pqxx::work& tx);

}  // namespace edpipe::load
