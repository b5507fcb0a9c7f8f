// Guest vCPU halts: an interrupt that finds the vCPU idle for longer than
// host.halt_poll_ns finds it halted, and the wake-up (latency.vcpu_wakeup_ns)
// is paid before the guest runs (guest.halts, guest.halted_s,
// guest.wakeup_s). A halt is counted when an interrupt ends it, in the
// measured window; the halted time is the part of [halt, interrupt] inside
// it. Idle periods that a refill timer ends are not counted.
#include "sim/core/metric.hpp"
#include "sim/core/registry.hpp"

namespace vringsim {
namespace {

class Halts : public Metric {
 public:
  explicit Halts(const MetricContext& ctx) : warmup_(ctx.warmup_s) {}
  void attach(Signals& s) override {
    s.on<InterruptRaised>().connect([this](const InterruptRaised& e) {
      if (e.vcpu_halted_s <= 0) return;
      if (e.time >= warmup_) {
        ++halts_;
        wakeup_s_ += e.wakeup_s;
      }
      halted_s_ += clipped_span(e.time - e.vcpu_halted_s, e.time, warmup_, e.time);
    });
  }
  void write(Json& j, double) const override {
    j["guest"]["halts"] = halts_;
    j["guest"]["halted_s"] = halted_s_;
    j["guest"]["wakeup_s"] = wakeup_s_;
  }

 private:
  double warmup_;
  uint64_t halts_ = 0;
  double halted_s_ = 0, wakeup_s_ = 0;
};

const Registrar<MetricInfo> kRegisteredHalts{MetricInfo{
    "halts", "guest vCPU halts: interrupts that found it halted, the time halted and the wake-ups paid", false,
    [](const MetricContext& ctx) { return std::make_unique<Halts>(ctx); }}};

}  // namespace
}  // namespace vringsim
