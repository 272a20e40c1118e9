#include "gen/corpus_generator.h"

#include <algorithm>
#include <cstring>
#include <cmath>
#include <optional>
#include <queue>
#include <random>
#include <vector>

#include "core/json_text.h"
#include "core/uuid.h"

namespace edpipe::gen {
namespace {

constexpr std::string_view kFunctionNames[] = {
    "event-detector-moves", "event-detector-users", "event-detector-payments", "event-detector-drivers",
    "event-detector-invoices", "event-detector-locations", "event-detector-notifications", "event-detector-customers"};
constexpr std::string_view kTables[] = {"moves", "users", "payments", "drivers", "invoices", "locations",
                                        "notifications", "customers"};
constexpr std::string_view kEventSuffixes[] = {
    "pickup.successful", "pickup.failed", "delivery.successful", "cancel.pending", "status.change", "created",
    "updated", "archived", "price.changed", "assigned", "unassigned", "rated"};
constexpr std::string_view kJobNames[] = {
    "reapplySlaDuration", "sendNotification", "updateAnalytics", "syncToWarehouse", "recalculatePrice",
    "notifyDriver", "writeAuditTrail", "refreshSearchIndex", "chargeCustomer", "emailReceipt"};
constexpr std::string_view kErrors[] = {"ECONNRESET: socket hang up", "Timeout after 10000ms",
                                        "TypeError: Cannot read properties of undefined (reading 'id')",
                                        "Request failed with status code 503", "duplicate key value violates unique constraint"};

struct Line {
  Timestamp ts;
  uint64_t seq;  // tie-break: emission order
  std::string text;
  std::string log_identity;  // job.log: what is stored of it but seq (ts and fields)
  bool operator>(const Line& o) const { return ts != o.ts ? ts > o.ts : seq > o.seq; }
};

class Generator {
 public:
  Generator(const GeneratorOptions& o, const LineSink& sink) : o_(o), sink_(sink), rng_(o.seed) {}

  GeneratedTruth run() {
    const uint32_t files = std::max<uint32_t>(1, o_.files);
    // Invocations last ~150 ms to a few seconds; start them so that `interleave` overlap.
    // With a span, the starts are spread over it evenly on average: a day of traffic, not a burst.
    const Timestamp spacing =
        o_.span > 0 ? std::max<Timestamp>(1, o_.span / static_cast<Timestamp>(std::max<uint64_t>(1, o_.invocations)))
                    : std::max<Timestamp>(1000, 1'200'000 / std::max<uint32_t>(1, o_.interleave));
    Timestamp t = o_.start;
    for (uint64_t i = 0; i < o_.invocations; ++i) {
      const uint32_t file = static_cast<uint32_t>(i * files / std::max<uint64_t>(1, o_.invocations));
      if (file != file_) flush_all();
      file_ = file;
      t += spacing / 2 + static_cast<Timestamp>(uniform() * spacing);
      flush_before(t);
      invocation(t);
    }
    flush_all();
    return truth_;
  }

 private:
  double uniform() { return std::uniform_real_distribution<double>(0, 1)(rng_); }
  bool chance(double p) { return uniform() < p; }
  uint64_t pick(uint64_t n) { return std::uniform_int_distribution<uint64_t>(0, n - 1)(rng_); }
  // Log-normal durations in ms around `median`.
  int64_t duration(double median) {
    return std::max<int64_t>(1, std::llround(median * std::exp(std::normal_distribution<double>(0, 0.8)(rng_))));
  }
  Uuid uuid() {
    Uuid u;
    uint64_t a = rng_(), b = rng_();
    std::memcpy(u.bytes.data(), &a, 8);
    std::memcpy(u.bytes.data() + 8, &b, 8);
    u.bytes[6] = (u.bytes[6] & 0x0F) | 0x40;
    if (o_.time_ordered_ids) {  // RFC 9562 version 7: unix ms, big-endian, in bytes 0-5
      const uint64_t ms = static_cast<uint64_t>(id_time_ / 1000);
      for (int i = 0; i < 6; ++i) u.bytes[i] = static_cast<uint8_t>(ms >> (8 * (5 - i)));
      u.bytes[6] = (u.bytes[6] & 0x0F) | 0x70;
    }
    u.bytes[8] = (u.bytes[8] & 0x3F) | 0x80;
    return u;
  }
  Timestamp id_time_ = 0;  // the time a time-ordered id carries: its invocation's start
  std::string ts_text(Timestamp ts) {
    // Mostly what Node prints (ms, Z); some epoch ms, some with an offset or µs.
    const double r = uniform();
    if (r < 0.05) return std::to_string(ts / 1000);
    std::string s = format_rfc3339(ts);  // ...HH:MM:SS.uuuuuuZ
    if (r < 0.10) {
      // Same instant written at +02:00.
      std::string local = format_rfc3339(ts + 2 * kMicrosPerHour);
      return "\"" + local.substr(0, 23) + "+02:00\"";
    }
    if (r < 0.12) return "\"" + s + "\"";
    return "\"" + s.substr(0, 23) + "Z\"";
  }
  static Timestamp ms_floor(Timestamp ts) { return ts / 1000 * 1000; }

  struct Inv {
    Uuid id;
    std::string head;  // `"invocation_id":"…"` plus correlation id, shared by every record
    std::vector<Line> lines;
    int64_t next_log_seq = 0;
  };

  // A job.log line (`fields`: its members after the invocation id), with its seq; now and then
  // followed by a repeat at the same ts (log_repeat_rate).
  void log_record(Inv& inv, Timestamp ts, const std::string& job_id, std::string_view level, const std::string& message,
                  const std::optional<std::string>& data) {
    auto fields = [&](const std::optional<std::string>& d, std::string_view source) {
      std::string f = job_id.empty() ? "" : "\"job_execution_id\":\"" + job_id + "\",";
      f += "\"level\":\"" + std::string(level) + "\",\"message\":\"" + message + "\"";
      if (d) f += ",\"data\":" + *d;
      if (!source.empty()) f += ",\"source\":\"" + std::string(source) + "\"";
      return f;
    };
    auto write = [&](const std::string& f) {
      const std::string identity = std::to_string(ms_floor(ts)) + f;
      record(inv, ts, "job.log", o_.write_seq ? f + ",\"seq\":" + std::to_string(inv.next_log_seq++) : f);
      inv.lines.back().log_identity = identity;
    };
    write(fields(data, ""));
    if (o_.log_repeat_rate <= 0 || !chance(o_.log_repeat_rate)) return;
    const double r = uniform();
    if (r < 0.5) write(fields(data, ""));                                        // identical
    else if (r < 0.75) write(fields(std::string("{\"attempt\":2}"), ""));         // other data
    else write(fields(data, "console"));                                          // other source
  }

  void record(Inv& inv, Timestamp ts, std::string_view type, const std::string& rest) {
    ts = ms_floor(ts);
    std::string line = "{\"type\":\"";
    line += type;
    line += "\",\"ts\":" + ts_text(ts) + "," + inv.head;
    if (!rest.empty()) line += "," + rest;
    line += "}";
    inv.lines.push_back({ts, 0, std::move(line)});
  }

  std::string payload(std::string_view table, const Uuid& event_id, Timestamp ts, const std::string& email,
                      std::string_view role) {
    std::string row_old = "{", row_new = "{";
    for (uint32_t c = 0; c < o_.payload_columns; ++c) {
      std::string col = "\"col_" + std::to_string(c) + "\":";
      std::string v = c % 3 == 0 ? std::to_string(pick(100000))
                    : c % 3 == 1 ? json_string("value " + std::to_string(pick(1000000)))
                                 : (chance(0.5) ? "true" : "null");
      row_old += (c ? "," : "") + col + v;
      row_new += (c ? "," : "") + col + (c == 1 ? json_string("pickup successful") : v);
    }
    row_old += ",\"status\":\"dispatched\"}";
    row_new += ",\"status\":\"pickup successful\"}";
    std::string created = format_rfc3339(ts - 50'000);
    created.pop_back();  // Hasura writes created_at without a zone
    return "{\"event\":{\"session_variables\":{\"x-hasura-role\":\"" + std::string(role) +
           "\",\"x-hasura-user-email\":" + json_string(email) + "},\"op\":\"UPDATE\",\"data\":{\"old\":" + row_old +
           ",\"new\":" + row_new + "},\"trace_context\":{\"trace_id\":\"" + std::to_string(rng_()) +
           "\",\"span_id\":\"" + std::to_string(rng_() % 100000000) + "\"}},\"created_at\":\"" + created +
           "\",\"id\":\"" + event_id.str() + "\",\"delivery_info\":{\"max_retries\":0,\"current_retry\":0},\"trigger\":{\"name\":\"" +
           std::string(table) + "_events\"},\"table\":{\"schema\":\"public\",\"name\":\"" + std::string(table) + "\"}}";
  }

  // One invocation: its start, every event module checked (a few detect and run jobs), its end;
  // a cut one loses its tail. The random draws come in a fixed order, so a seed is a corpus.
  void invocation(Timestamp t0) {
    Inv inv;
    id_time_ = t0;
    inv.id = uuid();
    inv.head = "\"invocation_id\":\"" + inv.id.str() + "\"";
    if (chance(0.3)) inv.head += ",\"correlation_id\":\"corr-" + std::to_string(pick(1u << 20)) + "\"";
    const uint32_t fn = static_cast<uint32_t>(pick(std::max<uint32_t>(1, o_.functions)));
    const size_t name_idx = fn % std::size(kFunctionNames);
    std::string function(kFunctionNames[name_idx]);
    if (fn >= std::size(kFunctionNames)) function += "-" + std::to_string(fn);
    const std::string_view table = kTables[name_idx];
    const bool cut = chance(o_.abandon_rate);
    const bool failed = chance(o_.failure_rate);

    invocation_start(inv, t0, function, table);
    Timestamp t = t0 + 2000;
    const size_t modules = 4 + (name_idx + fn) % 5;
    for (size_t m = 0; m < modules; ++m) t = event_module(inv, t, table, (m * 7 + name_idx) % std::size(kEventSuffixes));
    if (chance(0.2)) {
      log_record(inv, t, "", "info", "checked " + std::to_string(modules) + " event modules", std::nullopt);
    }
    t += 1000;
    invocation_end(inv, t, t0, failed);

    // A cut invocation loses its tail: the function timed out or crashed.
    if (cut) inv.lines.resize(1 + pick(inv.lines.size() - 1));
    account(inv, failed);

    for (auto& l : inv.lines) {
      l.seq = seq_++;
      pending_.push(std::move(l));
    }
  }

  void invocation_start(Inv& inv, Timestamp t0, const std::string& function, std::string_view table) {
    const Uuid event_id = uuid();
    const std::string email = "user" + std::to_string(pick(5000)) + "@example.com";
    std::string start = "\"source_function\":\"" + function + "\",\"source_system\":\"hasura\"";
    if (chance(0.5))
      start += ",\"source_table\":\"" + std::string(table) + "\",\"source_operation\":\"UPDATE\",\"source_event_id\":\"" +
               event_id.str() + "\",\"source_user_email\":" + json_string(email) + ",\"source_user_role\":\"user\"";
    start += ",\"auto_load_modules\":true,\"event_modules_directory\":\"/var/task/events\"";
    if (!recent_jobs_.empty() && chance(o_.chain_rate)) {
      start += ",\"source_job_id\":\"" + recent_jobs_[pick(recent_jobs_.size())].str() + "\"";
      truth_.chained++;
    }
    start += ",\"context\":{\"region\":\"eu-west-1\",\"request_id\":\"" + uuid().str() + "\"}";
    start += ",\"source_event_payload\":" + payload(table, event_id, t0, email, "user");
    record(inv, t0, "invocation.start", start);
  }

  // One event module checked from `t`: its detection, and when it detects, its handler and jobs.
  // Returns when it is done.
  Timestamp event_module(Inv& inv, Timestamp t, std::string_view table, size_t suffix) {
    const Uuid ev = uuid();
    const std::string ev_name = std::string(table) + "." + std::string(kEventSuffixes[suffix]);
    const std::string ev_fields = "\"event_execution_id\":\"" + ev.str() + "\",\"event_name\":\"" + ev_name + "\"";
    record(inv, t, "event.detection.start", ev_fields + ",\"event_module_path\":\"/var/task/events/" + ev_name + ".js\"");
    const int64_t det_ms = duration(4);
    t += det_ms * 1000;
    if (chance(o_.detection_error_rate)) {
      record(inv, t, "event.detection.end", ev_fields + ",\"detected\":false,\"duration_ms\":" + std::to_string(det_ms) +
                                                ",\"error\":{\"message\":" + json_string(kErrors[pick(std::size(kErrors))]) +
                                                ",\"stack\":\"Error\\n    at detector (/var/task/events/" + ev_name + ".js:12:11)\"}");
      return t;
    }
    const bool hit = chance(0.3);
    record(inv, t, "event.detection.end", ev_fields + ",\"detected\":" + (hit ? "true" : "false") + ",\"duration_ms\":" + std::to_string(det_ms));
    if (!hit) return t;
    const Timestamp handler_start = t;
    record(inv, t, "event.handler.start", ev_fields);
    const size_t jobs = 1 + pick(4);
    const std::string ev_id_field = ev_fields.substr(0, ev_fields.find(",\"event_name\""));
    for (size_t j = 0; j < jobs; ++j) t = job(inv, t, ev_id_field);
    t += 1000;
    record(inv, t, "event.handler.end", ev_fields + ",\"duration_ms\":" + std::to_string(millis(t - handler_start)));
    return t;
  }

  // One job of a handler from `t`, with its log lines. Returns when it ends.
  Timestamp job(Inv& inv, Timestamp t, const std::string& ev_id_field) {
    const Uuid id = uuid();
    const std::string_view job_name = kJobNames[pick(std::size(kJobNames))];
    const std::string job_fields = "\"job_execution_id\":\"" + id.str() + "\"," + ev_id_field + ",\"job_name\":\"" +
                                   std::string(job_name) + "\"";
    record(inv, t, "job.start", job_fields + ",\"job_function_name\":\"" + std::string(job_name) +
                                    "\",\"job_options\":{\"moveId\":" + std::to_string(pick(100000)) + ",\"notify\":true}");
    const size_t logs = pick(4);
    const int64_t job_ms = duration(120);
    for (size_t l = 0; l < logs; ++l) {
      const bool warn = chance(0.1);
      log_record(inv, t + (job_ms * 1000 * (l + 1)) / (logs + 1), id.str(), warn ? "warn" : "info",
                 std::string(job_name) + " step " + std::to_string(l + 1) + " of " + std::to_string(logs) + " for move " +
                     std::to_string(pick(100000)),
                 std::string("{\"attempt\":1}"));
    }
    t += job_ms * 1000;
    if (chance(o_.job_failure_rate))
      record(inv, t, "job.end", job_fields + ",\"status\":\"failed\",\"duration_ms\":" + std::to_string(job_ms) +
                                    ",\"error\":{\"message\":" + json_string(kErrors[pick(std::size(kErrors))]) +
                                    ",\"stack\":\"Error\\n    at " + std::string(job_name) + " (/var/task/jobs.js:40:9)\"}");
    else
      record(inv, t, "job.end", job_fields + ",\"status\":\"completed\",\"duration_ms\":" + std::to_string(job_ms) +
                                    ",\"result\":{\"ok\":true,\"moveId\":" + std::to_string(pick(100000)) + "}");
    recent_jobs_.push_back(id);
    if (recent_jobs_.size() > 64) recent_jobs_.erase(recent_jobs_.begin());
    return t;
  }

  void invocation_end(Inv& inv, Timestamp t, Timestamp t0, bool failed) {
    if (failed)
      record(inv, t, "invocation.end", "\"status\":\"failed\",\"duration_ms\":" + std::to_string(millis(t - t0)) +
                                           ",\"error\":{\"message\":\"One or more handlers failed\",\"stack\":\"Error\\n    at listenTo (/var/task/index.js:88:13)\"}");
    else
      record(inv, t, "invocation.end", "\"status\":\"completed\",\"duration_ms\":" + std::to_string(millis(t - t0)));
  }

  static int64_t millis(Timestamp d) { return (d + 500) / 1000; }

  // The truth is what the kept lines say, so it is counted from them.
  void account(const Inv& inv, bool failed) {
    truth_.invocations++;
    bool ended = false;
    std::vector<std::string_view> seen_jobs, seen_events, log_identities;
    for (const auto& l : inv.lines) {
      std::string_view s = l.text;
      auto type = s.substr(9, s.find('"', 9) - 9);
      auto id_after = [&](std::string_view key) {
        auto p = s.find(key);
        return s.substr(p + key.size(), 36);
      };
      truth_.newest_ts = std::max(truth_.newest_ts, l.ts);
      if (type == "invocation.end") ended = true;
      else if (type == "event.detection.start") { truth_.event_executions++; }
      else if (type == "event.detection.end" && s.find("\"detected\":true") != std::string_view::npos) truth_.events_detected++;
      else if (type == "job.start") { truth_.job_executions++; seen_jobs.push_back(id_after("\"job_execution_id\":\"")); }
      else if (type == "job.end") {
        s.find("\"status\":\"failed\"") != std::string_view::npos ? truth_.jobs_failed++ : truth_.jobs_completed++;
        seen_jobs.erase(std::find(seen_jobs.begin(), seen_jobs.end(), id_after("\"job_execution_id\":\"")));
      } else if (type == "job.log") {
        truth_.job_logs++;
        if (std::find(log_identities.begin(), log_identities.end(), l.log_identity) == log_identities.end())
          log_identities.push_back(l.log_identity);
      }
    }
    truth_.distinct_job_logs += log_identities.size();
    truth_.jobs_cut += seen_jobs.size();
    if (!ended) truth_.invocations_cut++;
    else if (failed) truth_.invocations_failed++;
    else truth_.invocations_completed++;
  }

  void emit(std::string_view text) {
    sink_(file_, text);
    truth_.lines++;
  }

  void emit_line(Line& l) {
    // Plain console output and a structured logger's lines sit between the records.
    if (chance(o_.console_rate / 40.0)) {
      emit(chance(0.5) ? "Processing event for table " + std::to_string(pick(100)) + "..."
                       : "{\"level\":30,\"time\":" + std::to_string(l.ts / 1000) + ",\"msg\":\"handled request\",\"pid\":" +
                             std::to_string(pick(30000)) + "}");
      truth_.plain_lines++;
    }
    if (chance(o_.malformed_rate)) {
      const double r = uniform();
      std::string bad = r < 0.5 ? l.text.substr(0, l.text.size() / 2)  // torn
                      : r < 0.75 ? "{\"type\":\"job.log\",\"ts\":\"yesterday\",\"invocation_id\":\"" + uuid().str() +
                                       "\",\"level\":\"info\",\"message\":\"x\"}"
                                 : "{\"type\":\"invocation.end\",\"ts\":\"2026-11-21T00:00:00Z\",\"invocation_id\":\"not-a-uuid\",\"status\":\"completed\"}";
      emit(bad);
      truth_.malformed_lines++;
    }
    emit(l.text);
    truth_.record_lines++;
  }

  void flush_before(Timestamp t) {
    while (!pending_.empty() && pending_.top().ts < t) pop_one();
  }
  void flush_all() {
    while (!pending_.empty()) pop_one();
  }
  void pop_one() {
    Line l = pending_.top();
    pending_.pop();
    // Emitters are not perfectly ordered: now and then two records swap places.
    if (!pending_.empty() && chance(o_.disorder_rate)) {
      Line next = pending_.top();
      pending_.pop();
      emit_line(next);
    }
    emit_line(l);
  }

  const GeneratorOptions& o_;
  const LineSink& sink_;
  std::mt19937_64 rng_;
  GeneratedTruth truth_;
  std::priority_queue<Line, std::vector<Line>, std::greater<Line>> pending_;
  std::vector<Uuid> recent_jobs_;
  uint64_t seq_ = 0;
  uint32_t file_ = 0;
};

}  // namespace

GeneratedTruth generate(const GeneratorOptions& options, const LineSink& sink) {
  Generator g(options, sink);
  return g.run();
}

}  // namespace edpipe::gen
