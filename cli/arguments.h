#pragma once
// Command-line plumbing shared by the commands: usage errors, durations, exit codes.
#include <boost/program_options.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "timestamp.h"

namespace edpipe::cli {

// Exit statuses scripts can rely on.
constexpr int kExitOk = 0;
constexpr int kExitInputError = 1;  // an input could not be read, or the run failed
constexpr int kExitUsage = 2;

// Bad usage: printed as "edpipe: <message>" plus a hint, exit status 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Parses a command's arguments; any problem becomes a UsageError naming the command.
boost::program_options::variables_map parse_command(
    const std::string& command, const std::vector<std::string>& args,
    const boost::program_options::options_description& options,
    const boost::program_options::positional_options_description* positional = nullptr);

// "15m", "900s", "1h30m", "2d", "250ms"; a bare number is seconds.
Timestamp parse_duration(const std::string& text, const std::string& option);
// "1048576", "512K", "1M", "2G": bytes.
uint64_t parse_size(const std::string& text, const std::string& option);
Timestamp parse_time_arg(const std::string& text, const std::string& option);

}  // namespace edpipe::cli
