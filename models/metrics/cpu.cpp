// CPU utilisation of the host and the guest over the measured window. A
// queue's busy spans count once where they overlap; with several queues the
// run's figure is their sum over the capacity (every backend core, every vCPU).
#include "sim/core/metric.hpp"
#include "sim/core/registry.hpp"

namespace vringsim {
namespace {

/// Busy time of one CPU inside the measured window. Spans arrive in order of
/// their start; counting only what lies past the latest end seen so far
/// makes the total the union of the spans (overlaps count once).
struct BusyUnion {
  double busy = 0, covered = 0;
  void add(double start, double end, double window_start) {
    busy += clipped_span(std::max(start, covered), end, window_start, 1e300);
    covered = std::max(covered, end);
  }
};

class CpuUtilization : public Metric {
 public:
  explicit CpuUtilization(const MetricContext& ctx) : warmup_(ctx.warmup_s) {}
  void attach(Signals& s) override {
    s.on<CpuBusy>().connect([this](const CpuBusy& e) {
      (e.cpu == Cpu::Host ? host_ : guest_).add(e.time, e.until, warmup_);
    });
  }
  void write(Json& j, double end) const override {
    // Busy spans may run past the end (a burst in progress): capping at the
    // window bounds the one span in progress.
    const double window = std::max(0.0, end - warmup_);
    j["cpu"]["host_utilization"] = share_of(host_.busy, window);
    j["cpu"]["guest_utilization"] = share_of(guest_.busy, window);
  }
  void total_from_queues(Json& run, std::span<const Json* const> queues, const Capacity& cap) const override {
    // Shares of every backend core and every vCPU (per-queue spans are each
    // clipped to the window, so the sum may pass the capacity by a hair).
    double host = 0, guest = 0;
    for (const Json* q : queues) {
      host += (*q)["cpu"]["host_utilization"].get<double>();
      guest += (*q)["cpu"]["guest_utilization"].get<double>();
    }
    run["cpu"]["host_utilization"] = std::min(1.0, host / cap.host_cores);
    run["cpu"]["guest_utilization"] = std::min(1.0, guest / cap.vcpus);
  }

 private:
  double warmup_;
  BusyUnion host_, guest_;
};

const Registrar<MetricInfo> kRegisteredCpu{MetricInfo{
    "cpu", "host and guest CPU utilisation", false,
    [](const MetricContext& ctx) { return std::make_unique<CpuUtilization>(ctx); }}};

}  // namespace
}  // namespace vringsim
