#include "db_commands.h"

#include <boost/program_options.hpp>
#include <iostream>

#include "arguments.h"
#include "migrator.h"
#include "pg_connection.h"
#include "verifier.h"

namespace edpipe::cli {
namespace po = boost::program_options;

int run_migrate(const std::vector<std::string>& args) {
  std::string db, action;
  std::vector<std::string> rest;
  po::options_description visible(
      "Usage: edpipe migrate up [N] | down [N] | status [--db DB]\n"
      "\n"
      "Apply (up: all pending, or the next N), revert (down: the last one, or the last N) or list the\n"
      "schema migrations. Each runs in one transaction and checks what it did; schema_migrations\n"
      "records what is applied.\n"
      "\n"
      "Options");
  visible.add_options()("help,h", "show this help and exit")("db", po::value(&db)->value_name("DB"), kDbOptionHelp);
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
  if (!rest.empty()) {
    if (rest.size() > 1 || rest[0].find_first_not_of("0123456789") != std::string::npos || rest[0].empty())
      throw UsageError("migrate " + action + ": N must be a whole number");
    count = std::stoi(rest[0]);
  }
  const std::string conninfo = resolve_conninfo(db);
  auto conn = open_connection(conninfo);
  Migrator m(*conn);
  try {
    if (action == "status") {
      for (const auto& s : m.status())
        std::printf("%03d  %-28s %s\n", s.version, s.name.c_str(), s.applied ? ("applied " + s.applied_at).c_str() : "pending");
      return kExitOk;
    }
    const auto done = action == "up" ? m.up(count) : m.down(count);
    if (done.empty()) std::cout << "edpipe migrate: nothing to do (schema version " << m.current_version() << ")\n";
    for (const auto& s : done)
      std::printf("%s %03d %s\n", action == "up" ? "applied " : "reverted", s.version, s.name.c_str());
  } catch (const std::exception& e) {
    std::cerr << "edpipe: migrate " << action << " failed (nothing of the failing migration was kept): "
              << mask_secrets(e.what(), conninfo) << "\n";
    return kExitInputError;
  }
  return kExitOk;
}

int run_verify(const std::vector<std::string>& args) {
  std::string db;
  po::options_description visible(
      "Usage: edpipe verify [--db DB]\n"
      "\n"
      "Check that every metrics_hourly row equals a from-scratch GROUP BY over the base tables\n"
      "(percentiles within the histogram's 1 %) and that every invocation's counts equal its\n"
      "children's. Lists each row that differs.\n"
      "\n"
      "Exit status: 0 consistent, 3 differences found, 1 the database could not be read, 2 bad usage.\n"
      "\n"
      "Options");
  visible.add_options()("help,h", "show this help and exit")("db", po::value(&db)->value_name("DB"), kDbOptionHelp);
  const po::variables_map vm = parse_command("verify", args, visible);
  if (vm.count("help")) {
    std::cout << visible;
    return kExitOk;
  }
  const std::string conninfo = resolve_conninfo(db);
  auto conn = open_connection(conninfo);
  VerifyReport rep;
  try {
    rep = verify_database(*conn);
  } catch (const std::exception& e) {
    std::cerr << "edpipe: verify: " << mask_secrets(e.what(), conninfo) << "\n";
    return kExitInputError;
  }
  for (const auto& d : rep.differences) std::cout << d << "\n";
  std::cout << "edpipe verify: " << rep.hours_checked << " hourly rows, " << rep.invocations_checked << " invocations: "
            << (rep.ok() ? "consistent" : std::to_string(rep.differences.size()) + " differences") << "\n";
  return rep.ok() ? kExitOk : 3;
}

}  // namespace edpipe::cli
