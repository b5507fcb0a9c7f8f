#include "sim/core/ring_knee.hpp"

#include <algorithm>
#include <cmath>

#include "sim/core/cost_model.hpp"
#include "sim/core/settings.hpp"

namespace vringsim {

RingKnee ring_knee(const Config& cfg, double rate_pps, double descriptors_per_slot, double guest_utilization,
                   double host_utilization) {
  const CostModel c = CostModel::from(cfg);
  const LatencySettings l = LatencySettings::bindings().load(cfg);
  const DriverSettings d = DriverSettings::bindings().load(cfg);
  // The ring that keeps `trip` packets in flight under the refill rule: the
  // 2008 rule refills once half the ring is used (2 x trip); today's once
  // more than min(budget, size) / 2 slots are free (integer division), so
  // at the knee k = trip + floor(min(budget, k) / 2).
  auto slots_for = [&d](double trip) {
    if (d.refill_2008) return 2 * trip;
    const double budget = d.napi_budget;
    return 2 * trip <= budget ? 2 * trip : trip + std::floor(budget / 2);
  };
  RingKnee k;
  k.rate_pps = rate_pps;
  k.descriptors_per_slot = descriptors_per_slot;
  const bool halts = rate_pps > 0 && 1e9 / rate_pps > l.halt_poll_ns;
  const double ns = c.host_per_interrupt_ns + l.interrupt_ns + (halts ? l.vcpu_wakeup_ns : 0.0) +
                    c.guest_per_interrupt_ns + c.guest_per_poll_ns + c.guest_per_kick_ns + l.kick_ns +
                    l.backend_wakeup_ns + c.host_per_kick_ns;
  k.round_trip_s = ns * 1e-9;
  k.latency_slots = slots_for(rate_pps * k.round_trip_s);
  constexpr double kSaturated = 0.95, kShare = 0.01;
  if (guest_utilization >= kSaturated)
    k.cpu_round_s = (c.guest_per_interrupt_ns + c.guest_per_poll_ns + c.guest_per_kick_ns) * 1e-9;
  if (host_utilization >= kSaturated)
    k.cpu_round_s = std::max(k.cpu_round_s, (c.host_per_interrupt_ns + c.host_per_kick_ns) * 1e-9);
  if (k.cpu_round_s > 0) k.amortized_slots = slots_for(rate_pps * k.cpu_round_s / kShare);
  k.slots = std::max(k.latency_slots, k.amortized_slots);
  k.entries = k.slots * descriptors_per_slot;
  return k;
}

}  // namespace vringsim
