#pragma once
// The commands that read the database for people: `show` (terminal), `report` (an HTML file)
// and `serve` (a live dashboard).
#include <string>
#include <vector>

#include "cli/db_commands.h"

namespace edpipe::cli {

int run_show(const std::vector<std::string>& args);
int run_report(const std::vector<std::string>& args);
int run_serve(const std::vector<std::string>& args);

}  // namespace edpipe::cli
