// The ring size below which the device starves (docs/model.md §4b): while a
// notification makes its round trip (the guest learns of used buffers, polls,
// refills and kicks a device that waits) the device keeps using buffers, so
// the ring must hold the packets of one round trip (Little's law) beyond
// those the driver lets drain before it refills.
#pragma once

#include "sim/core/config.hpp"

namespace vringsim {

struct RingKnee {
  double rate_pps = 0;               ///< packets per second the ring carries
  double round_trip_s = 0;           ///< the notification round trip
  double latency_slots = 0;          ///< the ring that covers one round trip (the starving knee)
  /// A saturated CPU (utilisation >= 0.95) also pays each round's fixed
  /// cost (interrupt, poll and kick on the guest; interrupt and kick on
  /// the host): it is under 1% of the round's packets' cost once a round
  /// carries 100 x rate x that cost.
  double cpu_round_s = 0;            ///< the saturated side's CPU per round (0: none saturated)
  double amortized_slots = 0;        ///< the ring whose rounds carry that many
  double slots = 0;                  ///< the larger of the two
  double descriptors_per_slot = 1;   ///< ring entries one packet's chain takes
  double entries = 0;                ///< slots x descriptors_per_slot
};

/// The knee for a scenario's settings (costs, latencies, refill rule) at
/// `rate_pps` with chains of `descriptors_per_slot` entries. The round
/// trip: the host injects an interrupt (costs.host.per_interrupt_ns), it
/// reaches the guest (latency.interrupt_ns, plus latency.vcpu_wakeup_ns if
/// the vCPU halts between packets: mean gap > host.halt_poll_ns), the
/// guest takes it and polls (costs.guest.per_interrupt_ns, per_poll_ns),
/// kicks (costs.guest.per_kick_ns), the kick reaches a sleeping device
/// (latency.kick_ns, latency.backend_wakeup_ns) and the device handles it
/// (costs.host.per_kick_ns). The 2008 rule refills once half the ring is
/// used (slots = 2 x rate x round trip); today's once more than
/// min(budget, size) / 2 slots are free.
/// `guest_utilization`, `host_utilization`: of the run that measured the rate.
RingKnee ring_knee(const Config& cfg, double rate_pps, double descriptors_per_slot, double guest_utilization = 0,
                   double host_utilization = 0);

}  // namespace vringsim
