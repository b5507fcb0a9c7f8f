// What one receive queue's device and driver publish: each event stamped
// with the queue's global index and put on the run's bus (sim/core/events.hpp),
// which hands it to the metrics, reports and trace in time order. Kept apart
// from Shared (shared.hpp), which is what the two sides share of the queue
// itself: the ring, the data written into its buffers, the used entries
// not yet published and the doorbell.
#pragma once

#include <cstdint>

#include "sim/core/events.hpp"
#include "sim/engine/run_state.hpp"

namespace vringsim {

class QueueEvents {
 public:
  QueueEvents(RunState& run, uint32_t queue) : run_(run), queue_(queue) {}
  /// Publishes an event of this queue.
  template <class E>
  void emit(E e) {
    e.queue = queue_;
    run_.bus.emit(e);
  }
  /// Publishes a CPU busy span from `start` to `end`.
  void emit_busy(Cpu cpu, SimTime start, SimTime end) {
    emit(CpuBusy{.time = seconds(start), .queue = queue_, .cpu = cpu, .start = start, .end = end});
  }

 private:
  RunState& run_;
  uint32_t queue_;
};

}  // namespace vringsim
