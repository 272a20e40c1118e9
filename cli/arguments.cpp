#include "cli/arguments.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>

namespace edpipe::cli {

boost::program_options::variables_map parse_command(const std::string& command, const std::vector<std::string>& args,
                                                   const boost::program_options::options_description& options,
                                                   const boost::program_options::positional_options_description* positional) {
  namespace po = boost::program_options;
  po::variables_map vm;
  try {
    po::command_line_parser parser(args);
    parser.options(options);
    parser.style(po::command_line_style::default_style & ~po::command_line_style::allow_guessing);
    const po::positional_options_description none;  // a command without operands refuses them
    parser.positional(positional ? *positional : none);
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
  int shift = 0;
  if (unit == "K" || unit == "k" || unit == "KB") shift = 10;
  else if (unit == "M" || unit == "MB") shift = 20;
  else if (unit == "G" || unit == "GB") shift = 30;
  else if (!unit.empty() && unit != "B") throw bad();
  if (n > (uint64_t{1} << 40) >> shift) throw UsageError("--" + option + ": '" + text + "' is more than 1 TB");
  return n << shift;
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
    if (unit.empty() && !(i == 0 && k == text.size() && n == 0))
      throw UsageError("--" + option + ": '" + text + "' needs a unit (examples: " + text + "s, " + text + "m)");
    if (unit == "s") mult = kMicrosPerSecond;
    else if (unit == "ms") mult = 1000;
    else if (unit == "m" || unit == "min") mult = 60 * kMicrosPerSecond;
    else if (unit == "h") mult = kMicrosPerHour;
    else if (unit == "d") mult = 24 * kMicrosPerHour;
    else if (unit.empty()) mult = 0;  // "0"
    else throw bad();
    constexpr Timestamp kMax = 100LL * 365 * 24 * kMicrosPerHour;  // a century: beyond, a typo
    if (mult != 0 && (n > kMax / mult || total + n * mult > kMax)) throw bad();
    total += n * mult;
    i = k;
  }
  return total;
}

template <class T>
T parse_number(const std::string& text, const std::string& option, T min, T max) {
  T v{};
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, v);
  const bool finite = [&] {
    if constexpr (std::is_floating_point_v<T>) return std::isfinite(v);
    return true;
  }();
  if (text.empty() || ec != std::errc() || ptr != end || !finite || v < min || v > max) {
    const char* what = std::is_floating_point_v<T> ? "a number" : "a whole number";
    throw UsageError("--" + option + ": must be " + what + " from " + format_number(min) + " to " + format_number(max) +
                     ", got '" + text + "'");
  }
  return v;
}
template double parse_number(const std::string&, const std::string&, double, double);
template uint64_t parse_number(const std::string&, const std::string&, uint64_t, uint64_t);
template uint32_t parse_number(const std::string&, const std::string&, uint32_t, uint32_t);
template int parse_number(const std::string&, const std::string&, int, int);

std::string format_number(double v) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}
std::string format_number(uint64_t v) { return std::to_string(v); }
std::string format_number(uint32_t v) { return std::to_string(v); }
std::string format_number(int v) { return std::to_string(v); }

Timestamp parse_time_arg(const std::string& text, const std::string& option) {
  if (auto t = parse_rfc3339(text)) return *t;
  throw UsageError("--" + option + ": '" + text + "' is not an RFC 3339 time (example: 2026-11-20T00:00:00Z)");
}

}  // namespace edpipe::cli
