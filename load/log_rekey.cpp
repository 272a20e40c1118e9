#include "load/log_rekey.h"

#include <algorithm>
#include <tuple>
#include <vector>

#include "load/copy_writer.h"
#include "transform/content_hash.h"

namespace edpipe::load {
namespace {

struct StoredLine {
  Uuid old_id, identity;
  int32_t old_occurrence = 0;
};

// The lines of one owner and ts: each identity's lines numbered from 0, in the order of their
// old occurrence numbers (the old numbering counted identical lines the same way, over a
// coarser identity, so identical lines keep their relative order).
void renumber(std::vector<StoredLine>& block, CopyWriter& out, uint64_t& changed) {
  std::sort(block.begin(), block.end(), [](const StoredLine& a, const StoredLine& b) {
    return std::tie(a.identity, a.old_occurrence, a.old_id) < std::tie(b.identity, b.old_occurrence, b.old_id);
  });
  uint32_t occurrence = 0;
  for (size_t i = 0; i < block.size(); ++i) {
    occurrence = i && block[i].identity == block[i - 1].identity ? occurrence + 1 : 0;
    const Uuid id = transform::log_row_id(block[i].identity, occurrence);
    if (id == block[i].old_id) continue;
    out.uuid(block[i].old_id).uuid(id).int32(static_cast<int32_t>(occurrence));
    out.end_row();
    ++changed;
  }
  block.clear();
}

}  // namespace

uint64_t rekey_job_logs(pqxx::work& tx) {
  // Sorted by owner and ts, so each block of lines that could share an identity is read whole,
  // a few thousand rows at a time.
  tx.exec0(
      "DECLARE edpipe_rekey NO SCROLL CURSOR FOR "
      "SELECT id::text, invocation_id::text, job_execution_id::text, level, message, data::text, source, occurrence, "
      "(extract(epoch FROM created_at) * 1000000)::bigint AS ts "
      "FROM job_logs WHERE seq IS NULL ORDER BY coalesce(job_execution_id, invocation_id), job_execution_id IS NULL, "
      "created_at");
  CopyWriter map;
  uint64_t changed = 0;
  std::vector<StoredLine> block;
  Uuid block_owner;
  bool block_job = false;
  Timestamp block_ts = 0;
  for (;;) {
    const pqxx::result rows = tx.exec("FETCH 5000 FROM edpipe_rekey");
    if (rows.empty()) break;
    for (const auto& r : rows) {
      const Uuid invocation = *Uuid::parse(r["invocation_id"].c_str());
      const bool job = !r["job_execution_id"].is_null();
      const std::optional<Uuid> job_id = job ? Uuid::parse(r["job_execution_id"].c_str()) : std::nullopt;
      const Timestamp ts = r["ts"].as<int64_t>();
      const Uuid owner = job ? *job_id : invocation;
      if (!block.empty() && (owner != block_owner || job != block_job || ts != block_ts)) renumber(block, map, changed);
      block_owner = owner;
      block_job = job;
      block_ts = ts;
      std::optional<std::string> data;
      if (!r["data"].is_null()) data = r["data"].as<std::string>();
      std::optional<std::string> source;
      if (!r["source"].is_null()) source = r["source"].as<std::string>();
      const auto level = ingest::log_level_from_name(r["level"].c_str()).value_or(ingest::LogLevel::Info);
      block.push_back({*Uuid::parse(r["id"].c_str()),
                       transform::log_identity(invocation, job_id, ts, level, r["message"].as<std::string>(), data, source),
                       r["occurrence"].as<int32_t>()});
    }
  }
  renumber(block, map, changed);
  tx.exec0("CLOSE edpipe_rekey");
  if (changed == 0) return 0;
  tx.exec0("CREATE TEMP TABLE edpipe_log_rekey (old_id uuid, new_id uuid, occurrence integer) ON COMMIT DROP");
  map.copy_into(tx, "edpipe_log_rekey");
  tx.exec0(
      "UPDATE job_logs l SET id = m.new_id, occurrence = m.occurrence FROM edpipe_log_rekey m WHERE l.id = m.old_id");
  return changed;
}

}  // namespace edpipe::load
