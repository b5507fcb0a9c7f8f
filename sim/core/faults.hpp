// Fault injection (the `faults` scenario section): windows of trouble the
// host and guest go through, and a misbehaving guest that posts faulty
// descriptor chains. Plain C++: the actors ask the plan whether a fault is on;
// a metric (models/metrics/faults.cpp) measures drops and recovery.
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

#include "sim/core/bindings.hpp"
#include "sim/core/config.hpp"
#include "sim/core/params.hpp"
#include "sim/core/vring_types.hpp"
#include "sim/engine/sim_time.hpp"

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

/// The fault section's settings that are not per window kind.
struct FaultSettings {
  uint32_t tap_overflow_capacity = 0;
  double bad_chain_rate = 0;
  std::string bad_chain_kinds = "all";
  static const Bindings<FaultSettings>& bindings();
  bool operator==(const FaultSettings&) const = default;
};

class FaultPlan {
 public:
  static void declare(ParamTable& t);
  /// `packed_ring`: the faults "all" names are those a packed ring can take
  /// (packed_fault_injectable); a list naming others is kept as it is (the
  /// scenario check refuses it).
  FaultPlan(const Config& cfg, uint64_t seed, double stop_time, bool packed_ring = false);
  /// No faults at all.
  FaultPlan() = default;

  const std::vector<FaultWindow>& windows(FaultKind k) const { return windows_[static_cast<int>(k)]; }
  bool configured(FaultKind k) const { return !windows(k).empty(); }
  /// The end of the window of kind `k` that holds `t`, if one does. Asked
  /// per arrival and per poll: with no window of that kind it costs a test
  /// here (the search is out of line).
  std::optional<double> active(FaultKind k, double t) const {
    if (windows(k).empty()) return std::nullopt;
    return active_in(windows(k), t);
  }
  /// The same at an instant of the run's clock: the window's end there
  /// (rounded up, sim_time.hpp: a window never ends before its end).
  std::optional<SimTime> active_at(FaultKind k, SimTime t) const {
    if (windows(k).empty()) return std::nullopt;
    const auto end = active_in(windows(k), seconds(t));
    if (!end) return std::nullopt;
    return to_sim_time(*end);
  }
  uint32_t tap_overflow_capacity() const { return tap_overflow_capacity_; }

  // A guest that posts faulty chains.
  double bad_chain_rate() const { return bad_chain_rate_; }
  const std::vector<ChainFault>& bad_chain_kinds() const { return bad_chain_kinds_; }

 private:
  static std::optional<double> active_in(const std::vector<FaultWindow>& w, double t);
  std::array<std::vector<FaultWindow>, kFaultKinds> windows_;
  uint32_t tap_overflow_capacity_ = 0;
  double bad_chain_rate_ = 0;
  std::vector<ChainFault> bad_chain_kinds_;
};

}  // namespace vringsim
