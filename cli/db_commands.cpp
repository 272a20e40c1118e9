#include "cli/db_commands.h"

#include <boost/program_options.hpp>
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "cli/arguments.h"
#include "core/json_text.h"
#include "load/migrator.h"
#include "load/pg_connection.h"
#include "load/retention.h"
#include "load/verifier.h"

namespace edpipe::cli {
namespace po = boost::program_options;

namespace {

// The rows a database holds, table by table (tables not there are left out).
std::vector<std::pair<std::string, int64_t>> rows_held(pqxx::connection& conn) {
  std::vector<std::pair<std::string, int64_t>> out;
  pqxx::read_transaction tx(conn);
  for (const char* t : {"invocations", "event_executions", "job_executions", "job_logs", "metrics_hourly"}) {
    if (tx.exec_params("SELECT to_regclass($1)", std::string(t))[0][0].is_null()) continue;
    out.emplace_back(t, tx.exec(std::string("SELECT count(*) FROM ") + t)[0][0].as<int64_t>());
  }
  return out;
}

// Reverting migrations of a database that holds rows loses data: said, and confirmed first.
bool confirm_down(pqxx::connection& conn, load::Migrator& m, int count, bool yes) {
  std::vector<load::MigrationStatus> applied;
  for (const auto& s : m.status())
    if (s.applied) applied.push_back(s);
  if (applied.empty()) throw UsageError("migrate down " + std::to_string(count) + ": no migration is applied");
  if (count > static_cast<int>(applied.size()))
    throw UsageError("migrate down " + std::to_string(count) + ": only " + std::to_string(applied.size()) +
                     " migrations are applied (`edpipe migrate down " + std::to_string(applied.size()) +
                     " --yes` reverts them all)");
  int64_t total = 0;
  std::string held;
  for (const auto& [table, n] : rows_held(conn)) {
    total += n;
    held += (held.empty() ? "" : ", ") + std::to_string(n) + " " + table;
  }
  if (total == 0 || yes) return true;
  std::string which;
  for (int i = 0; i < count; ++i) {
    const auto& s = applied[applied.size() - 1 - size_t(i)];
    char v[8];
    std::snprintf(v, sizeof v, "%03d", s.version);
    which += (i ? ", " : "") + std::string(v) + " " + s.name;
  }
  const bool drops_tables = count == static_cast<int>(applied.size());
  std::cerr << "edpipe migrate down " << count << " reverts " << which << ".\nThe database holds " << held << ".\n"
            << (drops_tables ? "Reverting 001 deletes all " + std::to_string(total) + " rows.\n"
                             : "What those migrations added (columns, tables, indexes) goes with its data.\n");
  if (!::isatty(STDIN_FILENO))
    throw UsageError("migrate down: the database holds rows; add --yes to revert all the same");
  std::cerr << "Revert? [y/N] " << std::flush;
  std::string answer;
  std::getline(std::cin, answer);
  return answer == "y" || answer == "Y" || answer == "yes";
}

}  // namespace

int run_migrate(const std::vector<std::string>& args) {
  std::string db, action;
  std::vector<std::string> rest;
  bool yes = false, json = false;
  po::options_description visible(
      "Usage: edpipe migrate up [N] | down [N] [--yes] | status [--json] [--db DB]\n"
      "\n"
      "Apply (up: all pending, or the next N), revert (down: the last one, or the last N) or list the\n"
      "schema migrations. Each runs in one transaction and checks what it did; schema_migrations\n"
      "records what is applied. Reverting migrations of a database that holds rows asks first\n"
      "(or needs --yes when standard input is not a terminal).\n"
      "\n"
      "Options");
  visible.add_options()("help,h", "show this help and exit")("db", po::value(&db)->value_name("DB"), kDbOptionHelp)(
      "yes", po::bool_switch(&yes), "down: revert even though the database holds rows")(
      "json", po::bool_switch(&json), "status: one JSON object on stdout");
  po::options_description hidden;
  hidden.add_options()("action", po::value(&action))("rest", po::value(&rest));
  po::options_description all;
  all.add(visible).add(hidden);
  po::positional_options_description pos;
  pos.add("action", 1).add("rest", -1);
  const po::variables_map vm = parse_command("migrate", args, all, &pos);
  if (vm.count("help")) {
    std::cout << visible;
    return kExitOk;
  }
  if (action != "up" && action != "down" && action != "status")
    throw UsageError("migrate: expected up, down or status" + (action.empty() ? std::string() : ", got '" + action + "'"));
  int count = action == "up" ? -1 : 1;
  if (action == "status" && !rest.empty()) throw UsageError("migrate status: takes no argument, got '" + rest[0] + "'");
  if (!rest.empty()) {
    if (rest.size() > 1) throw UsageError("migrate " + action + ": takes one N at most");
    count = parse_number(rest[0], "migrate " + action + " N", 1, 1000);
  }
  const std::string conninfo = load::resolve_conninfo(db);
  auto conn = load::open_connection(conninfo);
  load::Migrator m(*conn);
  try {
    if (action == "status") {
      const auto all = m.status();
      if (json) {
        std::string o = "{\"version\":" + std::to_string(m.current_version()) +
                        ",\"latest\":" + std::to_string(m.latest_version()) + ",\"migrations\":[";
        for (size_t i = 0; i < all.size(); ++i) {
          o += (i ? "," : "") + std::string("{\"version\":") + std::to_string(all[i].version) + ",\"name\":" +
               json_string(all[i].name) + ",\"applied\":" + (all[i].applied ? "true" : "false") + ",\"applied_at\":" +
               (all[i].applied ? json_string(all[i].applied_at) : "null") + "}";
        }
        std::cout << o << "]}\n";
        return kExitOk;
      }
      for (const auto& s : all)
        std::printf("%03d  %-28s %s\n", s.version, s.name.c_str(), s.applied ? ("applied " + s.applied_at).c_str() : "pending");
      return kExitOk;
    }
    if (action == "down" && !confirm_down(*conn, m, count, yes)) {
      std::cerr << "edpipe migrate: nothing reverted\n";
      return kExitInputError;
    }
    const auto done = action == "up" ? m.up(count) : m.down(count);
    if (done.empty()) std::cout << "edpipe migrate: nothing to do (schema version " << m.current_version() << ")\n";
    for (const auto& s : done)
      std::printf("%s %03d %s\n", action == "up" ? "applied " : "reverted", s.version, s.name.c_str());
  } catch (const UsageError&) {
    throw;
  } catch (const std::exception& e) {
    std::cerr << "edpipe: migrate " << action << " failed (nothing of the failing migration was kept): "
              << load::mask_secrets(e.what(), conninfo) << "\n";
    return kExitInputError;
  }
  return kExitOk;
}

int run_verify(const std::vector<std::string>& args) {
  std::string db;
  bool json = false;
  po::options_description visible(
      "Usage: edpipe verify [--json] [--db DB]\n"
      "\n"
      "Check that every metrics_hourly row equals a from-scratch GROUP BY over the base tables\n"
      "(p50/p95/p99 within 1 % + 1 ms of percentile_cont) and that every invocation's counts equal its\n"
      "children's. Lists each row that differs.\n"
      "\n"
      "Exit status: 0 consistent, 3 differences found, 1 the database could not be read, 2 bad usage.\n"
      "\n"
      "Options");
  visible.add_options()("help,h", "show this help and exit")("db", po::value(&db)->value_name("DB"), kDbOptionHelp)(
      "json", po::bool_switch(&json), "one JSON object on stdout: hours and invocations checked, the differences");
  const po::variables_map vm = parse_command("verify", args, visible);
  if (vm.count("help")) {
    std::cout << visible;
    return kExitOk;
  }
  const std::string conninfo = load::resolve_conninfo(db);
  auto conn = load::open_connection(conninfo);
  load::VerifyReport rep;
  try {
    load::require_latest_schema(*conn);
    rep = load::verify_database(*conn);
  } catch (const std::exception& e) {
    std::cerr << "edpipe: verify: " << load::mask_secrets(e.what(), conninfo) << "\n";
    return kExitInputError;
  }
  if (json) {
    std::string o = "{\"consistent\":" + std::string(rep.ok() ? "true" : "false") +
                    ",\"hours_checked\":" + std::to_string(rep.hours_checked) +
                    ",\"invocations_checked\":" + std::to_string(rep.invocations_checked) + ",\"differences\":[";
    for (size_t i = 0; i < rep.differences.size(); ++i) o += (i ? "," : "") + json_string(rep.differences[i]);
    std::cout << o << "]}\n";
    return rep.ok() ? kExitOk : kExitDifferences;
  }
  for (const auto& d : rep.differences) std::cout << d << "\n";
  if (rep.horizon) std::cout << "(hours before the retention horizon " << format_rfc3339(*rep.horizon) << " not checked: their detail was pruned)\n";
  std::cout << "edpipe verify: " << rep.hours_checked << " hourly rows, " << rep.invocations_checked << " invocations: "
            << (rep.ok() ? "consistent" : std::to_string(rep.differences.size()) + " differences") << "\n";
  return rep.ok() ? kExitOk : kExitDifferences;
}

int run_prune(const std::vector<std::string>& args) {
  std::string db, keep_text = "30d", before_text, keep_rollups_text;
  bool dry_run = false, from_now = false, vacuum = false;
  uint32_t batch = 1000, max_batches = 0;
  double rest = load::PruneOptions{}.rest;
  po::options_description visible(
      "Usage: edpipe prune [--keep 30d | --before TIMESTAMP] [--from-now] [--keep-rollups DURATION]\n"
      "                    [--dry-run] [--batch 1000] [--max-batches N] [--rest 4] [--vacuum] [--db DB]\n"
      "\n"
      "Delete the invocations whose every record is older than the retention horizon, with their\n"
      "event executions, job executions and log lines; the hourly rollups stay (unless --keep-rollups).\n"
      "The horizon is counted back from the newest record loaded (--from-now: from the clock), sits\n"
      "on an hour, only moves forward and is remembered: later loads leave out records older than it\n"
      "(counted as beyond_retention) and never bring a pruned invocation back. Runs in short\n"
      "transactions, so loads go on meanwhile; it can be interrupted and run again at any point.\n"
      "Run it as the schema's admin (schema/roles.sql).\n"
      "\n"
      "Options");
  visible.add_options()("help,h", "show this help and exit")("db", po::value(&db)->value_name("DB"), kDbOptionHelp)(
      "keep", po::value(&keep_text)->value_name("DURATION")->default_value("30d"), "how much detail to keep")(
      "before", po::value(&before_text)->value_name("TIMESTAMP"), "the horizon itself (RFC 3339), instead of --keep")(
      "from-now", po::bool_switch(&from_now), "count --keep back from the clock, not from the newest record")(
      "keep-rollups", po::value(&keep_rollups_text)->value_name("DURATION"), "also delete the hourly rollups (metrics_hourly, name_metrics_hourly) older than this (default: keep forever)")(
      "dry-run", po::bool_switch(&dry_run), "print what would be deleted, delete nothing")(
      "batch", number_option(batch, 10u, 100000u, "batch"), "invocations per transaction (10-100000)")(
      "max-batches", number_option(max_batches, 0u, 100000000u, "max-batches"), "stop after this many (0: until done)")(
      "rest", number_option(rest, 0.0, 100.0, "rest", "FACTOR"),
      "while a load runs beside it, rest after each batch this many times as long as the batch took, so the load "
      "keeps its pace (0-100; 0: never rest)")(
      "vacuum", po::bool_switch(&vacuum), "VACUUM the detail tables afterwards: the freed space is reused at once");
  const po::variables_map vm = parse_command("prune", args, visible);
  if (vm.count("help")) {
    std::cout << visible << "\nExample (nightly, after the replay):\n  edpipe prune --keep 30d\n";
    return kExitOk;
  }
  load::PruneOptions o;
  o.keep = parse_duration(keep_text, "keep");
  if (o.keep <= 0) throw UsageError("--keep must be longer than 0");
  if (!before_text.empty()) {
    if (!vm["keep"].defaulted()) throw UsageError("prune: give --keep or --before, not both");
    o.before = parse_time_arg(before_text, "before");
  }
  o.from_now = from_now;
  if (!keep_rollups_text.empty()) {
    o.keep_rollups = parse_duration(keep_rollups_text, "keep-rollups");
    if (*o.keep_rollups < o.keep) throw UsageError("--keep-rollups must not be shorter than --keep");
  }
  o.dry_run = dry_run;
  o.batch = batch;
  o.max_batches = max_batches;
  o.rest = rest;
  o.vacuum = vacuum;
  const std::string conninfo = load::resolve_conninfo(db);
  auto conn = load::open_connection(conninfo);
  try {
    load::require_latest_schema(*conn);
    const bool tty = ::isatty(STDERR_FILENO);
    const auto r = load::prune(*conn, o, [&](const load::PruneResult& p) {
      if (tty) std::cerr << "\rprune: " << p.invocations << " invocations deleted, batch " << p.batches << std::flush;
    });
    if (tty && r.batches) std::cerr << "\n";
    if (dry_run) {
      std::cout << "edpipe prune --dry-run: horizon " << format_rfc3339(r.horizon) << "; would delete " << r.invocations
                << " invocations, " << r.event_executions << " event_executions, " << r.job_executions
                << " job_executions, " << r.job_logs << " job_logs" << (o.keep_rollups ? ", " + std::to_string(r.rollups) + " metrics_hourly rows" : "")
                << "\n";
      return kExitOk;
    }
    std::cout << "edpipe prune: horizon " << format_rfc3339(r.horizon) << (r.horizon_moved ? "" : " (unchanged: it never moves back)")
              << "; " << r.invocations << " invocations deleted with their detail in " << r.batches << " batch"
              << (r.batches == 1 ? "" : "es")
              << (r.days_dropped ? " (" + std::to_string(r.days_dropped) + " of them whole days, their partitions dropped)" : "")
              << (r.rests ? " (rested after " + std::to_string(r.rests) + ": a load ran beside it)" : "")
              << (o.keep_rollups ? ", " + std::to_string(r.rollups) + " metrics_hourly rows" : "")
              << (r.complete ? "" : "; stopped by --max-batches: run it again to go on")
              << (r.vacuumed ? "; vacuumed" : "") << "\n";
  } catch (const load::SchemaError& e) {
    std::cerr << "edpipe: prune: " << e.what() << "\n";
    return kExitInputError;
  } catch (const pqxx::failure& e) {
    std::cerr << "edpipe: prune: " << load::mask_secrets(e.what(), conninfo) << " (what was committed stays; run it again)\n";
    return kExitInputError;
  }
  return kExitOk;
}

}  // namespace edpipe::cli
