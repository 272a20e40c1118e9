#pragma once
#include <string>
#include <vector>

namespace edpipe::cli {

// `edpipe gen [OPTIONS]`; returns the exit status.
int run_gen(const std::vector<std::string>& args);

}  // namespace edpipe::cli
