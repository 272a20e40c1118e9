#include "core/duration_sketch.h"

#include <algorithm>
#include <cmath>

namespace edpipe {
namespace {
const double kGamma = (1 + DurationSketch::kRelativeAccuracy) / (1 - DurationSketch::kRelativeAccuracy);
const double kLogGamma = std::log(kGamma);
}  // namespace

int32_t DurationSketch::key_of(double v) noexcept { return static_cast<int32_t>(std::ceil(std::log(v) / kLogGamma)); }
double DurationSketch::value_of(int32_t k) noexcept { return 2 * std::pow(kGamma, k) / (kGamma + 1); }

void DurationSketch::add_to_bucket(int32_t key, int64_t n) {
  auto it = std::lower_bound(buckets_.begin(), buckets_.end(), key,
                             [](const std::pair<int32_t, int64_t>& b, int32_t k) { return b.first < k; });
  if (it != buckets_.end() && it->first == key) {
    it->second += n;
    if (it->second == 0) buckets_.erase(it);
  } else if (n != 0) {
    buckets_.insert(it, {key, n});
  }
}

void DurationSketch::add(double v, int64_t n) {
  if (v <= 0) zero_count_ += n;
  else add_to_bucket(key_of(v), n);
  count_ += n;
}

void DurationSketch::merge(const DurationSketch& o, int64_t sign) {
  zero_count_ += sign * o.zero_count_;
  count_ += sign * o.count_;
  if (o.buckets_.empty()) return;
  if (buckets_.empty() && sign == 1) {
    buckets_ = o.buckets_;
    return;
  }
  // Both sorted by key: one pass, into a new vector.
  Buckets merged;
  merged.reserve(buckets_.size() + o.buckets_.size());
  auto a = buckets_.cbegin(), a_end = buckets_.cend();
  auto b = o.buckets_.cbegin(), b_end = o.buckets_.cend();
  while (a != a_end || b != b_end) {
    if (b == b_end || (a != a_end && a->first < b->first)) {
      merged.push_back(*a++);
    } else if (a == a_end || b->first < a->first) {
      merged.emplace_back(b->first, sign * b->second);
      ++b;
    } else {
      const int64_t c = a->second + sign * b->second;
      if (c != 0) merged.emplace_back(a->first, c);
      ++a;
      ++b;
    }
  }
  buckets_ = std::move(merged);
}

double DurationSketch::order_statistic(int64_t rank) const {
  if (rank < zero_count_ || buckets_.empty()) return 0.0;
  int64_t seen = zero_count_;
  int32_t key = buckets_.back().first;  // a rank past the count: the largest bucket
  for (const auto& [k, c] : buckets_) {
    seen += c;
    if (seen > rank) {
      key = k;
      break;
    }
  }
  const double mid = value_of(key);
  // Durations are whole milliseconds: a bucket that holds one whole number holds that value.
  const double whole = std::round(mid);
  if (whole >= 1 && key_of(whole) == key && key_of(whole - 1) != key && key_of(whole + 1) != key) return whole;
  return mid;
}

std::optional<double> DurationSketch::quantile(double q, std::optional<int64_t> min, std::optional<int64_t> max) const {
  if (count_ <= 0) return std::nullopt;
  q = std::clamp(q, 0.0, 1.0);
  const double h = q * static_cast<double>(count_ - 1);
  const auto lo = static_cast<int64_t>(std::floor(h));
  const int64_t hi = std::min(lo + 1, count_ - 1);
  auto at = [&](int64_t r) {
    if (r == 0 && min) return static_cast<double>(*min);
    if (r == count_ - 1 && max) return static_cast<double>(*max);
    double v = order_statistic(r);
    if (min) v = std::max(v, static_cast<double>(*min));
    if (max) v = std::min(v, static_cast<double>(*max));
    return v;
  };
  const double a = at(lo);
  const double frac = h - static_cast<double>(lo);
  return frac == 0 ? a : a + frac * (at(hi) - a);
}

DurationSketch DurationSketch::from_buckets(int64_t zero_count, const std::map<int32_t, int64_t>& buckets) {
  return from_buckets(zero_count, Buckets(buckets.begin(), buckets.end()));
}

DurationSketch DurationSketch::from_buckets(int64_t zero_count, const Buckets& buckets) {
  DurationSketch s;
  s.zero_count_ = zero_count;
  s.count_ = zero_count;
  for (const auto& [k, c] : buckets) {  // as stored: by key, but a count 0 is left out
    if (c != 0) s.buckets_.emplace_back(k, c);
    s.count_ += c;
  }
  return s;
}

}  // namespace edpipe
