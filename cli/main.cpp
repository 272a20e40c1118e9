// edpipe: the executable only parses the command line and wires the stages together.
#include <iostream>
#include <string>
#include <vector>

#include "arguments.h"
#include "db_commands.h"
#include "gen_command.h"
#include "load_command.h"

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
    "  gen      write a realistic synthetic corpus for samples, tests and benchmarks\n"
    "\n"
    "Options:\n"
    "  -h, --help     show this help (or a command's: edpipe load --help)\n"
    "  --version      print the version\n"
    "\n"
    "Exit status: 0 success, 1 an input or the database could not be read or the run failed,\n"
    "2 bad usage, 3 (verify) the database differs from its rows.\n";

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
      std::cout << kHelp;
      return kExitOk;
    }
    if (command == "--version") {
      std::cout << "edpipe " EDPIPE_VERSION "\n";
      return kExitOk;
    }
    if (command == "load") return run_load(rest);
    if (command == "tail") return run_tail(rest);
    if (command == "gen") return run_gen(rest);
    if (command == "migrate") return run_migrate(rest);
    if (command == "verify") return run_verify(rest);
    throw UsageError("unknown command '" + command + "'");
  } catch (const UsageError& e) {
    const bool known = command == "load" || command == "tail" || command == "gen" || command == "migrate" || command == "verify";
    std::cerr << "edpipe: " << e.what() << "\nTry 'edpipe " << (known ? command + " " : "")
              << "--help' for more information.\n";
    return kExitUsage;
  } catch (const std::exception& e) {
    std::cerr << "edpipe: " << e.what() << "\n";
    return kExitInputError;
  }
}
