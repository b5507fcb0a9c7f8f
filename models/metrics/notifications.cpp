// Kicks (and refills that skipped one because the host suppressed it) and
// interrupts, over the measured window, and each per delivered packet: what
// the flags and the event index (RING_EVENT_IDX) are compared by
// (notifications.*).
#include "sim/core/metric.hpp"
#include "sim/core/registry.hpp"

namespace vringsim {
namespace {

class Notifications : public Metric {
 public:
  explicit Notifications(const MetricContext& ctx) : warmup_(ctx.warmup_s) {}
  void attach(Signals& s) override {
    s.on<KickDecided>().connect([this](const KickDecided& e) {
      if (e.time >= warmup_) ++(e.notified ? kicks_ : suppressed_);
    });
    s.on<InterruptRaised>().connect([this](const InterruptRaised& e) {
      if (e.time >= warmup_) ++interrupts_;
    });
    s.on<FrameDelivered>().connect([this](const FrameDelivered& e) {
      if (e.time >= warmup_) ++delivered_;
    });
  }
  void write(Json& j, double) const override {
    j["notifications"]["kicks"] = kicks_;
    j["notifications"]["kicks_suppressed"] = suppressed_;
    j["notifications"]["interrupts"] = interrupts_;
    // Per delivered packet; 0 when nothing was delivered (measure.valid says why).
    auto per = [this](uint64_t n) { return delivered_ ? static_cast<double>(n) / static_cast<double>(delivered_) : 0.0; };
    j["notifications"]["kicks_per_packet"] = per(kicks_);
    j["notifications"]["interrupts_per_packet"] = per(interrupts_);
  }

 private:
  double warmup_;
  uint64_t kicks_ = 0, suppressed_ = 0, interrupts_ = 0, delivered_ = 0;
};

const Registrar<MetricInfo> kRegisteredNotifications{MetricInfo{
    "notifications", "kicks, suppressed kicks and interrupts", false,
    [](const MetricContext& ctx) { return std::make_unique<Notifications>(ctx); }}};

}  // namespace
}  // namespace vringsim
