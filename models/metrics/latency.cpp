// Packet latency from arrival at the host to delivery to the guest stack,
// over the measured window: p50, p90, p99, p99.9, max and mean, in microseconds.
#include "sim/core/latency_histogram.hpp"
#include "sim/core/metric.hpp"
#include "sim/core/registry.hpp"

namespace vringsim {
namespace {

class Latency : public Metric {
 public:
  explicit Latency(const MetricContext& ctx) : warmup_(ctx.warmup_s) {}
  void attach(Signals& s) override {
    s.on<FrameDelivered>().connect([this](const FrameDelivered& e) {
      if (e.time >= warmup_) histogram_.add(e.time - e.arrival_s);
    });
  }
  void write(Json& j, double) const override {
    j["latency_us"]["p50"] = histogram_.percentile_us(50);
    j["latency_us"]["p90"] = histogram_.percentile_us(90);
    j["latency_us"]["p99"] = histogram_.percentile_us(99);
    j["latency_us"]["p99_9"] = histogram_.percentile_us(99.9);
    j["latency_us"]["max"] = histogram_.max_us();
    j["latency_us"]["mean"] = histogram_.mean_us();
  }

 private:
  double warmup_;
  LatencyHistogram histogram_;
};

const Registrar<MetricInfo> kRegisteredLatency{MetricInfo{
    "latency", "arrival-to-delivery latency percentiles (latency_us.*)", false,
    [](const MetricContext& ctx) { return std::make_unique<Latency>(ctx); }}};

}  // namespace
}  // namespace vringsim
