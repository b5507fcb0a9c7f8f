// CPU utilisation of the host and the guest over the measured window. A
// queue's busy spans count once where they overlap; with several queues the
// run's figure is their sum over the capacity (every backend core, every vCPU).
#include "sim/core/metric.hpp"
#include "sim/core/registry.hpp"
#include "sim/core/span_union.hpp"
#include "sim/engine/sim_time.hpp"

#include <algorithm>

namespace vringsim {
namespace {

class CpuUtilization : public Metric {
 public:
  explicit CpuUtilization(const MetricContext& ctx)
      : warmup_(to_sim_time(ctx.warmup_s)), host_(warmup_), guest_(warmup_) {}
  void attach(Signals& s) override {
    // Summed as the actors publish them: a union is the same in any order.
    s.on<CpuBusy>().connect_unordered(
        [this, &s](const CpuBusy& e) { (e.cpu == Cpu::Host ? host_ : guest_).add(e.start, e.end, s.settled()); });
  }
  void write(Json& j, double end) const override {
    // Busy spans may run past the end (a burst in progress): capping at the
    // window bounds the one span in progress.
    const double window = static_cast<double>(std::max<SimTime>(0, to_sim_time(end) - warmup_));
    j["cpu"]["host_utilization"] = share_of(static_cast<double>(host_.busy()), window);
    j["cpu"]["guest_utilization"] = share_of(static_cast<double>(guest_.busy()), window);
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
  SimTime warmup_;
  SpanUnion host_, guest_;  ///< busy spans from the warm-up on, exact in nanoseconds
};

const Registrar<MetricInfo> kRegisteredCpu{MetricInfo{
    "cpu", "host and guest CPU utilisation", false,
    [](const MetricContext& ctx) { return std::make_unique<CpuUtilization>(ctx); }}};

}  // namespace
}  // namespace vringsim
