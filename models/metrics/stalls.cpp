// Host stalls: times the device had a frame and no usable buffer, and the
// measured time it spent waiting for a kick (host.stalls, host.stall_time_s).
// Several queues' stalls add up.
#include "sim/core/metric.hpp"
#include "sim/core/registry.hpp"

namespace vringsim {
namespace {

class Stalls : public Metric {
 public:
  explicit Stalls(const MetricContext& ctx) : warmup_(ctx.warmup_s) {}
  void attach(Signals& s) override {
    s.on<StallBegan>().connect([this](const StallBegan& e) {
      if (e.time >= warmup_) ++stalls_;
      begin_ = e.time;
    });
    s.on<StallEnded>().connect([this](const StallEnded& e) {
      if (begin_ >= 0) time_ += clipped_span(begin_, e.time, warmup_, e.time);
      begin_ = -1;
    });
  }
  void finish(double end) override {
    if (begin_ >= 0) time_ += clipped_span(begin_, end, warmup_, end);  // still stalled at the end
    begin_ = -1;
  }
  void write(Json& j, double) const override {
    j["host"]["stalls"] = stalls_;
    j["host"]["stall_time_s"] = time_;
  }
  void total_from_queues(Json& run, std::span<const Json* const> queues, const Capacity&) const override {
    uint64_t stalls = 0;
    double time = 0;
    for (const Json* q : queues) {
      stalls += (*q)["host"]["stalls"].get<uint64_t>();
      time += (*q)["host"]["stall_time_s"].get<double>();
    }
    run["host"]["stalls"] = stalls;
    run["host"]["stall_time_s"] = time;
  }

 private:
  double warmup_;
  uint64_t stalls_ = 0;
  double begin_ = -1, time_ = 0;
};

const Registrar<MetricInfo> kRegisteredStalls{MetricInfo{
    "stalls", "host stalls for want of a buffer, and the time spent waiting for a kick", false,
    [](const MetricContext& ctx) { return std::make_unique<Stalls>(ctx); }}};

}  // namespace
}  // namespace vringsim
