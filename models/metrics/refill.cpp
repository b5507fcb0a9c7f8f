// Page allocations that failed while the guest refilled the ring, over the
// measured window (guest.refill_failures).
#include "sim/core/metric.hpp"
#include "sim/core/registry.hpp"

namespace vringsim {
namespace {

class RefillFailures : public Metric {
 public:
  explicit RefillFailures(const MetricContext& ctx) : warmup_(ctx.warmup_s) {}
  void attach(Signals& s) override {
    s.on<RefillFailed>().connect([this](const RefillFailed& e) {
      if (e.time >= warmup_) ++failures_;
    });
  }
  void write(Json& j, double) const override { j["guest"]["refill_failures"] = failures_; }

 private:
  double warmup_;
  uint64_t failures_ = 0;
};

const Registrar<MetricInfo> kRegisteredRefill{MetricInfo{
    "refill", "failed page allocations during refills", false,
    [](const MetricContext& ctx) { return std::make_unique<RefillFailures>(ctx); }}};

}  // namespace
}  // namespace vringsim
