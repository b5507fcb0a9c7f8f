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
  /// Bytes the buckets hold (capacity included).
  size_t bucket_bytes() const {
    return sparse_.capacity() * sizeof(Sparse) + buckets_.capacity() * sizeof(uint64_t);
  }
  /// True once the buckets are one dense array.
  bool dense() const { return dense_; }
  /// Nearest-rank percentile (p in 0..100), in microseconds: the middle of
  /// the bucket holding it.
  double percentile_us(double p) const;
  double max_us() const { return max_ns_ / 1e3; }
  double mean_us() const { return count_ ? sum_ns_ / static_cast<double>(count_) / 1e3 : 0.0; }

 private:
  static constexpr int kSubBits = 10;
  /// A histogram starts sparse: (bucket, count) pairs sorted by bucket. A
  /// dense array up to the largest bucket seen takes 60-170 KB at
  /// millisecond latencies, and a 512-queue run keeps one per queue and per
  /// guest for a few hundred samples each. It turns dense once it holds this
  /// many samples or distinct buckets, where the array costs little more and
  /// adds are cheaper.
  static constexpr uint64_t kSparseMaxSamples = 16384;
  static constexpr size_t kSparseMaxBuckets = 1024;
  struct Sparse {
    uint32_t index;
    uint32_t count;
  };
  static size_t index(uint64_t ns);
  static double midpoint_ns(size_t index);
  void make_dense();
  std::vector<Sparse> sparse_;    ///< while !dense_
  std::vector<uint64_t> buckets_;  ///< once dense_
  bool dense_ = false;
  uint64_t count_ = 0;
  double sum_ns_ = 0, max_ns_ = 0;
};

}  // namespace vringsim
