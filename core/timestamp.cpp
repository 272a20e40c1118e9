#include "core/timestamp.h"

#include <cstdio>
#include <cstring>

namespace edpipe {
namespace {

// Howard Hinnant's days_from_civil: proleptic Gregorian date to days since 1970-01-01.
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) noexcept {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void civil_from_days(int64_t z, int64_t& y, unsigned& m, unsigned& d) noexcept {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

bool is_leap(int64_t y) noexcept { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned days_in_month(int64_t y, unsigned m) noexcept {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}

// N digits at p, which the caller has checked are readable.
template <int N>
[[gnu::always_inline]] inline bool fixed_digits(const char* p, int& out) noexcept {
  int v = 0;
  for (int i = 0; i < N; ++i) {
    const unsigned d = static_cast<unsigned char>(p[i]) - unsigned{'0'};
    if (d > 9) return false;
    v = v * 10 + static_cast<int>(d);
  }
  out = v;
  return true;
}

// The first 10 bytes ("YYYY-MM-DD") of two texts, compared without a library call.
inline bool same_date(const char* a, const char* b) noexcept {
  uint64_t a8, b8;
  uint16_t a2, b2;
  std::memcpy(&a8, a, 8);
  std::memcpy(&b8, b, 8);
  std::memcpy(&a2, a + 8, 2);
  std::memcpy(&b2, b + 8, 2);
  return a8 == b8 && a2 == b2;
}

constexpr Timestamp kMin = -62135596800LL * kMicrosPerSecond;         // 0001-01-01
constexpr Timestamp kMax = 253402300799LL * kMicrosPerSecond + 999999;  // 9999-12-31T23:59:59.999999

// What emitters write, "YYYY-MM-DDTHH:MM:SS.mmmZ", on the date of the text before: the time's
// digits checked and read a word at a time, the date not read again. Anything else (or a
// problem) takes the general path, which gives the same result for this form.
inline std::optional<Timestamp> parse_common_form(std::string_view s, const char* cached_date, int64_t cached_days) noexcept {
  if (s.size() != 24) return std::nullopt;
  const char* p = s.data();
  if (cached_date[0] == '\0' || !same_date(cached_date, p) || p[10] != 'T' || p[19] != '.' || p[23] != 'Z') return std::nullopt;
  uint64_t hms;  // "HH:MM:SS", the first byte lowest
  std::memcpy(&hms, p + 11, 8);
  constexpr uint64_t kDigits = 0xFFFF00FFFF00FFFFULL;  // the bytes that are digits; the others are ':'
  const uint64_t v = hms - 0x3030303030303030ULL;
  // Every byte in '0'..'?' (so no borrow above), the digit bytes at most 9, the others ':'.
  if ((hms & 0xF0F0F0F0F0F0F0F0ULL) != 0x3030303030303030ULL || ((v + 0x0606060606060606ULL) & kDigits & 0xF0F0F0F0F0F0F0F0ULL) ||
      (hms & ~kDigits) != 0x00003A00003A0000ULL)
    return std::nullopt;
  auto byte = [&](int i) { return static_cast<int>((v >> (8 * i)) & 0xFF); };
  const int hour = byte(0) * 10 + byte(1), minute = byte(3) * 10 + byte(4), second = byte(6) * 10 + byte(7);
  const unsigned f0 = static_cast<unsigned char>(p[20]) - unsigned{'0'}, f1 = static_cast<unsigned char>(p[21]) - unsigned{'0'},
                 f2 = static_cast<unsigned char>(p[22]) - unsigned{'0'};
  if (hour > 23 || minute > 59 || second > 60 || f0 > 9 || f1 > 9 || f2 > 9) return std::nullopt;
  const int64_t secs = cached_days * 86400 + hour * 3600 + minute * 60 + second;
  const Timestamp ts = secs * kMicrosPerSecond + (f0 * 100 + f1 * 10 + f2) * 1000;
  if (ts < kMin || ts > kMax) return std::nullopt;
  return ts;
}

}  // namespace

std::optional<Timestamp> parse_rfc3339(std::string_view s, ZoneRule zone) noexcept {
  // Records of one file mostly share their date: the last date's day number is reused.
  thread_local char cached_date[10] = {};  // none yet: a date cached starts with a digit
  thread_local int64_t cached_days = 0;
  if (auto ts = parse_common_form(s, cached_date, cached_days)) return ts;
  int year, month, day, hour, minute, second;
  if (s.size() < 19) return std::nullopt;
  const char* p = s.data();
  if (!fixed_digits<4>(p, year) || p[4] != '-' || !fixed_digits<2>(p + 5, month) || p[7] != '-' ||
      !fixed_digits<2>(p + 8, day))
    return std::nullopt;
  if (p[10] != 'T' && p[10] != 't' && p[10] != ' ') return std::nullopt;
  if (!fixed_digits<2>(p + 11, hour) || p[13] != ':' || !fixed_digits<2>(p + 14, minute) || p[16] != ':' ||
      !fixed_digits<2>(p + 17, second))
    return std::nullopt;
  if (hour > 23 || minute > 59 || second > 60) return std::nullopt;
  int64_t days;
  if (same_date(cached_date, s.data())) {
    days = cached_days;
  } else {
    if (year < 1 || month < 1 || month > 12 || day < 1 || day > static_cast<int>(days_in_month(year, month)))
      return std::nullopt;
    days = days_from_civil(year, month, day);
    std::memcpy(cached_date, s.data(), 10);
    cached_days = days;
  }

  size_t pos = 19;
  int64_t micros = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    size_t start = pos;
    int64_t frac = 0;
    int round_digit = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      size_t n = pos - start;
      if (n < 6) frac = frac * 10 + (s[pos] - '0');
      else if (n == 6) round_digit = s[pos] - '0';
      ++pos;
    }
    size_t n = pos - start;
    if (n == 0 || n > 9) return std::nullopt;
    for (size_t i = n; i < 6; ++i) frac *= 10;
    micros = frac + (round_digit >= 5 ? 1 : 0);  // half up, like PostgreSQL's input
  }

  int64_t offset_seconds = 0;
  if (pos == s.size()) {
    if (zone == ZoneRule::Required) return std::nullopt;
  } else if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    int oh, om;
    if (pos + 6 > s.size() || !fixed_digits<2>(p + pos + 1, oh) || p[pos + 3] != ':' ||
        !fixed_digits<2>(p + pos + 4, om) || oh > 23 || om > 59)
      return std::nullopt;
    offset_seconds = (oh * 3600 + om * 60) * (s[pos] == '+' ? 1 : -1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;

  int64_t secs = days * 86400 + hour * 3600 + minute * 60 + second - offset_seconds;
  Timestamp ts = secs * kMicrosPerSecond + micros;
  if (ts < kMin || ts > kMax) return std::nullopt;
  return ts;
}

std::optional<Timestamp> from_epoch_millis(int64_t ms) noexcept {
  if (ms < kMin / 1000 || ms > kMax / 1000) return std::nullopt;
  return ms * 1000;
}

void append_rfc3339(std::string& out, Timestamp ts) {
  int64_t secs = ts / kMicrosPerSecond;
  int64_t micros = ts % kMicrosPerSecond;
  if (micros < 0) {
    micros += kMicrosPerSecond;
    --secs;
  }
  int64_t days = secs / 86400;
  int64_t rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  // Rows of one batch mostly share their day: its "YYYY-MM-DD" is kept.
  thread_local int64_t cached_day = INT64_MIN;
  thread_local char date[10];
  if (days != cached_day) {
    int64_t y;
    unsigned m, d;
    civil_from_days(days, y, m, d);
    char buf[40];
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u", static_cast<long long>(y), m, d);
    std::memcpy(date, buf, 10);
    cached_day = days;
  }
  char t[27];
  std::memcpy(t, date, 10);
  auto two = [](char* p, int v) {
    p[0] = static_cast<char>('0' + v / 10);
    p[1] = static_cast<char>('0' + v % 10);
  };
  t[10] = 'T';
  two(t + 11, static_cast<int>(rem / 3600));
  t[13] = ':';
  two(t + 14, static_cast<int>(rem / 60 % 60));
  t[16] = ':';
  two(t + 17, static_cast<int>(rem % 60));
  t[19] = '.';
  for (int i = 25; i >= 20; --i) {
    t[i] = static_cast<char>('0' + micros % 10);
    micros /= 10;
  }
  t[26] = 'Z';
  out.append(t, 27);
}

std::string format_rfc3339(Timestamp ts) {
  std::string s;
  s.reserve(27);
  append_rfc3339(s, ts);
  return s;
}

std::string format_date(int32_t days_since_epoch) {
  return format_rfc3339(int64_t{days_since_epoch} * 24 * kMicrosPerHour).substr(0, 10);
}

std::string format_hour(Timestamp hour_start) {
  std::string s = format_rfc3339(hour_start);
  return s.substr(0, 10) + " " + s.substr(11, 5);
}

}  // namespace edpipe
