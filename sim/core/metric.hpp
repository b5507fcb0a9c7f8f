// The metric plug-in interface (SST's statistics and ns-3's probes and
// collectors are the models): a metric names itself, subscribes to the event
// signals it needs, writes its own summary.json keys, and knows how the
// figures of several receive queues add up into the run's. The world makes
// one instance of every registered metric for the run, and with a topology
// one per guest and one per queue; it never names a metric.
//
// Adding a metric is one file pair in models/metrics/ (docs/developer.md,
// "Adding a metric"): nothing else changes.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "sim/core/events.hpp"
#include "sim/core/params.hpp"

namespace vringsim {

class FaultPlan;

/// What a metric instance is told when it is made.
struct MetricContext {
  double warmup_s = 0;        ///< rates, means and counts cover [warmup_s, end]
  uint32_t ring_entries = 0;  ///< descriptors in the rings this instance watches (ring size x queues)
  const FaultPlan* faults = nullptr;
};

/// Sizes a run-wide total is measured against, with a topology.
struct Capacity {
  uint32_t queues = 1;
  uint32_t host_cores = 1;
  uint32_t vcpus = 1;
};

class Metric {
 public:
  virtual ~Metric() = default;
  /// Connects to the signals of the scope it watches (the run, a guest's
  /// queues: called once per queue, or one queue).
  virtual void attach(Signals& signals) = 0;
  /// Brings time-weighted figures up to `end`; called once, after the last event.
  virtual void finish(double /*end*/) {}
  /// Writes its keys into a summary (the run's, a guest's or a queue's).
  virtual void write(Json& summary, double end) const = 0;
  /// With a topology: replaces, in the run's summary, the figures whose
  /// run-wide value is not what the merged event stream gives (a share of
  /// every core, a mean over rings), from the queues' summaries. Default:
  /// the run's own instance's figures stand.
  virtual void total_from_queues(Json& /*run*/, std::span<const Json* const> /*queues*/,
                                 const Capacity& /*cap*/) const {}
  /// Time-series columns this metric samples (run scope), and their values now.
  virtual std::vector<std::string> columns() const { return {}; }
  virtual void sample(std::vector<double>& /*row*/) const {}
};

struct MetricInfo {
  std::string name;
  std::string description;
  /// Only the run gets an instance (not each guest and queue).
  bool run_only = false;
  std::function<std::unique_ptr<Metric>(const MetricContext&)> create;
};

/// Share of `window` that `span` covers, capped at 1 (0 with no window).
inline double share_of(double span, double window) { return window > 0 ? std::min(1.0, span / window) : 0.0; }
/// The part of [a, b] inside [lo, hi].
inline double clipped_span(double a, double b, double lo, double hi) {
  const double s = std::max(a, lo), e = std::min(b, hi);
  return e > s ? e - s : 0.0;
}

}  // namespace vringsim
