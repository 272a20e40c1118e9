#include "arguments.h"

#include <cctype>

namespace edpipe::cli {

boost::program_options::variables_map parse_command(const std::string& command, const std::vector<std::string>& args,
                                                   const boost::program_options::options_description& options,
                                                   const boost::program_options::positional_options_description* positional) {
  namespace po = boost::program_options;
  po::variables_map vm;
  try {
    po::command_line_parser parser(args);
    parser.options(options);
    if (positional) parser.positional(*positional);
    po::store(parser.run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    throw UsageError(command + ": " + e.what());
  }
  return vm;
}

uint64_t parse_size(const std::string& text, const std::string& option) {
  auto bad = [&] { return UsageError("--" + option + ": '" + text + "' is not a size (examples: 65536, 512K, 1M)"); };
  size_t j = 0;
  while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j]))) ++j;
  if (j == 0 || j > 12) throw bad();
  uint64_t n = std::stoull(text.substr(0, j));
  const std::string unit = text.substr(j);
  if (unit == "K" || unit == "k" || unit == "KB") n <<= 10;
  else if (unit == "M" || unit == "MB") n <<= 20;
  else if (unit == "G" || unit == "GB") n <<= 30;
  else if (!unit.empty() && unit != "B") throw bad();
  return n;
}

Timestamp parse_duration(const std::string& text, const std::string& option) {
  auto bad = [&] {
    return UsageError("--" + option + ": '" + text + "' is not a duration (examples: 90s, 15m, 1h30m, 2d)");
  };
  if (text.empty()) throw bad();
  Timestamp total = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t j = i;
    while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j]))) ++j;
    if (j == i || j - i > 12) throw bad();
    const Timestamp n = std::stoll(text.substr(i, j - i));
    size_t k = j;
    while (k < text.size() && std::isalpha(static_cast<unsigned char>(text[k]))) ++k;
    const std::string unit = text.substr(j, k - j);
    Timestamp mult;
    if (unit.empty() || unit == "s") mult = kMicrosPerSecond;
    else if (unit == "ms") mult = 1000;
    else if (unit == "m" || unit == "min") mult = 60 * kMicrosPerSecond;
    else if (unit == "h") mult = kMicrosPerHour;
    else if (unit == "d") mult = 24 * kMicrosPerHour;
    else throw bad();
    if (unit.empty() && k != text.size()) throw bad();
    total += n * mult;
    i = k;
  }
  return total;
}

Timestamp parse_time_arg(const std::string& text, const std::string& option) {
  if (auto t = parse_rfc3339(text)) return *t;
  throw UsageError("--" + option + ": '" + text + "' is not an RFC 3339 time (example: 2026-11-20T00:00:00Z)");
}

}  // namespace edpipe::cli
