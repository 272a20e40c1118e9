#pragma once
// The commands that read the database for people: `show` (terminal) and `report` (HTML).
#include <string>
#include <vector>

#include "cli/db_commands.h"

namespace edpipe::cli {

int run_show(const std::vector<std::string>& args);
int run_report(const std::vector<std::string>& args);

}  // namespace edpipe::cli
