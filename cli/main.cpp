// edpipe: the executable only parses the command line and wires the stages together.
#include <iostream>
#include <string>
#include <vector>

#include "cli/arguments.h"
#include "cli/db_commands.h"
#include "cli/gen_command.h"
#include "cli/load_command.h"
#include "cli/view_commands.h"

namespace {

const char* kHelp =
    "edpipe - turn event detector trace logs into an observability database\n"
    "\n"
    "Usage: edpipe <command> [OPTIONS] [ARGS]\n"
    "\n"
    "Commands:\n"
    "  load     read trace records (files, directories, globs, .gz, stdin), rebuild invocations,\n"
    "           events, jobs and logs, roll them up per hour, and load them into PostgreSQL;\n"
    "           --dry-run reports without a database\n"
    "  tail     follow log files like tail -F (rotation, new files, .gz) and load what they get,\n"
    "           with the read positions committed alongside the rows: restarts lose nothing\n"
    "  migrate  apply, revert or list the schema migrations (up [N] | down [N] | status)\n"
    "  verify   check that the hourly metrics and counts equal what the rows say\n"
    "  prune    delete the detail older than a retention horizon; the hourly rollups stay\n"
    "  show     one invocation as a waterfall in the terminal (or a chain, or the recent failures)\n"
    "  report   write one self-contained HTML report of a time window\n"
    "  serve    a read-only live dashboard over HTTP (overview, search, invocations, jobs, events)\n"
    "  gen      write a realistic synthetic corpus for samples, tests and benchmarks\n"
    "\n"
    "Options:\n"
    "  -h, --help     show this help (or a command's: edpipe load --help)\n"
    "  --version      print the version\n"
    "\n"
    "Exit status: 0 success, 1 an input or the database could not be read or the run failed,\n"
    "2 bad usage, 3 (verify) the database differs from its rows.\n";

bool is_command(const std::string& c) {
  return c == "load" || c == "tail" || c == "gen" || c == "migrate" || c == "verify" || c == "show" || c == "report" || c == "serve" || c == "prune";
}

int run(const std::string& command, const std::vector<std::string>& args) {
  using namespace edpipe::cli;
  if (command == "load") return run_load(args);
  if (command == "tail") return run_tail(args);
  if (command == "gen") return run_gen(args);
  if (command == "migrate") return run_migrate(args);
  if (command == "show") return run_show(args);
  if (command == "report") return run_report(args);
  if (command == "serve") return run_serve(args);
  if (command == "prune") return run_prune(args);
  return run_verify(args);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace edpipe::cli;
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    std::cerr << kHelp;
    return kExitUsage;
  }
  const std::string command = args.front();
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  try {
    if (command == "-h" || command == "--help" || command == "help") {
      if (rest.empty()) {
        std::cout << kHelp;
        return kExitOk;
      }
      if (rest.size() > 1 || !is_command(rest[0])) throw UsageError("help: expected one of load, tail, migrate, verify, prune, show, report, serve, gen");
      return run(rest[0], {"--help"});
    }
    if (command == "--version") {
      std::cout << "edpipe " EDPIPE_VERSION "\n";
      return kExitOk;
    }
    if (!is_command(command)) throw UsageError("unknown command '" + command + "'");
    return run(command, rest);
  } catch (const UsageError& e) {
    std::cerr << "edpipe: " << e.what() << "\nTry 'edpipe " << (is_command(command) ? command + " " : "")
              << "--help' for more information.\n";
    return kExitUsage;
  } catch (const std::exception& e) {
    std::cerr << "edpipe: " << e.what() << "\n";
    return kExitInputError;
  } catch (...) {
    std::cerr << "edpipe: stopped by an unexpected error\n";
    return kExitInputError;
  }
}
