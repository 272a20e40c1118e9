#pragma once
// Read-only queries for `show`, `report` (and a live dashboard): every one parameterized, in a
// read-only transaction with a statement timeout, with bounded results, served by the schema's
// indexes (benchmarks/explain_queries.sh shows the plans on 100k invocations).
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <string_view>
#include <vector>

#include "core/uuid.h"
#include "view/invocation_tree.h"

namespace edpipe::view {

// SQL pieces the view's queries share.
namespace sql {
std::string at_param(int n);                  // parameter $n (µs since the epoch) as a timestamptz
std::string micros(const std::string& column);  // a timestamptz column as µs since the epoch
// The rows of `alias` whose invocation is of function $n, unless $n is NULL; `days` as below.
std::string of_function(const std::string& alias, int n, const std::string& days);
// The day partitions (migration 016) that can hold rows created in [since - 1 h, until + 1 h): a
// window, its cut hours and its children's 15 minutes. They are the days whose span of
// created_at (edpipe_day_spans, migration 017) meets it, as a date[] constant for the query's
// text, so that the planner leaves the other days' partitions out of the plan and its planning.
std::string window_days(pqxx::transaction_base& tx, Timestamp since, std::optional<Timestamp> until);
// "`alias`.invocation_day = ANY(`days`)".
std::string in_days(const std::string& alias, const std::string& days);
// The text expression `text` with what differs between two failures of one cause masked: uuids
// as <id>, hex of 8 digits or more (or 0x…) as <hex>, other digits as <n>; its first 1,000
// characters.
std::string masked_error(const std::string& text);
}  // namespace sql

struct ViewLimits {
  int statement_timeout_ms = 10000;
  size_t log_lines = 2000;           // per invocation
  size_t triggered_invocations = 200;
  // A dashboard page's statements are short and several pages run at once: a parallel plan's
  // workers cost more to start and to pass rows through than they save there (the 1-hour jobs
  // page: 65 ms with two workers, 30 ms without), and they take the cores of other requests.
  bool parallel_plans = true;
};

// A page of the invocation list: a time range, filters, a search, and where the page before
// ended (keyset pagination: (created_at, id) below the cursor, never OFFSET).
struct InvocationQuery {
  Timestamp since = 0, until = 0;
  std::optional<std::string> status, function, table, operation;
  // The search box (read by parse_search below).
  std::optional<std::string> search;
  // Newest first, or slowest first (total_duration_ms; the running ones, which have none, last).
  bool by_duration = false;
  // The cursor of a page: (created_at, id), or (duration, id) by duration (-1 without one), of
  // the last row shown (`before`: the page after it) or of the first (`after`: the page before
  // it, still in the list's order).
  std::optional<std::pair<Timestamp, std::string>> before, after;
  size_t limit = 50;
};

// What the search box's text names. An explicit prefix says it: `id:` (a full id or a prefix of
// one), `corr:`, `email:`, `function:`, `event:` (invocations where the event was detected),
// `checked:` (where it was checked, detected or not), `job:` (where the job ran),
// `failed-job:` (where it failed), `failed-event:` (where its detection or handler failed),
// `error:` (a piece of an error message), `row:table:id` (the source row). Without one: a full
// id; `table:id`; text with `@`, a correlation id or an e-mail (both kinds); a hex prefix, an id
// prefix first; anything else, the first kind that finds rows of correlation id, function,
// detected event, job, error text. The text is trimmed.
struct SearchKind {
  std::string name;   // what the page says it searched: "correlation id", "job", ...
  std::string value;
  std::string table;  // the source row's table (kind "source row")
};
std::vector<SearchKind> parse_search(std::string_view text);

// What a search looked for, and how many invocations of the range each kind found when it
// looked for two at once ("correlation id or e-mail: 11 + 13").
struct SearchReport {
  std::string searched;                                  // the kinds tried, " or "-joined
  std::string found_as;                                  // the kind that found the rows shown ("" if none)
  std::vector<std::pair<std::string, int64_t>> counts;  // per kind, for a two-kind search
  // A failed job or event (the jobs and events pages' drill-down): its failed runs in the
  // invocations of the range, the number those pages print, and how many invocations they are.
  std::optional<std::pair<int64_t, int64_t>> failed_runs_in;  // (runs, invocations)
  // The invocations of the whole range that the search and filters find (up to kTotalCap: past
  // it, kTotalCap), when asked for with `total_asked`; not for a search that reads the range's
  // children (an event, a job, an error text), whose count would cost a read of every match, nor
  // for a function's whole list, which window_totals counts from the rollups.
  static constexpr int64_t kTotalCap = 10000;
  bool total_asked = false;
  std::optional<int64_t> total;
};

// The figures of a window, one definition for every page (`serve`, `report`, `show`): the
// invocations that started in [since, until), and of them those that completed, the failed jobs
// they ran (their total_jobs_failed), the mean and the p95 of their durations (p95 as
// percentile_cont, within 1 %). Success rate is completed / invocations.
// Job health beside it: the jobs those invocations ran, and of them those that succeeded; the
// rest, neither succeeded nor failed, have no end: abandoned (their invocation was cut off:
// job status 'abandoned') or still running.
struct Totals {
  int64_t invocations = 0, completed = 0, failed_jobs = 0;
  int64_t jobs_run = 0, jobs_succeeded = 0, jobs_abandoned = 0;
  std::optional<double> avg_ms, p95_ms;
  int64_t jobs_without_end() const { return jobs_run - jobs_succeeded - failed_jobs; }
};

// Per job or event name over a time range: the analytics page.
// The most common error of a name is that of its latest failures in the range, this many.
constexpr size_t kErrorSample = 200;

// One function's invocations of one hour of a window: completed, failed or abandoned, p95.
struct HourFigures {
  std::string function;
  Timestamp hour = 0;
  int64_t ok = 0, failed = 0;
  std::optional<double> p95_ms;
};

// The failures of jobs, handlers and detections whose messages read the same once ids, hex and
// numbers are masked (sql::masked_error), as an error tracker groups them: the errors page.
constexpr int kTrendBuckets = 24;  // a group's trend: its failures in this many equal parts of the window
struct ErrorGroup {
  std::string message;  // masked
  int64_t count = 0;
  Timestamp first_seen = 0, last_seen = 0;
  std::vector<int64_t> trend;  // kTrendBuckets counts, oldest first
  std::vector<std::string> functions;  // the functions of the invocations they failed in
  std::vector<std::string> names;      // "job NAME", "event NAME"
  std::string newest_invocation, oldest_invocation;
  std::string sample;  // the newest failure's message, unmasked
};
struct ErrorGroups {
  std::vector<ErrorGroup> groups;  // most failures first, at most the limit asked for
  int64_t failures = 0, group_count = 0;  // of the whole window, past the limit too
};

// The analytics page's figures of a window.
// Durations in bins of whole milliseconds [lo, hi] (the last one open), each bin a run of the
// duration sketch's buckets (core/duration_sketch.h), so a window's bins add up from the hourly
// rollups exactly: the edges are where the buckets of 10, 30, 100, 300 ms ... 100 s end.
struct DurationBin {
  int64_t lo = 0, hi = 0;  // hi: INT64_MAX for the last
};
const std::vector<DurationBin>& duration_bins();
struct FunctionHistogram {
  std::string function;
  std::vector<int64_t> counts;  // one per duration_bins()
};
// The invocations by source table and operation, and the users with the most.
struct SourceCount {
  std::optional<std::string> table, operation, user;
  int64_t invocations = 0, failed = 0;  // failed: failed or abandoned
  std::optional<double> avg_ms;
};
struct SourceBreakdown {
  std::vector<SourceCount> by_source, top_users;
};

struct NameStats {
  std::string name;
  int64_t runs = 0, failed = 0, detected = 0, abandoned = 0;  // abandoned: jobs only
  std::optional<double> p50_ms, p95_ms;
  std::optional<std::string> common_error;
};

class ViewReader {
 public:
  explicit ViewReader(pqxx::connection& conn, ViewLimits limits = {}) : conn_(conn), limits_(limits) {}

  // The ids that start with `prefix` (hex digits, dashes anywhere), at most `limit` of them.
  // An empty result for a prefix that is not hex.
  std::vector<std::string> find_ids(std::string_view prefix, size_t limit = 2);
  // One invocation with its events, jobs, log lines and chain links (and its Hasura payload,
  // pretty-printed, when asked); nullopt when unknown.
  std::optional<InvocationView> invocation(const std::string& id, bool with_payload = false);
  // The chain `id` is part of: from the invocation that started it (the caused-by links followed
  // up, at most kChainUp steps) down through every invocation its jobs caused, breadth first, at
  // most `limit` invocations; without log lines or payloads (but `known`'s, the invocation `id`
  // when the caller has read it already). Empty when `id` is unknown.
  static constexpr int kChainUp = 20;
  std::vector<InvocationView> chain(const std::string& id, size_t limit, const InvocationView* known = nullptr);
  // The invocations of one correlation id, oldest first.
  std::vector<std::string> correlated(const std::string& correlation_id, size_t limit);
  // The window's Totals, exact: its hours from metrics_hourly, each hour it cuts as the rows
  // inside it or the hour's rollup less the rows outside (whichever are fewer: at most half an
  // hour of rows at either end, whatever the window).
  Totals window_totals(Timestamp since, Timestamp until, const std::optional<std::string>& function);
  // Failed and abandoned invocations created at or after `since`, newest first.
  std::vector<InvocationSummary> failed(Timestamp since, const std::optional<std::string>& function, size_t limit,
                                        std::optional<Timestamp> until = std::nullopt);
  // How many invocations failed() would list without its limit.
  int64_t count_failed(Timestamp since, const std::optional<std::string>& function,
                       std::optional<Timestamp> until = std::nullopt);
  // The slowest invocations created at or after `since`, slowest first.
  std::vector<InvocationSummary> slowest(Timestamp since, const std::optional<std::string>& function, size_t limit,
                                         std::optional<Timestamp> until = std::nullopt);
  // One page of invocations, newest first.
  std::vector<InvocationSummary> search(const InvocationQuery& q, SearchReport* report = nullptr);
  // Per function and hour, the invocations of [since, until) (the window's first and last hour
  // only their part inside it: from the rows), by function then hour, at most `limit` rows.
  std::vector<HourFigures> hourly(Timestamp since, Timestamp until, const std::optional<std::string>& function,
                                  size_t limit);
  // Jobs (or events) by name, of the invocations that started in [since, until), exactly (whole
  // hours from name_metrics_hourly, the partial hours from the rows): counts, failure rate,
  // p50/p95 within 1 %, the most common of the latest kErrorSample errors. Most failures first.
  std::vector<NameStats> job_stats(Timestamp since, Timestamp until, const std::optional<std::string>& function, size_t limit);
  std::vector<NameStats> event_stats(Timestamp since, Timestamp until, const std::optional<std::string>& function, size_t limit);
  // The same counts alone (no percentiles, no errors) of the names with any `order_by` ("failed"
  // or "detected"), most first: the overview's lists.
  std::vector<NameStats> name_counts(const char* kind, const char* order_by, Timestamp since, Timestamp until,
                                     const std::optional<std::string>& function, size_t limit);
  // The durations of the invocations that started in [since, until), per function, in
  // duration_bins(): whole hours from metrics_hourly's sketches, the partial hours from the rows.
  std::vector<FunctionHistogram> duration_histograms(Timestamp since, Timestamp until,
                                                     const std::optional<std::string>& function);
  // The invocations that started in [since, until) by table and operation, and the `users` users
  // with the most (one read of the window's rows).
  SourceBreakdown source_breakdown(Timestamp since, Timestamp until, const std::optional<std::string>& function,
                                   size_t users);
  // The failures created in [since, until) grouped by their masked message, at most `limit` groups.
  ErrorGroups error_groups(Timestamp since, Timestamp until, const std::optional<std::string>& function, size_t limit);
  // The newest ts any load has seen (windows are counted back from it); nullopt when empty.
  std::optional<Timestamp> watermark();

  pqxx::connection& connection() { return conn_; }
  const ViewLimits& limits() const { return limits_; }

 private:
  using ErrorsOf = std::string (*)(const std::string& name_param, const std::string& days);
  std::vector<NameStats> name_stats_of(const char* kind, ErrorsOf errors_of, Timestamp since,
                                       Timestamp until, const std::optional<std::string>& function, size_t limit);

  // Invocation summaries that meet `condition` (SQL over `i`), created at or after `since` (and
  // before `until`, when given).
  std::vector<InvocationSummary> summaries_since(const std::string& condition, const std::string& order, Timestamp since,
                                                 const std::optional<std::string>& function, size_t limit,
                                                 std::optional<Timestamp> until);
  // The invocations of `ids` (the unknown ones left out, the rest in their order) with their
  // events, jobs and the invocations those caused, read a statement per table for all of them;
  // their Hasura payload when asked, no log lines.
  std::vector<InvocationView> read_views(pqxx::transaction_base& tx, const std::vector<Uuid>& ids, bool with_payload);

  pqxx::connection& conn_;
  ViewLimits limits_;
};

// A read-only transaction with the statement timeout of `limits`.
class ReadTransaction {
 public:
  ReadTransaction(pqxx::connection& conn, const ViewLimits& limits);
  pqxx::read_transaction& operator*() { return tx_; }
  pqxx::read_transaction* operator->() { return &tx_; }

 private:
  pqxx::read_transaction tx_;
};

// The range of uuids a hex prefix covers: [low, high] as uuid text; nullopt when `prefix` holds
// anything but hex digits and dashes, or more than 32 digits.
std::optional<std::pair<std::string, std::string>> uuid_prefix_range(std::string_view prefix);

}  // namespace edpipe::view
