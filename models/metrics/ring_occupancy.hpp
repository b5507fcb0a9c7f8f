// Ring occupancy: the share of measured time the ring had k descriptors
// posted (published on the avail ring, not yet taken by the device), in 16
// buckets of equal width over the ring's entries (summary.json
// ring.occupancy.share.<i>, with ring.occupancy.bucket_descriptors).
//
// A ring that sits in the lowest buckets runs dry; one in the top bucket has
// capacity to spare. With several queues the run's histogram is the mean of
// the queues' (each over its own ring).
#pragma once

#include <array>
#include <cstdint>

#include "sim/core/metric.hpp"

namespace vringsim {

class RingOccupancy : public Metric {
 public:
  static constexpr int kBuckets = 16;
  explicit RingOccupancy(const MetricContext& ctx);
  void attach(Signals& signals) override;
  void finish(double end) override;
  void write(Json& summary, double end) const override;
  void total_from_queues(Json& run, std::span<const Json* const> queues, const Capacity& cap) const override;

  /// The bucket of a level of `posted` descriptors.
  int bucket(uint64_t posted) const;
  /// Measured time spent in each bucket so far.
  const std::array<double, kBuckets>& time_in() const { return time_in_; }

 private:
  void change(double t, int64_t delta);

  double warmup_;
  uint32_t entries_;
  int64_t posted_ = 0;
  double since_ = 0;
  std::array<double, kBuckets> time_in_{};
};

}  // namespace vringsim
