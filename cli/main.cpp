// edpipe: the executable only parses the command line and wires the stages together.
#include <iostream>
#include <string>
#include <vector>

#include "arguments.h"
#include "gen_command.h"
#include "load_command.h"

namespace {

const char* kHelp =
    "edpipe - turn event detector trace logs into an observability database\n"
    "\n"
    "Usage: edpipe <command> [OPTIONS] [ARGS]\n"
    "\n"
    "Commands:\n"
    "  load    read trace records (files, directories, globs, .gz, stdin), rebuild invocations,\n"
    "          events, jobs and logs, roll them up per hour; --dry-run reports without a database\n"
    "  gen     write a realistic synthetic corpus for samples, tests and benchmarks\n"
    "\n"
    "Options:\n"
    "  -h, --help     show this help (or a command's: edpipe load --help)\n"
    "  --version      print the version\n"
    "\n"
    "Exit status: 0 success, 1 an input could not be read or the run failed, 2 bad usage.\n";

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
    if (command == "gen") return run_gen(rest);
    throw UsageError("unknown command '" + command + "'");
  } catch (const UsageError& e) {
    std::cerr << "edpipe: " << e.what() << "\nTry 'edpipe " << (command == "load" || command == "gen" ? command + " " : "")
              << "--help' for more information.\n";
    return kExitUsage;
  } catch (const std::exception& e) {
    std::cerr << "edpipe: " << e.what() << "\n";
    return kExitInputError;
  }
}
