#pragma once
// A DDSketch-style histogram of durations: fixed logarithmic buckets, no collapsing.
//
// Bucket k holds the values in (γ^(k-1), γ^k] with γ = (1+α)/(1−α), α = 1 %; an order statistic
// is reported as the bucket's midpoint 2γ^k/(γ+1), within α of the true value (exactly, when the
// bucket holds a single whole number of milliseconds, as every bucket below 50 ms does). Because the buckets
// are fixed, two sketches merge by adding counts and a contribution is removed by subtracting:
// exactly, in any order. Durations of 1 ms to 900 s need fewer than 700 buckets.
#include <cstdint>
#include <map>
#include <optional>
#include <utility>
#include <vector>

namespace edpipe {

class DurationSketch {
 public:
  static constexpr double kRelativeAccuracy = 0.01;

  void add(double value_ms, int64_t count = 1);
  void merge(const DurationSketch& other, int64_t sign = 1);  // sign -1 subtracts
  // The value of rank r (0-based, below count()) within α.
  double order_statistic(int64_t rank) const;
  // q in [0, 1], as PostgreSQL's percentile_cont(q): the two order statistics around rank
  // q·(n−1), interpolated linearly; within α of it. Empty: nullopt. The smallest and largest
  // value, when known exactly, replace the estimates of ranks 0 and n−1 and bound the others.
  std::optional<double> quantile(double q, std::optional<int64_t> min = std::nullopt,
                                 std::optional<int64_t> max = std::nullopt) const;
  int64_t count() const noexcept { return count_; }

  // The stored form: zero count and (key, count) pairs, by key, no count 0. Rebuilt by from_buckets.
  // A sorted vector, not a map: a load copies and merges a sketch for every invocation, and a
  // vector is one allocation (a map, one per bucket).
  using Buckets = std::vector<std::pair<int32_t, int64_t>>;
  int64_t zero_count() const noexcept { return zero_count_; }
  const Buckets& buckets() const noexcept { return buckets_; }
  static DurationSketch from_buckets(int64_t zero_count, const std::map<int32_t, int64_t>& buckets);
  static DurationSketch from_buckets(int64_t zero_count, const Buckets& buckets);

  static int32_t key_of(double value) noexcept;
  static double value_of(int32_t key) noexcept;

  bool operator==(const DurationSketch&) const = default;

 private:
  int64_t zero_count_ = 0;  // values <= 0 (sub-millisecond durations rounded to 0)
  void add_to_bucket(int32_t key, int64_t n);
  Buckets buckets_;
  int64_t count_ = 0;
};

}  // namespace edpipe
