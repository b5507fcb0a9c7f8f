// Drops and recovery around each fault window (summary.json `faults.*`, for
// the configured kinds only):
//   drops_during      frames dropped (any reason) while a window was open;
//   drops_recovering  frames dropped after it closed, until recovery;
//   recovery_s        from the window's end until the tap queue is back to
//                     its length when the window opened (alloc_failure: until
//                     the guest next posts buffers, "time to refill");
//   unrecovered       windows with no recovery before the next window or the
//                     end of the run.
#include <algorithm>
#include <array>

#include "sim/core/faults.hpp"
#include "sim/core/metric.hpp"
#include "sim/core/registry.hpp"

namespace vringsim {
namespace {

class FaultRecovery : public Metric {
 public:
  explicit FaultRecovery(const MetricContext& ctx) : plan_(*ctx.faults) {}
  void attach(Signals& s) override {
    bool any = false;
    for (int k = 0; k < kFaultKinds; ++k) any |= plan_.configured(static_cast<FaultKind>(k));
    if (!any) return;  // nothing to watch: subscribe to nothing, cost nothing
    s.on_time().connect([this](double t) {
      for (int k = 0; k < kFaultKinds; ++k)
        if (plan_.configured(static_cast<FaultKind>(k))) advance(tracks_[k], static_cast<FaultKind>(k), t);
    });
    s.on<FrameArrived>().connect([this](const FrameArrived& e) { tap_changed(+1, e.time, 0); });
    s.on<FrameDropped>().connect([this](const FrameDropped& e) { tap_changed(-1, e.time, 1); });
    // Frames that arrived and were dropped at once: counted in the phase at
    // the run's first. A device publishes no runs while fault windows are
    // configured (a recovery between two of its frames would move the rest
    // out of the phase), so this is for other emitters.
    s.on<FramesDropped>().connect([this](const FramesDropped& e) { tap_changed(0, e.time, e.count); });
    s.on<BuffersTaken>().connect([this](const BuffersTaken& e) { tap_changed(-1, e.time, 0); });
    s.on<RefillFailed>().connect([this](const RefillFailed&) {
      Track& tr = tracks_[static_cast<int>(FaultKind::AllocFailure)];
      if (plan_.configured(FaultKind::AllocFailure) && tr.phase == Phase::During) ++tr.refill_failures;
    });
    s.on<BuffersPosted>().connect([this](const BuffersPosted& e) {  // the guest refilled: time to refill ends
      Track& tr = tracks_[static_cast<int>(FaultKind::AllocFailure)];
      if (plan_.configured(FaultKind::AllocFailure) && tr.phase == Phase::Recovering)
        recover(tr, FaultKind::AllocFailure, e.time);
    });
  }
  void finish(double end) override {
    for (int k = 0; k < kFaultKinds; ++k) {
      const auto kind = static_cast<FaultKind>(k);
      if (!plan_.configured(kind)) continue;
      Track& tr = tracks_[k];
      advance(tr, kind, end);
      if (tr.phase == Phase::During || tr.phase == Phase::Recovering) ++tr.unrecovered;
    }
  }
  void write(Json& summary, double end) const override {
    Json j = Json::object();
    for (int k = 0; k < kFaultKinds; ++k) {
      const auto kind = static_cast<FaultKind>(k);
      if (!plan_.configured(kind)) continue;
      const Track& tr = tracks_[k];
      uint64_t n = 0;
      double time = 0;
      for (const FaultWindow& w : plan_.windows(kind))
        if (w.start < end) {
          ++n;
          time += std::min(w.end, end) - w.start;
        }
      const bool alloc = kind == FaultKind::AllocFailure;
      Json s{{"windows", n},
             {"time_s", time},
             {"drops_during", tr.drops_during},
             {"drops_recovering", tr.drops_recovering},
             {"recovered", tr.recovered},
             {"unrecovered", tr.unrecovered}};
      const double mean = tr.recovered ? tr.recovery_sum / static_cast<double>(tr.recovered) : 0.0;
      s[alloc ? "time_to_refill_s_mean" : "recovery_s_mean"] = mean;
      s[alloc ? "time_to_refill_s_max" : "recovery_s_max"] = tr.recovery_max;
      if (alloc) s["refill_failures"] = tr.refill_failures;
      j[fault_kind_name(kind)] = std::move(s);
    }
    if (!j.empty()) summary["faults"] = std::move(j);
  }

 private:
  enum class Phase { Before, During, Recovering, Done };
  struct Track {
    size_t window = 0;
    Phase phase = Phase::Before;
    int64_t start_level = 0;
    uint64_t drops_during = 0, drops_recovering = 0, refill_failures = 0, recovered = 0, unrecovered = 0;
    double recovery_sum = 0, recovery_max = 0;
  };

  /// The tap queue's length changed (a frame arrived, was dropped or taken);
  /// `drops` frames were dropped.
  void tap_changed(int delta, double t, uint64_t drops) {
    tap_level_ += delta;
    for (int k = 0; k < kFaultKinds; ++k) {
      const auto kind = static_cast<FaultKind>(k);
      if (!plan_.configured(kind)) continue;
      Track& tr = tracks_[k];
      if (tr.phase == Phase::During) tr.drops_during += drops;
      if (tr.phase == Phase::Recovering) tr.drops_recovering += drops;
      if (kind != FaultKind::AllocFailure && tr.phase == Phase::Recovering && tap_level_ <= tr.start_level)
        recover(tr, kind, t);
    }
  }
  void recover(Track& tr, FaultKind k, double at) {
    const double r = at - plan_.windows(k)[tr.window].end;
    tr.recovery_sum += r;
    tr.recovery_max = std::max(tr.recovery_max, r);
    ++tr.recovered;
    ++tr.window;
    tr.phase = tr.window < plan_.windows(k).size() ? Phase::Before : Phase::Done;
  }
  void advance(Track& tr, FaultKind k, double t) {
    const auto& w = plan_.windows(k);
    while (tr.phase != Phase::Done) {
      const FaultWindow& cur = w[tr.window];
      if (tr.phase == Phase::Before) {
        if (t < cur.start) return;
        tr.phase = Phase::During;
        tr.start_level = tap_level_;
      } else if (tr.phase == Phase::During) {
        if (t < cur.end) return;
        tr.phase = Phase::Recovering;
        // the tap may already be back (alloc_failure waits for a refill)
        if (k != FaultKind::AllocFailure && tap_level_ <= tr.start_level) recover(tr, k, cur.end);
      } else {  // Recovering
        if (tr.window + 1 >= w.size() || t < w[tr.window + 1].start) return;
        ++tr.unrecovered;  // the next window opens first
        ++tr.window;
        tr.phase = Phase::Before;
      }
    }
  }

  const FaultPlan& plan_;
  std::array<Track, kFaultKinds> tracks_{};
  int64_t tap_level_ = 0;
};

const Registrar<MetricInfo> kRegisteredFaults{MetricInfo{
    "faults", "drops and recovery around each configured fault window (faults.*)", true,
    [](const MetricContext& ctx) { return std::make_unique<FaultRecovery>(ctx); }}};

}  // namespace
}  // namespace vringsim
