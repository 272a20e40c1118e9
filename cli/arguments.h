#pragma once
// Command-line plumbing shared by the commands: usage errors, durations, exit codes.
#include <boost/program_options.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/timestamp.h"

namespace edpipe::cli {

// Exit statuses scripts can rely on.
constexpr int kExitOk = 0;
constexpr int kExitInputError = 1;  // an input could not be read, or the run failed
constexpr int kExitUsage = 2;
constexpr int kExitDifferences = 3;  // verify: the database differs from its rows

// Bad usage: printed as "edpipe: <message>" plus a hint, exit status 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Parses a command's arguments; any problem becomes a UsageError naming the command. Long
// options must be written whole: an abbreviation is an unknown option.
boost::program_options::variables_map parse_command(
    const std::string& command, const std::vector<std::string>& args,
    const boost::program_options::options_description& options,
    const boost::program_options::positional_options_description* positional = nullptr);

std::string format_number(double v);  // the shortest text that reads back as v
std::string format_number(uint64_t v);
std::string format_number(uint32_t v);
std::string format_number(int v);

// A numeric option read as text, so that its help shows the default as written ("0.05") and
// "-1" is not taken as 2^64-1: whole text a number of type T within [min, max], or bad usage.
template <class T>
T parse_number(const std::string& text, const std::string& option, T min, T max);
template <class T>
boost::program_options::typed_value<std::string>* number_option(T& target, T min, T max, const std::string& option,
                                                                 const char* value_name = "N") {
  auto* v = boost::program_options::value<std::string>()->value_name(value_name)->default_value(format_number(target));
  v->notifier([&target, min, max, option](const std::string& text) { target = parse_number(text, option, min, max); });
  return v;
}
// "15m", "900s", "1h30m", "2d", "250ms". A bare number other than 0 is bad usage: 15 what?
Timestamp parse_duration(const std::string& text, const std::string& option);
// "1048576", "512K", "1M", "2G": bytes.
uint64_t parse_size(const std::string& text, const std::string& option);
Timestamp parse_time_arg(const std::string& text, const std::string& option);

}  // namespace edpipe::cli
