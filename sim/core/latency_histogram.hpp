// Latencies in constant memory (the latency metric's store).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace vringsim {

/// A log-linear histogram over nanoseconds, exact below 2048 ns, and above
/// within 1/2048 of the value (1024 buckets per power of two). The maximum
/// and the mean are kept exactly.
class LatencyHistogram {
 public:
  void add(double seconds);
  uint64_t count() const { return count_; }
  /// Nearest-rank percentile (p in 0..100), in microseconds: the middle of
  /// the bucket holding it.
  double percentile_us(double p) const;
  double max_us() const { return max_ns_ / 1e3; }
  double mean_us() const { return count_ ? sum_ns_ / static_cast<double>(count_) / 1e3 : 0.0; }

 private:
  static constexpr int kSubBits = 10;
  static size_t index(uint64_t ns);
  static double midpoint_ns(size_t index);
  std::vector<uint64_t> buckets_;
  uint64_t count_ = 0;
  double sum_ns_ = 0, max_ns_ = 0;
};

}  // namespace vringsim
