#include "sim/core/latency_histogram.hpp"

#include <algorithm>
#include <cmath>

namespace vringsim {

size_t LatencyHistogram::index(uint64_t ns) {
  if (ns < (uint64_t{2} << kSubBits)) return ns;
  const int e = 63 - __builtin_clzll(ns) - kSubBits;  // >= 1
  const uint64_t mantissa = ns >> e;                  // in [1024, 2047]
  return (size_t{2} << kSubBits) + static_cast<size_t>(e - 1) * (size_t{1} << kSubBits) +
         static_cast<size_t>(mantissa - (uint64_t{1} << kSubBits));
}

double LatencyHistogram::midpoint_ns(size_t i) {
  if (i < (size_t{2} << kSubBits)) return static_cast<double>(i);
  const size_t j = i - (size_t{2} << kSubBits);
  const int e = static_cast<int>(j >> kSubBits) + 1;
  const uint64_t mantissa = (uint64_t{1} << kSubBits) + (j & ((size_t{1} << kSubBits) - 1));
  const double lo = static_cast<double>(mantissa << e);
  return lo + (static_cast<double>(uint64_t{1} << e) - 1) / 2;
}

void LatencyHistogram::add(double seconds) {
  const double ns = std::max(0.0, std::round(seconds * 1e9));
  const size_t i = index(static_cast<uint64_t>(ns));
  ++count_;
  sum_ns_ += ns;
  max_ns_ = std::max(max_ns_, ns);
  if (dense_) {
    if (i >= buckets_.size()) buckets_.resize(i + 1, 0);
    ++buckets_[i];
    return;
  }
  const auto at = std::lower_bound(sparse_.begin(), sparse_.end(), i,
                                   [](const Sparse& b, size_t x) { return b.index < x; });
  if (at != sparse_.end() && at->index == i)
    ++at->count;
  else
    sparse_.insert(at, Sparse{static_cast<uint32_t>(i), 1});
  if (count_ >= kSparseMaxSamples || sparse_.size() > kSparseMaxBuckets) make_dense();
}

void LatencyHistogram::make_dense() {
  buckets_.assign(sparse_.empty() ? 0 : sparse_.back().index + 1, 0);
  for (const Sparse& b : sparse_) buckets_[b.index] = b.count;
  std::vector<Sparse>().swap(sparse_);
  dense_ = true;
}

double LatencyHistogram::percentile_us(double p) const {
  if (count_ == 0) return 0.0;
  // Nearest rank ceil(p/100 * n); 99.9/100 * 1000 is 999.0000000000001 in
  // doubles, so allow for the rounding before taking the ceiling.
  const double x = p / 100.0 * static_cast<double>(count_);
  const double r = std::ceil(x - 1e-9 * std::max(1.0, x));
  const uint64_t rank = r < 1 ? 1 : static_cast<uint64_t>(r);
  uint64_t seen = 0;
  if (dense_) {
    for (size_t i = 0; i < buckets_.size(); ++i) {
      seen += buckets_[i];
      if (seen >= rank) return std::min(midpoint_ns(i), max_ns_) / 1e3;
    }
  } else {
    for (const Sparse& b : sparse_) {
      seen += b.count;
      if (seen >= rank) return std::min(midpoint_ns(b.index), max_ns_) / 1e3;
    }
  }
  return max_ns_ / 1e3;
}

}  // namespace vringsim
