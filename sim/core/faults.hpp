// Fault injection (the `faults` scenario section): windows of trouble the
// host and guest go through, and a misbehaving guest that posts faulty
// descriptor chains. Plain C++: the actors ask the plan whether a fault is on;
// the recorder, an observer like any metric, measures drops and recovery.
//
// Windows of each kind start at the times given in `at_s` and at the events
// of a Poisson process of rate `rate_per_s` (from `start_s` on, each a fixed
// `duration_s` long, a new one never starting before the last has ended);
// drawn from the scenario seed, so the same seed gives the same windows.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "sim/core/config.hpp"
#include "sim/core/events.hpp"
#include "sim/core/params.hpp"
#include "sim/core/virtqueue.hpp"

namespace vringsim {

enum class FaultKind : uint8_t {
  AllocFailure,  ///< guest memory pressure: every receive-buffer allocation fails (refill retry path)
  BackendPause,  ///< the host backend thread is descheduled: it serves nothing
  VcpuStall,     ///< the guest vCPU is descheduled: no NAPI poll, no refill
  TapOverflow,   ///< the tap queue holds at most faults.tap_overflow.capacity_packets
};
inline constexpr int kFaultKinds = 4;
const char* fault_kind_name(FaultKind k);

struct FaultWindow {
  double start = 0;
  double end = 0;
};

class FaultPlan {
 public:
  static void declare(ParamTable& t);
  FaultPlan(const Config& cfg, uint64_t seed, double stop_time);
  /// No faults at all.
  FaultPlan() = default;

  const std::vector<FaultWindow>& windows(FaultKind k) const { return windows_[static_cast<int>(k)]; }
  bool configured(FaultKind k) const { return !windows(k).empty(); }
  /// The end of the window of kind `k` that holds `t`, if one does.
  std::optional<double> active(FaultKind k, double t) const;
  uint32_t tap_overflow_capacity() const { return tap_overflow_capacity_; }

  // A guest that posts faulty chains.
  double bad_chain_rate() const { return bad_chain_rate_; }
  const std::vector<ChainFault>& bad_chain_kinds() const { return bad_chain_kinds_; }

 private:
  std::array<std::vector<FaultWindow>, kFaultKinds> windows_;
  uint32_t tap_overflow_capacity_ = 0;
  double bad_chain_rate_ = 0;
  std::vector<ChainFault> bad_chain_kinds_;
};

/// Drops and recovery around each fault window (summary.json `faults.*`):
///   drops_during      frames dropped (any reason) while a window was open;
///   drops_recovering  frames dropped after it closed, until recovery;
///   recovery_s        from the window's end until the tap queue is back to
///                     its length when the window opened (alloc_failure: until
///                     the guest next posts buffers, "time to refill");
///   unrecovered       windows with no recovery before the next window or the
///                     end of the run.
class FaultRecorder : public Observer {
 public:
  explicit FaultRecorder(const FaultPlan& plan) : plan_(plan) {}
  void on_event(const Event& e) override;
  /// The `faults` section, for configured kinds only; call once at the end.
  Json summary(double end_time);

 private:
  enum class Phase { Before, During, Recovering, Done };
  struct Track {
    size_t window = 0;
    Phase phase = Phase::Before;
    int64_t start_level = 0;
    uint64_t drops_during = 0, drops_recovering = 0, refill_failures = 0, recovered = 0, unrecovered = 0;
    double recovery_sum = 0, recovery_max = 0;
  };
  void advance(Track& tr, FaultKind k, double t);
  void recover(Track& tr, FaultKind k, double at);
  bool recovered_now(const Track& tr, FaultKind k, const Event* e) const;

  const FaultPlan& plan_;
  std::array<Track, kFaultKinds> tracks_{};
  int64_t tap_level_ = 0;
};

}  // namespace vringsim
