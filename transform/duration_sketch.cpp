#include "duration_sketch.h"

#include <algorithm>
#include <cmath>

namespace edpipe {
namespace {
const double kGamma = (1 + DurationSketch::kRelativeAccuracy) / (1 - DurationSketch::kRelativeAccuracy);
const double kLogGamma = std::log(kGamma);
}  // namespace

int32_t DurationSketch::key_of(double v) noexcept { return static_cast<int32_t>(std::ceil(std::log(v) / kLogGamma)); }
double DurationSketch::value_of(int32_t k) noexcept { return 2 * std::pow(kGamma, k) / (kGamma + 1); }

void DurationSketch::add(double v, int64_t n) {
  if (v <= 0) {
    zero_count_ += n;
  } else {
    auto& c = buckets_[key_of(v)];
    c += n;
    if (c == 0) buckets_.erase(key_of(v));
  }
  count_ += n;
}

void DurationSketch::merge(const DurationSketch& o, int64_t sign) {
  zero_count_ += sign * o.zero_count_;
  for (const auto& [k, c] : o.buckets_) {
    auto it = buckets_.try_emplace(k, 0).first;
    it->second += sign * c;
    if (it->second == 0) buckets_.erase(it);
  }
  count_ += sign * o.count_;
}

std::optional<double> DurationSketch::quantile(double q) const {
  if (count_ <= 0) return std::nullopt;
  q = std::clamp(q, 0.0, 1.0);
  const auto rank = static_cast<int64_t>(std::floor(q * static_cast<double>(count_ - 1)));
  if (rank < zero_count_) return 0.0;
  int64_t seen = zero_count_;
  for (const auto& [k, c] : buckets_) {
    seen += c;
    if (seen > rank) return value_of(k);
  }
  return buckets_.empty() ? 0.0 : value_of(buckets_.rbegin()->first);
}

DurationSketch DurationSketch::from_buckets(int64_t zero_count, const std::map<int32_t, int64_t>& buckets) {
  DurationSketch s;
  s.zero_count_ = zero_count;
  s.buckets_ = buckets;
  s.count_ = zero_count;
  for (const auto& [k, c] : buckets) s.count_ += c;
  return s;
}

}  // namespace edpipe
