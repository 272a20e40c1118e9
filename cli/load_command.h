#pragma once
#include <string>
#include <vector>

namespace edpipe::cli {

// `edpipe load [OPTIONS] [INPUT...]`; returns the exit status.
int run_load(const std::vector<std::string>& args);
// `edpipe tail [OPTIONS] PATH|GLOB...`; returns the exit status.
int run_tail(const std::vector<std::string>& args);

}  // namespace edpipe::cli
