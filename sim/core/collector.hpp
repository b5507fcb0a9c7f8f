// The metrics collector: subscribes to the event stream and accumulates what
// summary.json reports (MODEL.md §5, CONTRACT.md "summary.json keys").
// Conservation counts cover the whole run; rates, means, latency and
// notification counts cover the measured window [warm-up, end].
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <vector>

#include "sim/core/events.hpp"
#include "sim/core/params.hpp"

namespace vringsim {

/// Latencies in constant memory: a log-linear histogram over nanoseconds,
/// exact below 2048 ns, and above within 1/2048 of the value (1024 buckets
/// per power of two). The maximum and the mean are kept exactly.
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

class Collector : public Observer {
 public:
  explicit Collector(double warmup_s) : warmup_(warmup_s) {}
  void on_event(const Event& e) override;

  /// Brings time-weighted integrals up to `end` (call once, after the last event).
  void finish(double end);

  // Live levels and counters, for the time series.
  uint64_t posted_bytes() const { return posted_bytes_; }
  int64_t tap_packets() const { return tap_level_; }
  uint64_t delivered_packets() const { return delivered_.packets; }
  uint64_t dropped_packets() const;
  uint64_t arrived_packets() const { return arrived_.packets; }
  uint64_t avail_chains() const { return avail_chains_; }

  struct Tally {
    uint64_t packets = 0;
    uint64_t bytes = 0;
  };
  Tally arrived() const { return arrived_; }
  Tally delivered() const { return delivered_; }
  Tally dropped() const;
  const std::array<Tally, kDropReasons>& drops() const { return drops_; }

  /// Every figure the run measured, as summary.json sections.
  Json summary(double end) const;

 private:
  bool measured(double t) const { return t >= warmup_; }
  void integrate_to(double t);
  double clip(double t) const { return t < warmup_ ? warmup_ : t; }
  static double clipped_span(double a, double b, double lo, double hi);

  double warmup_;
  double end_ = 0;

  Tally arrived_, delivered_;
  std::array<Tally, kDropReasons> drops_{};
  Tally m_arrived_, m_delivered_;  // measured window

  LatencyHistogram latency_;
  std::map<uint32_t, uint64_t> buffers_per_packet_;
  uint64_t m_bytes_written_ = 0;  // header + frame bytes written into buffers
  uint64_t m_buffer_bytes_used_ = 0;

  // Levels and their measured-window integrals.
  double level_time_ = 0;
  uint64_t posted_bytes_ = 0;
  uint64_t posted_peak_ = 0;
  double posted_integral_ = 0;
  uint64_t avail_chains_ = 0;
  double empty_time_ = 0;
  int64_t tap_level_ = 0;

  uint64_t kicks_ = 0, kicks_suppressed_ = 0, interrupts_ = 0;
  uint64_t stalls_ = 0;
  double stall_begin_ = -1;
  double stall_time_ = 0;
  /// Busy time of one CPU inside the measured window. Spans arrive in order
  /// of their start; counting only what lies past the latest end seen so far
  /// makes the total the union of the spans (overlaps count once).
  struct BusyUnion {
    double busy = 0, covered = 0;
    void add(double start, double end, double window_start) {
      busy += clipped_span(std::max(start, covered), end, window_start, 1e300);
      covered = std::max(covered, end);
    }
  };
  BusyUnion host_busy_, guest_busy_;
  uint64_t refill_failures_ = 0;
};

}  // namespace vringsim
